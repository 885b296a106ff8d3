import { assert } from "../util/assert.js";
import type { LogIndex, NodeId } from "../util/ids.js";
import { jointCommitted, type JointVoters } from "./quorum.js";

/** A ReadIndex request waiting for a quorum to confirm that its leader still leads. */
interface PendingRead {
  readonly index: LogIndex;
  readonly context: Uint8Array;
  /** Who asked: the leader itself, or a follower to answer with a ReadIndexResponse. */
  readonly requester: NodeId;
  /** The heartbeat whose acknowledgement by a quorum confirms this read. */
  readonly heartbeat: number;
}

/**
 * The leader's heartbeat bookkeeping, which serves ReadIndex (thesis §6.4) and lease reads.
 * Every heartbeat broadcast gets a sequence number; each follower's answer echoes it. The highest
 * number a quorum has echoed proves leadership at the moment that heartbeat was sent, so it:
 * - releases every read queued before that heartbeat, and
 * - starts the lease: followers that heard that heartbeat refuse other candidates for
 *   electionTicks from when they heard it, which is no earlier than when it was sent.
 */
export class ReadOnly {
  #reads: PendingRead[] = [];
  #sequence = 0;
  /** Leader tick at which each unconfirmed heartbeat was sent. */
  #sentAtTick = new Map<number, number>();
  #acked = new Map<NodeId, number>();
  #confirmed = 0;
  /** Leader tick at which the newest quorum-confirmed heartbeat was sent. */
  #leaseStartTick = Number.NEGATIVE_INFINITY;
  /** Reads that arrived before this leader committed an entry of its term (its commit may be stale). */
  waitingForTermCommit: Omit<PendingRead, "heartbeat">[] = [];

  reset(): void {
    this.#reads = [];
    this.#sentAtTick.clear();
    this.#acked.clear();
    this.#confirmed = this.#sequence;
    this.#leaseStartTick = Number.NEGATIVE_INFINITY;
    this.waitingForTermCommit = [];
  }

  /** Numbers a heartbeat broadcast sent at leader tick `tick`. */
  nextHeartbeat(tick: number): number {
    this.#sequence++;
    this.#sentAtTick.set(this.#sequence, tick);
    return this.#sequence;
  }

  /** Queues a read to be released by the next heartbeat broadcast (the caller sends it). */
  add(read: Omit<PendingRead, "heartbeat">): void {
    const heartbeat = this.#sequence + 1;
    // ack() releases a prefix of the queue, which is right only while heartbeats never go back in it.
    assert((this.#reads.at(-1)?.heartbeat ?? 0) <= heartbeat, "read queue out of heartbeat order");
    this.#reads.push({ ...read, heartbeat });
  }

  /**
   * Records that `from` echoed heartbeat `sequence`; returns the reads a quorum has now confirmed.
   * `self` counts as having echoed every heartbeat it sent.
   */
  ack(voters: JointVoters, self: NodeId, from: NodeId, sequence: number): PendingRead[] {
    if (sequence <= (this.#acked.get(from) ?? 0)) return [];
    this.#acked.set(from, sequence);
    this.#acked.set(self, this.#sequence);
    const confirmed = jointCommitted(voters, (id) => (this.#acked.get(id) ?? 0) as LogIndex);
    if (confirmed <= this.#confirmed) return [];
    this.#confirmed = confirmed;
    const sentAt = this.#sentAtTick.get(confirmed);
    if (sentAt !== undefined) this.#leaseStartTick = Math.max(this.#leaseStartTick, sentAt);
    for (const seq of this.#sentAtTick.keys()) if (seq <= confirmed) this.#sentAtTick.delete(seq);
    const cut = this.#reads.findIndex((read) => read.heartbeat > confirmed);
    const released = cut === -1 ? this.#reads : this.#reads.slice(0, cut);
    this.#reads = cut === -1 ? [] : this.#reads.slice(cut);
    return released;
  }

  /** Leader tick at which the lease started (the send time of the newest confirmed heartbeat). */
  leaseStartTick(): number {
    return this.#leaseStartTick;
  }
}
