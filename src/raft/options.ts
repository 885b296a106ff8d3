import type { NodeId } from "../util/ids.js";

/** The only randomness the core uses; inject a seeded generator (util/prng.ts) for replayable runs. */
export interface Random {
  /** An integer in [min, maxExclusive). */
  int(min: number, maxExclusive: number): number;
}

/** How a leader answers ReadIndex: by a heartbeat round to a quorum, or by its check-quorum lease. */
export type ReadOnlyMode = "safe" | "lease";

export interface RaftOptions {
  readonly id: NodeId;
  /** The voters to bootstrap with when the durable state holds no configuration. */
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  readonly random: Random;
  /** Minimum election timeout in ticks; each timeout is drawn from [electionTicks, 2 × electionTicks). */
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly readOnlyMode?: ReadOnlyMode;
  /** Most entries in one AppendEntries message. */
  readonly appendEntriesMax?: number;
  /** Most entry data bytes in one AppendEntries message (one bigger entry still goes alone). */
  readonly appendBytesMax?: number;
  /** Most AppendEntries messages in flight to one follower in replicate state. */
  readonly inflightMax?: number;
  /** Proposals are refused while the leader's uncommitted entry data exceeds this. */
  readonly uncommittedBytesMax?: number;
  /** Most committed entry data bytes handed out in one Ready. */
  readonly applyBytesMax?: number;
  /** A learner is promoted only when at most this many entries behind the leader. */
  readonly promoteLagEntriesMax?: number;
  /**
   * How far a member's clock may run fast or slow (0.02: each tick of every member lasts between
   * 0.98 and 1.02 times its nominal length). Lease reads rely on it: a leader's lease, counted in
   * its own ticks, must end before any follower's stickiness, counted in that follower's ticks, can
   * have run out. Quartz drifts by about 0.00005; the default leaves room for stalled or throttled
   * timers as well.
   */
  readonly clockDriftMax?: number;
}

export type ResolvedOptions = Required<RaftOptions>;

export function resolveOptions(options: RaftOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    learners: [],
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: true,
    checkQuorum: true,
    readOnlyMode: "safe",
    appendEntriesMax: 256,
    appendBytesMax: 1024 * 1024,
    inflightMax: 64,
    uncommittedBytesMax: 64 * 1024 * 1024,
    applyBytesMax: 4 * 1024 * 1024,
    promoteLagEntriesMax: 1000,
    clockDriftMax: 0.02,
    ...options,
  };
  if (!(resolved.heartbeatTicks >= 1 && resolved.electionTicks > resolved.heartbeatTicks)) {
    throw new RangeError("electionTicks must exceed heartbeatTicks, which must be at least 1");
  }
  if (resolved.readOnlyMode === "lease" && !resolved.checkQuorum) {
    throw new RangeError("lease reads are only safe with checkQuorum on");
  }
  if (!(resolved.clockDriftMax >= 0 && resolved.clockDriftMax < 0.5))
    throw new RangeError("clockDriftMax must be in [0, 0.5)");
  return resolved;
}
