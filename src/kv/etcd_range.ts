import { binaryString } from "./binary.js";
import type { KeySpan } from "./key_span.js";
import type { KeyValue } from "./key_value.js";
import type { StoredKv } from "./stored_kv.js";
import { toKeyValue } from "./stored_kv.js";

/*
 * etcd's Range (its RangeRequest, applied as etcd's server does): the keys an etcd key/range_end pair
 * names, which of them a request keeps, in which order, and how many.
 */

/** What a Range orders by; etcd's SortTarget. */
export type SortTarget = "key" | "version" | "create" | "mod" | "value";
/** etcd's SortOrder. */
export type SortOrder = "none" | "ascend" | "descend";

/**
 * etcd's RangeRequest. Every number is a non-negative safe integer; 0 (or absent) means "no bound", as
 * in etcd. `revision` 0 reads the current state; a past one is served by the member's history
 * (src/coord/history_range.ts), never by the state machine.
 */
export interface RangeRequest {
  readonly key: Uint8Array;
  /** Absent or empty: the one key; a single zero byte: every key ≥ key; otherwise keys in [key, rangeEnd). */
  readonly rangeEnd?: Uint8Array;
  readonly limit?: number;
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

/**
 * etcd's RangeResponse body: `count` is the number of keys in the whole range (before the revision
 * filters and the limit, as etcd counts), `more` whether the limit cut off keys that passed the filters.
 */
export interface RangeAnswer {
  readonly kvs: readonly KeyValue[];
  readonly more: boolean;
  readonly count: number;
}

/** The keys an etcd key/range_end pair names, as binary strings; empty when `to` ≤ `from`. */
export function etcdSpan(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeySpan {
  const from = binaryString(key);
  if (rangeEnd === undefined || rangeEnd.length === 0) return { from, to: from + "\u0000" };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { from, to: undefined };
  return { from, to: binaryString(rangeEnd) };
}

export function isEmptySpan(span: KeySpan): boolean {
  return span.to !== undefined && span.to <= span.from;
}

/** Whether the span holds exactly one key (a Map lookup answers it). */
export function isOneKey(span: KeySpan): boolean {
  return span.to !== undefined && span.to.length === span.from.length + 1 && span.to === span.from + "\u0000";
}

/** Whether the request takes its answer straight from the key order: no filter and no reordering. */
export function inKeyOrder(request: RangeRequest): boolean {
  return (
    effectiveOrder(request) === "none" &&
    !request.minModRevision &&
    !request.maxModRevision &&
    !request.minCreateRevision &&
    !request.maxCreateRevision
  );
}

/**
 * etcd's rule: with no order given, a target other than the key sorts ascending; ascending by key is
 * the order the keys are already in.
 */
function effectiveOrder(request: RangeRequest): SortOrder {
  const order = request.sortOrder ?? "none";
  const target = request.sortTarget ?? "key";
  if (target !== "key" && order === "none") return "ascend";
  if (target === "key" && order === "ascend") return "none";
  return order;
}

/** A key's state in a range being answered: its key and stored form. */
export interface RangeEntry {
  readonly key: string;
  readonly kv: StoredKv;
}

/**
 * The answer to `request` over `entries`, every key of its range in ascending key order. etcd filters
 * by revision, sorts the whole range, then limits; sorts are stable here, so keys that tie keep
 * ascending key order (etcd's sort is not stable, so its order among ties is unspecified).
 */
export function answerRange(request: RangeRequest, entries: readonly RangeEntry[]): RangeAnswer {
  const count = entries.length;
  if (request.countOnly === true) return { kvs: [], more: false, count };
  const { minModRevision, maxModRevision, minCreateRevision, maxCreateRevision } = request;
  let kept = entries.filter(
    ({ kv }) =>
      !(maxModRevision && kv.modRevision > maxModRevision) &&
      !(minModRevision && kv.modRevision < minModRevision) &&
      !(maxCreateRevision && kv.createRevision > maxCreateRevision) &&
      !(minCreateRevision && kv.createRevision < minCreateRevision),
  );
  const order = effectiveOrder(request);
  if (order !== "none") {
    const compare = comparator(request.sortTarget ?? "key");
    kept = order === "ascend" ? kept.sort(compare) : kept.sort((a, b) => compare(b, a));
  }
  const limit = request.limit ?? 0;
  const more = limit > 0 && kept.length > limit;
  if (more) kept = kept.slice(0, limit);
  return { kvs: kept.map((entry) => publicKv(request, entry)), more, count };
}

/** The public form of an entry, without its value for a keys-only request. */
export function publicKv(request: RangeRequest, { key, kv }: RangeEntry): KeyValue {
  return toKeyValue(key, request.keysOnly === true ? { ...kv, value: "" } : kv);
}

type Compare = (a: RangeEntry, b: RangeEntry) => number;

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function comparator(target: SortTarget): Compare {
  switch (target) {
    case "key":
      return (a, b) => byString(a.key, b.key);
    case "value":
      return (a, b) => byString(a.kv.value, b.kv.value);
    case "version":
      return (a, b) => a.kv.version - b.kv.version;
    case "create":
      return (a, b) => a.kv.createRevision - b.kv.createRevision;
    case "mod":
      return (a, b) => a.kv.modRevision - b.kv.modRevision;
  }
}
