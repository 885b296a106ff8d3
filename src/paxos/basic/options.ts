import type { NodeId } from "../../util/ids.js";
import { VALUE_BYTES_MAX } from "./messages.js";

/** The only randomness the core uses; inject a seeded generator (util/prng.ts) for replayable runs. */
export interface Random {
  /** An integer in [min, maxExclusive). */
  int(min: number, maxExclusive: number): number;
}

export interface BasicPaxosOptions {
  readonly id: NodeId;
  /** Every acceptor, this member included if it is one; a quorum is a majority of them. */
  readonly acceptors: readonly NodeId[];
  readonly random: Random;
  /** A phase that has not heard from a quorum within this many ticks starts again with a higher ballot. */
  readonly phaseTicks?: number;
  /**
   * A beaten or timed-out round waits a random number of ticks in [backoffTicksMin, 2 × backoffTicksMin)
   * before its next ballot: two proposers that keep preempting each other would otherwise duel on
   * (0 turns the backoff off, which only the duel's measurement wants).
   */
  readonly backoffTicksMin?: number;
  /** Requests (writes and reads) waiting for an outcome; more are refused. */
  readonly requestsPendingMax?: number;
  /** The largest value a compare-and-set may write; at most VALUE_BYTES_MAX, what the wire carries. */
  readonly valueBytesMax?: number;
}

export type ResolvedOptions = Required<BasicPaxosOptions>;

export function resolveOptions(options: BasicPaxosOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    phaseTicks: 10,
    backoffTicksMin: 3,
    requestsPendingMax: 10_000,
    valueBytesMax: 1536 * 1024,
    ...options,
  };
  const ids = new Set(resolved.acceptors);
  if (ids.size === 0 || ids.size !== resolved.acceptors.length || ids.has(0 as NodeId)) {
    throw new RangeError("acceptors must be one or more distinct non-zero ids");
  }
  if (!(resolved.id > 0)) throw new RangeError("id must be non-zero");
  for (const key of ["phaseTicks", "requestsPendingMax"] as const) {
    if (!(Number.isSafeInteger(resolved[key]) && resolved[key] >= 1)) throw new RangeError(`${key} must be ≥ 1`);
  }
  if (!(Number.isSafeInteger(resolved.backoffTicksMin) && resolved.backoffTicksMin >= 0)) {
    throw new RangeError("backoffTicksMin must be ≥ 0");
  }
  const { valueBytesMax } = resolved;
  if (!(Number.isSafeInteger(valueBytesMax) && valueBytesMax >= 0 && valueBytesMax <= VALUE_BYTES_MAX)) {
    throw new RangeError(`valueBytesMax must be in [0, ${VALUE_BYTES_MAX}]`);
  }
  return resolved;
}
