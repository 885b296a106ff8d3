/**
 * An in-memory stand-in for what the lock and election recipes use of a client (queue.ts's
 * CoordinationClient): a store with revisions, leases whose revoke deletes their keys at one
 * revision, and watches replaying history from any revision. Keys are compared as text. Not the
 * server: just enough to run the recipes' logic alone, and to see which keys they watch.
 */
import { RaftkvError } from "./errors.js";
import type { KeepAlive, KeepAliveEnd } from "./keep_alive.js";
import type { CoordinationClient } from "./queue.js";
import type {
  Bytes,
  KeyValue,
  Lease,
  LeaseRevokeResult,
  RangeResult,
  RangeSelector,
  TxnOpResult,
  TxnRequest,
  TxnResult,
  Watch,
  WatchEvent,
  WatchMessage,
  WatchOptions,
  WatchSelector,
} from "./types.js";

const text = (bytes: Bytes): string => (typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes));
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

function keyValue(key: string, value: string, fields: Omit<KeyValue, "key" | "keyText" | "value" | "text">): KeyValue {
  return { key: encode(key), keyText: key, value: encode(value), text: value, ...fields };
}

function covers(selector: WatchSelector | RangeSelector, key: string): boolean {
  if ("key" in selector) return key === text(selector.key);
  if ("prefix" in selector) return key.startsWith(text(selector.prefix));
  return key >= text(selector.from) && (selector.to === undefined || key < text(selector.to));
}

export class MemoryCoordination implements CoordinationClient {
  revision = 0;
  readonly kvs = new Map<string, KeyValue>();
  /** Every watch opened: its selector, as the key or prefix text. */
  readonly watched: string[] = [];
  readonly #history: { revision: number; events: WatchEvent[] }[] = [];
  readonly #listeners = new Set<(revision: number, events: WatchEvent[]) => void>();
  readonly #leases = new Map<number, { ttl: number; lost: (end: KeepAliveEnd) => void }>();
  #leaseLast = 100;

  txn(request: TxnRequest): Promise<TxnResult> {
    const holds = request.compare.every((c) => {
      const kv = this.kvs.get(text(c.key));
      return (
        (c.modRevision === undefined || (kv?.modRevision ?? 0) === c.modRevision) &&
        (c.value === undefined || (kv !== undefined && kv.text === text(c.value)))
      );
    });
    const events: WatchEvent[] = [];
    const responses = (holds ? (request.success ?? []) : (request.failure ?? [])).map((op): TxnOpResult => {
      const key = text(op.key);
      const before = this.kvs.get(key);
      if (op.type === "get") return { type: "get", kv: before };
      if (op.type === "delete") {
        if (before !== undefined) events.push(this.#delete(key, this.revision + 1));
        return { type: "delete", deleted: before !== undefined };
      }
      const kv = keyValue(key, text(op.value), {
        createRevision: before?.createRevision ?? this.revision + 1,
        modRevision: this.revision + 1,
        version: (before?.version ?? 0) + 1,
        lease: op.lease ?? 0,
      });
      this.kvs.set(key, kv);
      events.push({ type: "put", kv, prevKv: before });
      return { type: "put", revision: this.revision + 1 };
    });
    this.#commit(events);
    return Promise.resolve({ succeeded: holds, revision: this.revision, responses });
  }

  range(selector: RangeSelector, options: { limit?: number }): Promise<RangeResult> {
    const all = [...this.kvs.values()].filter((kv) => covers(selector, kv.keyText));
    all.sort((a, b) => (a.keyText < b.keyText ? -1 : 1));
    const limit = options.limit ?? 1000;
    return Promise.resolve({ kvs: all.slice(0, limit), more: all.length > limit, revision: this.revision });
  }

  leaseGrant(ttl: number): Promise<Lease> {
    const id = ++this.#leaseLast;
    this.#leases.set(id, { ttl, lost: () => undefined });
    return Promise.resolve({ id, ttl });
  }

  leaseRevoke(id: number): Promise<LeaseRevokeResult> {
    const lease = this.#leases.get(id);
    if (lease === undefined)
      return Promise.reject(new RaftkvError({ code: "lease_not_found", message: `lease ${id}`, status: 404 }));
    this.#leases.delete(id);
    const keys = [...this.kvs.values()].filter((kv) => kv.lease === id).map((kv) => kv.keyText);
    this.#commit(keys.map((key) => this.#delete(key, this.revision + 1)));
    lease.lost({ reason: "lost", error: new RaftkvError({ code: "lease_not_found", message: `lease ${id}` }) });
    return Promise.resolve({ revision: this.revision, deleted: keys.length });
  }

  /** Live while the lease is: its loss (a revoke) ends it as a real keepalive's next renewal would. */
  keepAlive(id: number): KeepAlive {
    let end: (end: KeepAliveEnd) => void = () => undefined;
    const done = new Promise<KeepAliveEnd>((resolve) => (end = resolve));
    const lease = this.#leases.get(id);
    if (lease === undefined) end({ reason: "lost", error: new RaftkvError({ code: "lease_not_found", message: "" }) });
    else lease.lost = end;
    return { id, done, stop: () => end({ reason: "stopped" }) };
  }

  watch(selector: WatchSelector, options: WatchOptions): Watch {
    this.watched.push("key" in selector ? text(selector.key) : "prefix" in selector ? `${text(selector.prefix)}*` : "");
    const queue: WatchMessage[] = [];
    let wake: () => void = () => undefined;
    let closed = false;
    const deliver = (revision: number, events: WatchEvent[]): void => {
      const mine = events.filter((event) => covers(selector, event.kv.keyText));
      if (mine.length === 0) return;
      queue.push({ type: "events", revision, events: mine });
      wake();
    };
    const from = options.fromRevision ?? this.revision + 1;
    for (const entry of this.#history) if (entry.revision >= from) deliver(entry.revision, entry.events);
    this.#listeners.add(deliver);
    const close = (): void => {
      closed = true;
      this.#listeners.delete(deliver);
      wake();
    };
    options.signal?.addEventListener("abort", close, { once: true });
    if (options.signal?.aborted === true) close();
    const watch: Watch = {
      ready: Promise.resolve(from - 1),
      requestProgress: () => Promise.resolve(),
      close,
      [Symbol.asyncIterator]: () => watch,
      next: async () => {
        while (queue.length === 0 && !closed) await new Promise<void>((resolve) => (wake = resolve));
        const value = queue.shift();
        return closed || value === undefined ? { done: true, value: undefined } : { done: false, value };
      },
      return: () => {
        close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
    return watch;
  }

  #delete(key: string, revision: number): WatchEvent {
    const before = this.kvs.get(key);
    this.kvs.delete(key);
    const kv = keyValue(key, "", { createRevision: 0, modRevision: revision, version: 0, lease: 0 });
    return { type: "delete", kv, prevKv: before };
  }

  #commit(events: WatchEvent[]): void {
    if (events.length === 0) return;
    this.revision++;
    this.#history.push({ revision: this.revision, events });
    for (const listener of [...this.#listeners]) listener(this.revision, events);
  }
}
