import type { NodeId } from "../../util/ids.js";
import type { Slot } from "./types.js";

/** A read waiting for a quorum to confirm that its leader's ballot is still the highest. */
export interface PendingRead {
  readonly index: Slot;
  readonly context: Uint8Array;
  /** The leader itself, or a follower to answer with a ReadIndexResponse. */
  readonly requester: NodeId;
  /** The heartbeat round whose echo by a quorum confirms it. */
  readonly round: number;
}

/**
 * A leader's numbered heartbeat rounds. An acceptor echoes a round only while it has promised no
 * higher ballot, so the highest round a quorum echoed proves that no other proposer had won phase 1
 * (and so chosen anything this leader does not know of) when that round was sent. That:
 * - releases every read queued before the round, and
 * - starts the lease: the acceptors that echoed refuse other proposers' Prepares for electionTicks
 *   of their own ticks from when they heard it, which is no earlier than when it was sent.
 */
export class ReadRounds {
  #reads: PendingRead[] = [];
  #round = 0;
  /** Leader tick at which each unconfirmed round was sent. */
  readonly #sentAt = new Map<number, number>();
  readonly #echoed = new Map<NodeId, number>();
  #confirmed = 0;
  #leaseStart = Number.NEGATIVE_INFINITY;

  /** Numbers a round sent at leader tick `tick`. */
  next(tick: number): number {
    this.#round++;
    this.#sentAt.set(this.#round, tick);
    return this.#round;
  }

  /** Queues a read released by the next round (which the caller makes sure is sent). */
  add(read: Omit<PendingRead, "round">): void {
    this.#reads.push({ ...read, round: this.#round + 1 });
  }

  /**
   * Records that `from` echoed `round`; returns the reads a quorum has now confirmed. The leader
   * counts as having echoed every round, so `peersNeeded` is the quorum less one.
   */
  echo(from: NodeId, round: number, peersNeeded: number): PendingRead[] {
    if (round <= (this.#echoed.get(from) ?? 0) || round > this.#round) return [];
    this.#echoed.set(from, round);
    const rounds = [...this.#echoed.values()].sort((a, b) => b - a);
    const confirmed = rounds[peersNeeded - 1] ?? 0;
    if (confirmed <= this.#confirmed) return [];
    this.#confirmed = confirmed;
    this.#leaseStart = Math.max(this.#leaseStart, this.#sentAt.get(confirmed) ?? this.#leaseStart);
    for (const r of this.#sentAt.keys()) if (r <= confirmed) this.#sentAt.delete(r);
    const cut = this.#reads.findIndex((read) => read.round > confirmed);
    const released = cut === -1 ? this.#reads : this.#reads.slice(0, cut);
    this.#reads = cut === -1 ? [] : this.#reads.slice(cut);
    return released;
  }

  /** Leader tick at which the newest quorum-confirmed round was sent. */
  leaseStart(): number {
    return this.#leaseStart;
  }

  pendingCount(): number {
    return this.#reads.length;
  }
}
