/**
 * An opt-in timing trace of writes, for finding where a write's latency goes (docs/performance.md):
 * `raftkv serve` with RAFTKV_TRACE_WRITES=1 stamps every log index at each step it passes on this
 * member, and logs the stamps (one info line, "write trace") when the member stops. Off by default:
 * no tracer exists, the server and the node's observer see nothing to call, and nothing is stamped.
 *
 * Steps, in the order they happen (a leader has all but appendReceived, a follower only the
 * persisting ones):
 * - received: an HTTP put's request arrived at the route (before its body is read);
 * - proposed: the leader appended it to its log (the put is now waiting for the next Ready turn);
 * - appendReceived: a follower got the AppendEntries carrying it;
 * - readyStarted: the Ready holding it was taken: its messages (the leader's appends) are handed
 *   to the peer links and its WAL write begins, back to back;
 * - persisted: that Ready's write is durable (fdatasync done) and the Ready before it handled; a
 *   follower's acknowledgement leaves right then;
 * - ack1, ack2: the first and second follower's acknowledgement reached the leader;
 * - committed: the Ready whose committed entries include it was taken;
 * - applied: the state machine applied it;
 * - replied: the put's answer was handed to its socket.
 * Times are milliseconds since the epoch with microsecond resolution (the process's monotonic clock
 * plus its origin), so one machine's members line up.
 */
import { performance } from "node:perf_hooks";
import type { EngineEntry, EngineReady, EngineTypes } from "../engine/engine.js";
import type { LogIndex } from "../util/ids.js";
import type { NodeObserver } from "../node/index.js";

export type WriteStep =
  | "received"
  | "proposed"
  | "appendReceived"
  | "readyStarted"
  | "persisted"
  | "ack1"
  | "ack2"
  | "committed"
  | "applied"
  | "replied";

export type WriteStamps = { index?: number } & Partial<Record<WriteStep, number>>;

/** The most indexes kept; the oldest are forgotten first (a trace is for short runs). */
const recordsMax = 100_000;

const now = (): number => performance.timeOrigin + performance.now();

/** One put's stamps before its index is known; the route holds it from arrival to answer. */
export class TracedWrite {
  constructor(
    private readonly tracer: WriteTracer,
    /** Its stamps; once proposed, the record of its index. */
    public stamps: WriteStamps,
  ) {}

  /** Runs `propose`: the proposal it makes (synchronously, before any await) is this write. */
  proposing<T>(propose: () => T): T {
    this.tracer.proposing(this);
    try {
      return propose();
    } finally {
      this.tracer.proposing(undefined);
    }
  }

  replied(): void {
    this.stamps.replied = now();
  }
}

export class WriteTracer {
  readonly #byIndex = new Map<number, WriteStamps>();
  /** Indexes proposed or received since the last Ready was taken: the next Ready persists them. */
  #awaitingReady: WriteStamps[] = [];
  readonly #inReady = new Map<object, WriteStamps[]>();
  #proposing: TracedWrite | undefined;
  /** The leader's proposals not yet acknowledged by two followers, and those that did. */
  readonly #awaitingAcks = new Map<number, { readonly record: WriteStamps; readonly from: Set<number> }>();

  begin(): TracedWrite {
    return new TracedWrite(this, { received: now() });
  }

  proposing(write: TracedWrite | undefined): void {
    this.#proposing = write;
  }

  /** The node's observer hooks that feed the trace. */
  observer(): NodeObserver {
    return {
      proposed: (outcome, index) => this.#proposed(outcome, index),
      messageReceived: (m) => this.#received(m),
      readyStarted: (ready) => this.#readyStarted(ready),
      readyPersisted: (ready) => this.#readyPersisted(ready),
      entriesApplied: (entries) => this.#applied(entries),
    };
  }

  /** Every index's stamps, oldest first. */
  records(): WriteStamps[] {
    return [...this.#byIndex.values()];
  }

  #record(index: number): WriteStamps {
    let r = this.#byIndex.get(index);
    if (r === undefined) {
      r = { index };
      this.#byIndex.set(index, r);
      if (this.#byIndex.size > recordsMax) this.#byIndex.delete(this.#byIndex.keys().next().value!);
    }
    return r;
  }

  #proposed(outcome: "accepted" | "rejected", index: LogIndex | undefined): void {
    const write = this.#proposing;
    this.#proposing = undefined;
    if (outcome !== "accepted" || index === undefined) return;
    const r = this.#record(index);
    Object.assign(r, write?.stamps, { index, proposed: now() });
    if (write !== undefined) write.stamps = r;
    this.#awaitingReady.push(r);
    this.#awaitingAcks.set(index, { record: r, from: new Set() });
  }

  #received(m: unknown): void {
    const message = m as RaftMessageShape;
    if (message.type === "appendEntries" && message.entries !== undefined) {
      const t = now();
      for (const entry of message.entries) {
        const r = this.#record(entry.index);
        r.appendReceived ??= t;
        this.#awaitingReady.push(r);
      }
    } else if (message.type === "appendEntriesResponse" && message.success === true) {
      this.#acknowledged(message.from!, message.matchIndex!);
    }
  }

  #acknowledged(from: number, matchIndex: number): void {
    const t = now();
    for (const [index, waiting] of this.#awaitingAcks) {
      if (index > matchIndex) break; // proposed in index order
      if (waiting.from.has(from)) continue;
      waiting.from.add(from);
      if (waiting.record.ack1 === undefined) waiting.record.ack1 = t;
      else {
        waiting.record.ack2 = t;
        this.#awaitingAcks.delete(index);
      }
    }
  }

  #readyStarted(ready: EngineReady<EngineTypes>): void {
    const t = now();
    if (this.#awaitingReady.length > 0) {
      for (const r of this.#awaitingReady) r.readyStarted ??= t;
      this.#inReady.set(ready, this.#awaitingReady);
      this.#awaitingReady = [];
    }
    for (const entry of ready.committed) {
      const r = this.#byIndex.get(entry.index);
      if (r !== undefined) r.committed ??= t;
    }
  }

  #readyPersisted(ready: EngineReady<EngineTypes>): void {
    const records = this.#inReady.get(ready);
    if (records === undefined) return;
    this.#inReady.delete(ready);
    const t = now();
    for (const r of records) r.persisted ??= t;
  }

  #applied(entries: readonly EngineEntry[]): void {
    const t = now();
    for (const entry of entries) {
      const r = this.#byIndex.get(entry.index);
      if (r !== undefined) r.applied ??= t;
    }
  }
}

/** The fields of Raft's messages the trace reads; other engines' messages have none of them. */
interface RaftMessageShape {
  readonly type?: string;
  readonly from?: number;
  readonly entries?: readonly { readonly index: number }[];
  readonly success?: boolean;
  readonly matchIndex?: number;
}
