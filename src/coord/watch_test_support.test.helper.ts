import assert from "node:assert/strict";
import { encodeCommand, KvStore, type KvCommand, type KvEvent, type KvResult, type TxnOp } from "../kv/index.js";
import type { Clock, Timer } from "../node/index.js";
import { utf8 } from "../util/bytes.js";
import { logIndex } from "../util/ids.js";
import { WatchHub } from "./watch_hub.js";
import type { WatchHandle, WatchMessage, WatchRequest, WatchSink } from "./watch_messages.js";
import { rangeHolds, type WatchRange } from "./watch_range.js";

/* Helpers for the watch tests: a clock that moves when told, a sink that records, a store with an oracle. */

/** Virtual time: timers run when `advance` passes them, `soon` callbacks when `runSoon` is called. */
export class ManualClock implements Clock {
  #now = 0;
  #timers: { at: number; every: number | undefined; run: () => void; cancelled: boolean }[] = [];
  #soon: (() => void)[] = [];

  now(): number {
    return this.#now;
  }

  after(ms: number, run: () => void): Timer {
    return this.#add(ms, undefined, run);
  }

  every(ms: number, run: () => void): Timer {
    return this.#add(ms, ms, run);
  }

  soon(run: () => void): void {
    this.#soon.push(run);
  }

  /** Runs the `soon` callbacks, and those they schedule, until none is left. */
  runSoon(): void {
    for (let rounds = 0; this.#soon.length > 0; rounds++) {
      assert.ok(rounds < 100_000, "soon callbacks keep scheduling each other");
      const batch = this.#soon;
      this.#soon = [];
      for (const run of batch) run();
    }
  }

  /** Moves time forward by `ms`, running each timer due (in time order) and the soon callbacks after each. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      this.runSoon();
      const live = this.#timers.filter((t) => !t.cancelled && t.at <= end);
      if (live.length === 0) break;
      const next = live.reduce((a, b) => (b.at < a.at ? b : a));
      this.#now = next.at;
      if (next.every === undefined) next.cancelled = true;
      else next.at += next.every;
      next.run();
    }
    this.#now = end;
    this.#timers = this.#timers.filter((t) => !t.cancelled);
  }

  /** Timers not cancelled: the hub must not keep one per watcher. */
  timerCount(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  #add(ms: number, every: number | undefined, run: () => void): Timer {
    const timer = { at: this.#now + ms, every, run, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }
}

/** Records what a watch sends; while `full`, each send says the reader is full. */
export class RecordingSink implements WatchSink {
  readonly messages: WatchMessage[] = [];
  full = false;
  closed = false;
  handle: WatchHandle | undefined;

  send(message: WatchMessage): boolean {
    assert.ok(!this.closed, `a message after close: ${JSON.stringify(message.type)}`);
    this.messages.push(message);
    return !this.full;
  }

  close(): void {
    assert.ok(!this.closed, "closed twice");
    this.closed = true;
  }

  /** The reader caught up: tells the hub. */
  drain(): void {
    this.full = false;
    this.handle?.resume();
  }

  last(): WatchMessage | undefined {
    return this.messages[this.messages.length - 1];
  }

  /** The events sent, in order. */
  events(): KvEvent[] {
    return this.messages.flatMap((m) => (m.type === "events" ? m.events : []));
  }

  canceled(): Extract<WatchMessage, { type: "canceled" }> | undefined {
    const last = this.last();
    return last?.type === "canceled" ? last : undefined;
  }
}

/** A real store fed encoded commands, with every revision's events recorded as the truth to compare streams with. */
export class TestStore {
  readonly kv = new KvStore();
  readonly revisions = new Map<number, readonly KvEvent[]>();

  constructor() {
    this.kv.listen({ revision: (revision, events) => this.revisions.set(revision, events) });
  }

  apply(command: KvCommand): KvResult {
    return this.kv.apply(encodeCommand(command), logIndex(this.kv.appliedIndex() + 1));
  }

  put(key: string, value: string): number {
    return this.#revisionOf(this.apply({ type: "put", key: utf8(key), value: utf8(value) }));
  }

  delete(key: string): number {
    return this.#revisionOf(this.apply({ type: "delete", key: utf8(key) }));
  }

  /** A txn whose one branch writes `puts` and deletes `deletes`. */
  txn(puts: Record<string, string>, deletes: readonly string[] = []): number {
    const ops: TxnOp[] = [
      ...Object.entries(puts).map(([key, value]): TxnOp => ({ type: "put", key: utf8(key), value: utf8(value) })),
      ...deletes.map((key): TxnOp => ({ type: "delete", key: utf8(key) })),
    ];
    return this.#revisionOf(this.apply({ type: "txn", compare: [], success: ops, failure: [] }));
  }

  compact(revision: number): KvResult {
    return this.apply({ type: "compact", revision });
  }

  /** The events of revisions from `from` through `through` in `range`, as a watch must deliver them. */
  expected(range: WatchRange, from: number, through: number): KvEvent[] {
    const events: KvEvent[] = [];
    for (let r = from; r <= through; r++)
      for (const event of this.revisions.get(r) ?? []) if (rangeHolds(range, event.key)) events.push(event);
    return events;
  }

  #revisionOf(result: KvResult): number {
    assert.ok("revision" in result, `no revision in ${JSON.stringify(result)}`);
    return result.revision;
  }
}

/** An event's revision: a put's or a delete's kv carries it as modRevision. */
export const revisionOf = (event: KvEvent): number => event.kv.modRevision;

/**
 * Checks a recorded stream against the store's truth: `created` first; events in whole revisions,
 * in order, none twice, none skipped from `from` through the last revision sent; each progress
 * notification R after every event at or below R; `canceled`, if any, last. Returns the last
 * revision whose events were all sent.
 */
export function checkStream(sink: RecordingSink, store: TestStore, range: WatchRange, from: number): number {
  const [created, ...rest] = sink.messages;
  assert.equal(created?.type, "created");
  let through = from - 1;
  // What the stream has told: a watch from a future revision may hear of progress below its start.
  let told = 0;
  for (const [i, message] of rest.entries()) {
    if (message.type === "canceled") assert.equal(i, rest.length - 1, "canceled is the last message");
    if (message.type === "progress") {
      assert.ok(message.revision >= told, `progress ${message.revision} went back from ${told}`);
      const owed = store.expected(range, through + 1, message.revision);
      assert.deepEqual(owed, [], `progress ${message.revision} is ahead of an event`);
      told = message.revision;
      through = Math.max(through, message.revision);
    }
    if (message.type !== "events") continue;
    assert.ok(message.events.length > 0, "an empty events message");
    const last = message.revision;
    assert.equal(revisionOf(message.events[message.events.length - 1]!), last, "revision is the last event's");
    const want = store.expected(range, through + 1, last);
    const what = `revisions ${through + 1} to ${last}`;
    assert.equal(message.events.length, want.length, `events of ${what}`);
    message.events.forEach((event, k) => assert.equal(event, want[k], `event ${k} of ${what}`));
    through = last;
    told = last;
  }
  return through;
}

/** A store, a manual clock and a hub on them. */
export function watchSetup(options: { bufferEventsMax?: number; progressIntervalMs?: number } = {}): {
  store: TestStore;
  clock: ManualClock;
  hub: WatchHub;
} {
  const store = new TestStore();
  const clock = new ManualClock();
  return { store, clock, hub: new WatchHub({ kv: store.kv, clock, ...options }) };
}

/** Opens a watch into a fresh recording sink that knows its handle (a full one takes `created` only). */
export function openWatch(hub: WatchHub, request: WatchRequest, full = false): RecordingSink {
  const sink = new RecordingSink();
  sink.full = full;
  sink.handle = hub.watch(request, sink);
  return sink;
}
