import type { NodeId } from "../../util/ids.js";
import type { Random } from "./types.js";

/** How a leader answers readIndex: by a heartbeat round to a quorum, or inside its lease. */
export type ReadMode = "safe" | "lease";

export interface MultiPaxosOptions {
  readonly id: NodeId;
  /** Every member, this node included; fixed for the cluster's life. */
  readonly members: readonly NodeId[];
  readonly random: Random;
  /**
   * Minimum election timeout in ticks; each timeout and each backoff after a lost ballot is drawn
   * from [electionTicks, 2 × electionTicks). It is also how long an acceptor that heard a leader
   * refuses every other proposer's Prepare (what leases rest on).
   */
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  /** An Accept unanswered for this many ticks is sent again to those that have not answered. */
  readonly acceptRetryTicks?: number;
  /** The default of readIndex(); "lease" serves reads locally while the leader's lease holds. */
  readonly readMode?: ReadMode;
  /**
   * How far a member's clock may run fast or slow (0.02: each tick lasts 0.98–1.02 nominal ticks).
   * The lease, counted in the leader's ticks, ends before any acceptor's refusal, counted in its own.
   */
  readonly clockDriftMax?: number;
  /** Most values in one Accept message. */
  readonly acceptEntriesMax?: number;
  /** Most value bytes in one Accept or Learn message (one bigger value still goes alone). */
  readonly messageBytesMax?: number;
  /** Proposals are refused while this many slots are proposed and not yet known chosen. */
  readonly inflightSlotsMax?: number;
  /** Most chosen values in one Learn message or one Promise. */
  readonly learnEntriesMax?: number;
  /** Most slots one Accept's commit notice covers. */
  readonly commitSlotsMax?: number;
  /** Most value bytes handed out to apply in one Ready. */
  readonly applyBytesMax?: number;
}

export type ResolvedOptions = Required<MultiPaxosOptions>;

export function resolveOptions(options: MultiPaxosOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    electionTicks: 10,
    heartbeatTicks: 1,
    acceptRetryTicks: 3,
    readMode: "safe",
    clockDriftMax: 0.02,
    acceptEntriesMax: 256,
    messageBytesMax: 1024 * 1024,
    inflightSlotsMax: 4096,
    learnEntriesMax: 256,
    commitSlotsMax: 1024,
    applyBytesMax: 4 * 1024 * 1024,
    ...options,
  };
  if (!(resolved.heartbeatTicks >= 1 && resolved.electionTicks > resolved.heartbeatTicks)) {
    throw new RangeError("electionTicks must exceed heartbeatTicks, which must be at least 1");
  }
  if (!(resolved.clockDriftMax >= 0 && resolved.clockDriftMax < 0.5)) {
    throw new RangeError("clockDriftMax must be in [0, 0.5)");
  }
  if (!resolved.members.includes(resolved.id)) throw new RangeError(`member list lacks this node ${resolved.id}`);
  if (new Set(resolved.members).size !== resolved.members.length || resolved.members.some((m) => m <= 0)) {
    throw new RangeError("members must be distinct positive node ids");
  }
  for (const key of ["acceptRetryTicks", "acceptEntriesMax", "inflightSlotsMax", "learnEntriesMax"] as const) {
    if (!(Number.isSafeInteger(resolved[key]) && resolved[key] >= 1)) throw new RangeError(`${key} must be ≥ 1`);
  }
  return resolved;
}

/**
 * How many leader ticks a lease lasts after the heartbeat that started it was sent: electionTicks
 * shrunk by the worst ratio of two clocks' rates, less two ticks for the phase difference of two
 * members' tick timers. Below 1 there is no lease.
 */
export function leaseTicks(options: { readonly electionTicks: number; readonly clockDriftMax: number }): number {
  const d = options.clockDriftMax;
  return Math.floor((options.electionTicks * (1 - d)) / (1 + d)) - 2;
}
