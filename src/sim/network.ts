import type { NodeId } from "../raft/index.js";
import type { Prng } from "../util/prng.js";

export interface NetworkFaults {
  /** Probability that a message is lost. */
  lossRate: number;
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  delayMinMs: number;
  delayMaxMs: number;
  /** Probability of a much longer delay, which reorders a message far behind later ones. */
  longDelayRate: number;
  longDelayMaxMs: number;
  /**
   * Probability that an AppendEntries arrives once more, long after the newer ones: a targeted
   * reordering for the rules that matter only when a follower gets old entries late (the commit
   * index bound on the last new entry, stale conflict truncation).
   */
  staleAppendRate: number;
}

export const HEALTHY_NETWORK: NetworkFaults = {
  lossRate: 0,
  duplicateRate: 0,
  delayMinMs: 1,
  delayMaxMs: 5,
  longDelayRate: 0,
  longDelayMaxMs: 0,
  staleAppendRate: 0,
};

/**
 * A seeded network: decides for each message whether and when it arrives. Links are cut one
 * direction at a time, so asymmetric partitions are as easy to express as symmetric ones.
 */
export class SimNetwork {
  faults: NetworkFaults;
  readonly #prng: Prng;
  readonly #cut = new Set<string>();

  constructor(prng: Prng, faults: NetworkFaults) {
    this.#prng = prng;
    this.faults = faults;
  }

  /**
   * Delivery delays in ms for a message from `from` to `to`: none if it is lost, two if it is
   * duplicated, and maybe a third far later when it carries entries (`staleable`: Raft's
   * AppendEntries, Multi-Paxos's Accept), which then arrives stale.
   */
  schedule(from: NodeId, to: NodeId, staleable: boolean): number[] {
    if (this.isCut(from, to) || this.#prng.chance(this.faults.lossRate)) return [];
    const delays = [this.#delay()];
    if (this.#prng.chance(this.faults.duplicateRate)) delays.push(this.#delay());
    if (staleable && this.#prng.chance(this.faults.staleAppendRate)) {
      delays.push(this.#prng.int(this.faults.delayMaxMs + 50, this.faults.delayMaxMs + 500));
    }
    return delays;
  }

  /** The longest a message sent now can take to arrive. */
  delayMaxMs(): number {
    const f = this.faults;
    return Math.max(f.delayMaxMs, f.longDelayMaxMs, f.staleAppendRate > 0 ? f.delayMaxMs + 500 : 0);
  }

  /** Whether every link to and from `id` (among `ids`) is cut. */
  isIsolated(id: NodeId, ids: readonly NodeId[]): boolean {
    return ids.every((other) => other === id || (this.isCut(id, other) && this.isCut(other, id)));
  }

  #delay(): number {
    const f = this.faults;
    if (this.#prng.chance(f.longDelayRate))
      return this.#prng.int(f.delayMaxMs, Math.max(f.delayMaxMs, f.longDelayMaxMs) + 1);
    return this.#prng.int(f.delayMinMs, f.delayMaxMs + 1);
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.#cut.has(`${from}>${to}`);
  }

  cutOneWay(from: NodeId, to: NodeId): void {
    this.#cut.add(`${from}>${to}`);
  }

  /** Splits the nodes into groups that cannot reach each other in either direction. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cutOneWay(x, y);
      }
    }
  }

  heal(): void {
    this.#cut.clear();
  }
}
