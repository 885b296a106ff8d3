import { assert } from "../util/assert.js";
import { logIndex, type LogIndex } from "../util/ids.js";

/**
 * What the leader knows of one follower (etcd's Progress):
 * - probe: next is a guess; one AppendEntries at a time until a response shows where logs match.
 * - replicate: logs match at `match`; append messages are pipelined up to `inflightMax` in flight.
 * - snapshot: the follower needs compacted entries; a snapshot is on its way and nothing else is sent.
 * Invariant: match < next.
 */
type ProgressState = "probe" | "replicate" | "snapshot";

export class Progress {
  match: LogIndex = logIndex(0);
  next: LogIndex;
  state: ProgressState = "probe";
  /** In probe state, an append is outstanding; cleared by any response or heartbeat response. */
  probeSent = false;
  /** Index of the snapshot in flight (snapshot state). */
  pendingSnapshot: LogIndex = logIndex(0);
  /** Leader ticks since the snapshot was sent, to resend one that was lost. */
  snapshotTicks = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly #inflightMax: number;
  /** Last index of each append message in flight, in send order. */
  #inflight: LogIndex[] = [];

  constructor(next: LogIndex, inflightMax: number) {
    this.next = next;
    this.#inflightMax = inflightMax;
  }

  isPaused(): boolean {
    switch (this.state) {
      case "probe":
        return this.probeSent;
      case "replicate":
        return this.#inflight.length >= this.#inflightMax;
      case "snapshot":
        return true;
    }
  }

  inflightCount(): number {
    return this.#inflight.length;
  }

  becomeProbe(): void {
    this.state = "probe";
    this.#setNext(logIndex(this.match + 1));
    this.probeSent = false;
    this.#inflight = [];
  }

  becomeSnapshot(index: LogIndex): void {
    this.state = "snapshot";
    this.pendingSnapshot = index;
    this.snapshotTicks = 0;
    this.probeSent = false;
    this.#inflight = [];
  }

  becomeReplicate(): void {
    this.state = "replicate";
    this.#setNext(logIndex(this.match + 1));
    this.probeSent = false;
    this.#inflight = [];
  }

  /** Records an append carrying entries up to `lastIndex` (or a bare probe when none). */
  sentAppend(lastIndex: LogIndex | undefined): void {
    if (this.state === "replicate") {
      if (lastIndex !== undefined) {
        this.#setNext(logIndex(lastIndex + 1));
        this.#inflight.push(lastIndex);
      }
    } else {
      this.probeSent = true;
    }
  }

  /**
   * The follower answered a heartbeat, so it is reachable: unblock a probe, and free one pipeline
   * slot in case the appends that filled the window were lost (the next append then exposes the gap).
   */
  heardFrom(): void {
    this.recentActive = true;
    this.probeSent = false;
    if (this.state === "replicate" && this.#inflight.length >= this.#inflightMax) this.#inflight.shift();
  }

  /** A success response up to `index`; returns whether it told us something new. */
  maybeUpdate(index: LogIndex): boolean {
    this.probeSent = false;
    while (this.#inflight.length > 0 && this.#inflight[0]! <= index) this.#inflight.shift();
    if (index <= this.match) return false;
    this.match = index;
    if (this.next <= index) this.#setNext(logIndex(index + 1));
    return true;
  }

  /**
   * A rejection of an append whose prevLogIndex was `rejected`; `hintNext` is where the hint says
   * to probe. Stale rejections (for messages sent before a newer decision) are ignored.
   */
  maybeDecreaseTo(rejected: LogIndex, hintNext: LogIndex): boolean {
    if (this.state === "snapshot") return false;
    if (this.state === "replicate") {
      if (rejected <= this.match) return false;
      this.#setNext(logIndex(this.match + 1));
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.#setNext(logIndex(Math.max(Math.min(rejected, hintNext), this.match + 1)));
    this.probeSent = false;
    return true;
  }

  /** The one place `next` moves, so the invariant match < next is checked wherever it could break. */
  #setNext(next: LogIndex): void {
    assert(this.match < next, `progress next ${next} not beyond match ${this.match}`);
    this.next = next;
  }
}
