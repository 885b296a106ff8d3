/** raftkv's watch events as etcd's mvccpb.Event, and a watch's key range from etcd's key/range_end pair. */
import type { WatchRange } from "../coord/index.js";
import { etcdSpan, rangeSpan, type KeySpan, type KvEvent, type StoredKv } from "../kv/index.js";
import { EventEventType, type Event, type KeyValue } from "./messages/records.js";

/** A binary string (one char per byte, as the store keys) as bytes. */
function bytesOf(text: string): Uint8Array {
  return Buffer.from(text, "latin1");
}

function keyValue(key: Uint8Array, kv: StoredKv): KeyValue {
  return {
    key,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    value: bytesOf(kv.value),
    lease: kv.lease,
  };
}

/** What a watch keeps of each event: etcd's NOPUT and NODELETE filters, and whether it shows the previous key-value. */
export interface EventOptions {
  readonly prevKv: boolean;
  readonly noPut: boolean;
  readonly noDelete: boolean;
}

/** The events a watch shows, in order; empty when its filters drop them all (etcd then sends nothing). */
export function etcdEvents(events: readonly KvEvent[], options: EventOptions): Event[] {
  const shown: Event[] = [];
  for (const event of events) {
    if (event.type === "put" ? options.noPut : options.noDelete) continue;
    const key = bytesOf(event.key);
    const kv = keyValue(key, event.kv);
    const type = event.type === "put" ? EventEventType.Put : EventEventType.Delete;
    shown.push(
      options.prevKv && event.prev !== undefined ? { type, kv, prevKv: keyValue(key, event.prev) } : { type, kv },
    );
  }
  return shown;
}

/**
 * The keys an etcd watch covers, as etcd reads its pair: an empty key is "\0" (the smallest key),
 * an empty range_end one key, range_end "\0" every key from key on, else [key, range_end); the
 * prefix form clients send (range_end = key with its last byte plus one) is a prefix watch, which
 * the hub finds by the key's prefixes. With it the keys as a span, which the caller must be allowed
 * to read. Undefined when the range is empty (etcd refuses it).
 */
export function watchRangeOf(
  key: Uint8Array,
  rangeEnd: Uint8Array,
): { readonly range: WatchRange; readonly span: KeySpan } | undefined {
  const start = key.length === 0 ? Uint8Array.of(0) : key;
  const span = etcdSpan(start, rangeEnd);
  if (rangeEnd.length === 0) return { range: { key: span.from }, span };
  if (span.to === undefined) return { range: key.length === 0 ? { prefix: "" } : { from: span.from }, span };
  if (span.to <= span.from) return undefined;
  // [key, rangeEnd) is the prefix `key` when rangeEnd is the key's prefix end (etcd's GetPrefixRangeEnd).
  const isPrefix = key.length > 0 && rangeSpan({ prefix: key }).to === span.to;
  return { range: isPrefix ? { prefix: span.from } : { from: span.from, to: span.to }, span };
}
