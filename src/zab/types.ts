import type { NodeId } from "../util/ids.js";

declare const epochBrand: unique symbol;

/**
 * A leader's epoch: the number a quorum promised it in discovery. Epoch 0 is "before any leader".
 * Branded so it cannot be mixed up with a counter or a history index.
 */
export type Epoch = number & { readonly [epochBrand]: "Epoch" };

export const epoch = (n: number): Epoch => n as Epoch;

/**
 * A transaction id, (epoch, counter) ordered lexicographically. The leader of epoch e numbers its
 * proposals (e, 1), (e, 2), … with no gap, so in every history the transactions of one epoch are
 * (e, 1) … (e, k) for some k. Counter 0 names the point before an epoch's first transaction.
 */
export interface Zxid {
  readonly epoch: Epoch;
  readonly counter: number;
}

/** The zxid before every transaction: an empty history's last zxid. */
export const ZXID_ZERO: Zxid = { epoch: epoch(0), counter: 0 };

export function zxid(e: number, counter: number): Zxid {
  return { epoch: epoch(e), counter };
}

/** Negative, zero or positive as a sorts before, with or after b. */
export function compareZxid(a: Zxid, b: Zxid): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.counter - b.counter;
}

export function zxidEqual(a: Zxid, b: Zxid): boolean {
  return a.epoch === b.epoch && a.counter === b.counter;
}

export function formatZxid(z: Zxid): string {
  return `${z.epoch}.${z.counter}`;
}

/** One state change the leader broadcast; its data is opaque to ZAB. Invariant: zxid.counter ≥ 1. */
export interface Txn {
  readonly zxid: Zxid;
  readonly data: Uint8Array;
}

/**
 * A transaction at its position in a member's history (1 = first). Positions never shift: a
 * history only changes by truncating a suffix and appending, and two histories that hold the same
 * zxid agree on everything up to it, so a committed transaction has the same index everywhere.
 */
export interface HistoryEntry extends Txn {
  readonly index: number;
}

/** How far one epoch reaches in a history: it holds (epoch, 1) … (epoch, lastCounter). */
export interface EpochExtent {
  readonly epoch: Epoch;
  readonly lastCounter: number;
}

/**
 * What a member must find on disk after a restart. Invariants: currentEpoch ≤ acceptedEpoch;
 * history zxids strictly increase and none has an epoch above currentEpoch.
 */
export interface DurableState {
  /** The highest epoch this member promised to a prospective leader (ZooKeeper's acceptedEpoch). */
  readonly acceptedEpoch: Epoch;
  /** The epoch of the last leader whose whole history this member took (ZooKeeper's currentEpoch). */
  readonly currentEpoch: Epoch;
  readonly history: readonly Txn[];
}

/**
 * A member's vote in leader election: the member it wants, with that member's currentEpoch and
 * last zxid. Votes are ordered by (epoch, zxid, leader), as in ZooKeeper's fast leader election.
 */
export interface Vote {
  readonly leader: NodeId;
  readonly epoch: Epoch;
  readonly zxid: Zxid;
}

export function compareVote(a: Vote, b: Vote): number {
  if (a.epoch !== b.epoch) return a.epoch - b.epoch;
  const byZxid = compareZxid(a.zxid, b.zxid);
  return byZxid !== 0 ? byZxid : a.leader - b.leader;
}

export type Role = "looking" | "following" | "leading";

/**
 * Where a member is in ZAB: electing a leader, then (as leader or follower) discovery (agreeing on
 * a new epoch), synchronization (taking the leader's history) and broadcast (proposals and commits).
 */
export type Phase = "election" | "discovery" | "synchronization" | "broadcast";

/** A linearizable read point: serve the read once the state machine has applied through `index`. */
export interface ReadState {
  readonly context: Uint8Array;
  readonly index: number;
}
