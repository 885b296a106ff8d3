import type { NodeId } from "../util/ids.js";

/** The only randomness the core uses; inject a seeded generator (util/prng.ts) for replayable runs. */
export interface Random {
  /** An integer in [min, maxExclusive). */
  int(min: number, maxExclusive: number): number;
}

export interface ZabOptions {
  readonly id: NodeId;
  /** Every member of the ensemble, this one included; fixed for the ensemble's life. */
  readonly members: readonly NodeId[];
  readonly random: Random;
  /**
   * A follower that hears nothing from its leader for a timeout drawn from
   * [electionTicks, 2 × electionTicks) looks for a new one; a looking member repeats its vote as
   * often; a leader that heard from no quorum in the last electionTicks steps down.
   */
  readonly electionTicks?: number;
  /** How often a leader pings (and resends what a follower lacks); a follower retries followerInfo as often. */
  readonly heartbeatTicks?: number;
  /** A leader that has not reached broadcast this many ticks after winning steps down (ZooKeeper's initLimit). */
  readonly initTicks?: number;
  /**
   * Width of a zxid's counter: an epoch holds at most 2^counterBits − 1 transactions, after which
   * the leader stops taking proposals and, once they have committed, hands over to a new epoch.
   * ZooKeeper's is 32.
   */
  readonly counterBits?: number;
  /** Most transactions one proposal message carries (new ones, or a resend to a lagging follower). */
  readonly proposalTxnsMax?: number;
  /** Most committed entries handed out in one Ready. */
  readonly applyEntriesMax?: number;
  /** Check this member's invariants after every input (tests, the simulator). */
  readonly checkInvariants?: boolean;
}

export type ResolvedZabOptions = Required<ZabOptions>;

export const COUNTER_BITS_MAX = 32;

export function resolveZabOptions(options: ZabOptions): ResolvedZabOptions {
  const electionTicks = options.electionTicks ?? 10;
  const resolved: ResolvedZabOptions = {
    electionTicks,
    heartbeatTicks: 1,
    initTicks: 2 * electionTicks,
    counterBits: COUNTER_BITS_MAX,
    proposalTxnsMax: 256,
    applyEntriesMax: 1024,
    checkInvariants: false,
    ...options,
  };
  if (!(resolved.heartbeatTicks >= 1 && resolved.electionTicks > resolved.heartbeatTicks)) {
    throw new RangeError("electionTicks must exceed heartbeatTicks, which must be at least 1");
  }
  if (!(resolved.initTicks >= resolved.electionTicks)) throw new RangeError("initTicks must be at least electionTicks");
  if (!(
    Number.isInteger(resolved.counterBits) &&
    resolved.counterBits >= 1 &&
    resolved.counterBits <= COUNTER_BITS_MAX
  )) {
    throw new RangeError(`counterBits must be an integer in [1, ${COUNTER_BITS_MAX}]`);
  }
  if (!(resolved.proposalTxnsMax >= 1 && resolved.applyEntriesMax >= 1)) {
    throw new RangeError("proposalTxnsMax and applyEntriesMax must be at least 1");
  }
  if (!resolved.members.includes(resolved.id)) throw new RangeError(`member ${resolved.id} is not in members`);
  if (new Set(resolved.members).size !== resolved.members.length || resolved.members.some((m) => !(m >= 1))) {
    throw new RangeError("members must be distinct node ids ≥ 1");
  }
  return resolved;
}
