import type { LogIndex, NodeId } from "../../util/ids.js";

/**
 * A slot of the replicated log: one Paxos instance (the articles' "log id"). Slot 0 means "before
 * the first"; slots are LogIndex so that committed entries look like Raft's to the driver.
 */
export type Slot = LogIndex;

/**
 * A proposal number (the articles' "epoch id", written "counter.node" there: 3.1, 4.5). Ordered by
 * counter, then by node id, so two proposers never draw the same ballot. ZERO_BALLOT is below all.
 */
export interface Ballot {
  readonly counter: number;
  readonly node: NodeId;
}

export const ZERO_BALLOT: Ballot = { counter: 0, node: 0 as NodeId };

/** Negative, zero or positive as `a` orders before, equal to or after `b`. */
export function compareBallots(a: Ballot, b: Ballot): number {
  return a.counter !== b.counter ? a.counter - b.counter : a.node - b.node;
}

export function sameBallot(a: Ballot, b: Ballot): boolean {
  return a.counter === b.counter && a.node === b.node;
}

export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

/** The articles' notation, for messages and logs. */
export function formatBallot(b: Ballot): string {
  return `${b.counter}.${b.node}`;
}

/** What a slot decides: an application command, or the no-op a new leader fills a hole with. */
export type ValueKind = "command" | "noop";

/** Invariant: a no-op's data is empty. */
export interface Value {
  readonly kind: ValueKind;
  readonly data: Uint8Array;
}

export const NOOP: Value = { kind: "noop", data: new Uint8Array(0) };

/**
 * An acceptor's durable record for one slot: it accepted `value` in `ballot`. A leader proposes at
 * most one value per (slot, ballot), so that pair names the value; learners rely on it.
 */
export interface AcceptedRecord {
  readonly slot: Slot;
  readonly ballot: Ballot;
  readonly value: Value;
}

/**
 * A value known to be chosen in `slot`. `ballot` is the ballot of a proposal of that value a quorum
 * accepted (or one proposed after it), so an acceptor holding (slot, ballot) holds this value.
 */
export interface ChosenEntry {
  readonly slot: Slot;
  readonly ballot: Ballot;
  readonly value: Value;
}

/** An entry for the driver to apply; handed out strictly in slot order, each slot once. */
export interface CommittedEntry {
  readonly index: Slot;
  readonly kind: ValueKind;
  /** Empty for a no-op. */
  readonly data: Uint8Array;
}

/** A state machine's state through `index`: every slot up to it chosen and applied. */
export interface Snapshot {
  readonly index: Slot;
  readonly data: Uint8Array;
}

/** What must be durable before this node answers anyone. */
export interface HardState {
  /** The highest ballot this acceptor promised; it never goes down. */
  readonly promised: Ballot;
}

/**
 * What a restarted node recovers: its hard state, its newest snapshot, and its accepted records
 * (the latest per slot; those at or below the snapshot's index may be left out or are ignored).
 * What it had learned beyond the snapshot is volatile and learnt again from the leader.
 */
export interface DurableState {
  readonly hardState: HardState;
  readonly accepted: readonly AcceptedRecord[];
  readonly snapshot?: Snapshot | undefined;
}

/** A linearizable read point: serve the read once applied through `index`. */
export interface ReadState {
  readonly index: Slot;
  readonly context: Uint8Array;
}

export type Role = "follower" | "candidate" | "leader";

/** The only randomness the core uses; inject a seeded generator (util/prng.ts) for replayable runs. */
export interface Random {
  /** An integer in [min, maxExclusive). */
  int(min: number, maxExclusive: number): number;
}
