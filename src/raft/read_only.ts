import type { LogIndex, NodeId } from "../util/ids.js";

/** A ReadIndex request waiting for a quorum to confirm that its leader still leads. */
export interface PendingRead {
  readonly index: LogIndex;
  readonly context: Uint8Array;
  /** Who asked: the leader itself, or a follower to answer with a ReadIndexResponse. */
  readonly requester: NodeId;
  /** The heartbeat round whose acknowledgements confirm this read. */
  readonly round: number;
}

/**
 * ReadIndex bookkeeping on the leader (Raft thesis §6.4). Reads wait in arrival order; each
 * heartbeat round collects acknowledgements, and a round confirmed by a quorum releases every
 * read queued up to it, because a later confirmation proves leadership at every earlier moment too.
 */
export class ReadOnly {
  #queue: PendingRead[] = [];
  #acks = new Map<number, Set<NodeId>>();
  #round = 0;
  /** Reads that arrived before this leader committed an entry of its term (its commit may be stale). */
  waitingForTermCommit: PendingRead[] = [];

  reset(): void {
    this.#queue = [];
    this.#acks.clear();
    this.waitingForTermCommit = [];
  }

  /** Queues a read and returns the heartbeat round that must confirm it. */
  add(read: Omit<PendingRead, "round">, self: NodeId): number {
    const round = ++this.#round;
    this.#queue.push({ ...read, round });
    this.#acks.set(round, new Set([self]));
    return round;
  }

  /** Records an acknowledgement of `round`; returns the set of ackers, if the round is pending. */
  ack(round: number, from: NodeId): ReadonlySet<NodeId> | undefined {
    const acks = this.#acks.get(round);
    acks?.add(from);
    return acks;
  }

  /** Removes and returns every read queued up to and including `round`. */
  releaseThrough(round: number): PendingRead[] {
    const cut = this.#queue.findIndex((read) => read.round > round);
    const released = cut === -1 ? this.#queue : this.#queue.slice(0, cut);
    this.#queue = cut === -1 ? [] : this.#queue.slice(cut);
    for (const read of released) this.#acks.delete(read.round);
    return released;
  }

  pendingCount(): number {
    return this.#queue.length + this.waitingForTermCommit.length;
  }
}
