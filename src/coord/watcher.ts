import type { KvEvent } from "../kv/index.js";
import { assert } from "../util/assert.js";
import type { WatchSink } from "./watch_messages.js";
import { rangeHolds, type WatchRange } from "./watch_range.js";
import type { WatchHistory } from "./watch_history.js";

/** Bounds on one events message: it still takes at least one whole revision, however large. */
const messageEventsMax = 1000;
const messageBytesMax = 1024 * 1024;

interface RevisionEvents {
  readonly revision: number;
  readonly events: readonly KvEvent[];
}

/**
 * One watch's place in the stream. What it has not sent yet lies in two parts that never overlap:
 * the catch-up, revisions [scanNext, queueFrom) read from the member's history as the sink takes
 * them, and the queue, revisions from queueFrom on, whose matching events were put there as the
 * store applied them (references to the store's events, not copies). So nothing is sent twice or
 * skipped, a revision is never split (it is taken whole from one part), and what is unsent is known
 * exactly, which is what progress notifications and resume revisions are computed from.
 */
export class Watcher {
  readonly id: number;
  readonly range: WatchRange;
  readonly sink: WatchSink;
  readonly progressNotify: boolean;
  /** Revisions from here on come through the queue. */
  readonly queueFrom: number;
  /** The next revision the catch-up reads from the history. */
  scanNext: number;
  /** Events in the queue: the backlog the buffer bound applies to (the catch-up has none to hold). */
  queuedEvents = 0;
  /** The sink said it is full: nothing more is sent until it resumes. */
  paused = false;
  /** Cancelled or removed: it is no longer in the hub. */
  ended = false;
  /** In the hub's set of watchers with something to send. */
  due = false;
  /** A message went out since the last progress tick. */
  sentSinceTick = true;
  /** A progress notification was asked for while the sink was full or behind. */
  progressWanted = false;
  #queue: RevisionEvents[] | undefined;
  #queueHead = 0;

  constructor(fields: {
    id: number;
    range: WatchRange;
    sink: WatchSink;
    progressNotify: boolean;
    scanNext: number;
    queueFrom: number;
  }) {
    this.id = fields.id;
    this.range = fields.range;
    this.sink = fields.sink;
    this.progressNotify = fields.progressNotify;
    this.scanNext = fields.scanNext;
    this.queueFrom = fields.queueFrom;
  }

  catchingUp(): boolean {
    return this.scanNext < this.queueFrom;
  }

  hasUnsent(): boolean {
    return this.catchingUp() || this.queuedEvents > 0;
  }

  /** Queues a revision's events in this watch's range (the caller checked revision ≥ queueFrom). */
  enqueue(revision: number, events: readonly KvEvent[]): void {
    (this.#queue ??= []).push({ revision, events });
    this.queuedEvents += events.length;
  }

  /**
   * The first revision this stream has not sent everything of, given the member's revision: every
   * event in range below it has been handed to the sink.
   */
  firstUnsent(memberRevision: number): number {
    if (this.catchingUp()) return this.scanNext;
    const queued = this.#queue?.[this.#queueHead];
    if (queued !== undefined) return queued.revision;
    return Math.max(this.queueFrom, memberRevision + 1);
  }

  /**
   * The next events message's whole revisions, catch-up first, up to the message bounds; undefined
   * when there is nothing to send, or when the catch-up has read `budget.revisions` revisions of
   * the history (which it spends) without finding any.
   */
  takeBatch(history: WatchHistory, budget: { revisions: number }): RevisionEvents | undefined {
    let taken: readonly KvEvent[] = [];
    // `taken` may be a store or queue array, which must not be changed: the first append copies it.
    let own: KvEvent[] | undefined;
    let revision = 0;
    let bytes = 0;
    while (taken.length < messageEventsMax && bytes < messageBytesMax) {
      const next = this.catchingUp() ? this.#scan(history, budget) : this.#dequeue();
      if (next === undefined) break;
      if (next.events.length === 0) continue;
      revision = next.revision;
      for (const event of next.events) bytes += event.key.length + event.kv.value.length;
      if (taken.length === 0) taken = next.events;
      else {
        own ??= taken.slice();
        own.push(...next.events);
        taken = own;
      }
    }
    return revision === 0 ? undefined : { revision, events: taken };
  }

  /** The catch-up's next revision, filtered to the range (possibly empty); undefined when the budget is spent. */
  #scan(history: WatchHistory, budget: { revisions: number }): RevisionEvents | undefined {
    if (budget.revisions <= 0) return undefined;
    budget.revisions--;
    const revision = this.scanNext;
    const all = history.eventsAt(revision);
    // The hub cancels a watch whose catch-up a compaction or a snapshot cut short.
    assert(all !== undefined, `watch ${this.id}: revision ${revision} is not in the history`);
    this.scanNext++;
    const range = this.range;
    const events = all.every((event) => rangeHolds(range, event.key))
      ? all
      : all.filter((event) => rangeHolds(range, event.key));
    return { revision, events };
  }

  #dequeue(): RevisionEvents | undefined {
    const queue = this.#queue;
    const next = queue?.[this.#queueHead];
    if (queue === undefined || next === undefined) return undefined;
    this.#queueHead++;
    this.queuedEvents -= next.events.length;
    if (this.#queueHead === queue.length) {
      // Empty again: an idle watcher keeps no array.
      this.#queue = undefined;
      this.#queueHead = 0;
    } else if (this.#queueHead >= 1024 && this.#queueHead * 2 >= queue.length) {
      queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    return next;
  }
}
