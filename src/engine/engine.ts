import type { ConfChange, ConfChangeResult, Config, TransferError } from "../raft/index.js";
import { bytesEqual } from "../util/bytes.js";
import type { LogIndex, NodeId } from "../util/ids.js";

/**
 * The engine seam (docs/engines.md): what the node, the simulator and the product use of a pure
 * consensus core, in one vocabulary whatever the protocol. The core never calls out; the driver
 * takes a Ready, does its work in the order below, and calls `advance`.
 */

/** The names an engine answers to (`raftkv serve --engine`, identity.json, the simulator). */
export type EngineName = "raft" | "multi-paxos" | "zab";

/** Role names every engine maps onto (Raft's preCandidate included, which the others never report). */
export type EngineRole = "follower" | "preCandidate" | "candidate" | "leader";

/**
 * The types one engine is written in: its peer message, its durable write (what one Ready asks
 * to persist), what a restart recovers, and what storing one of its own snapshots needs.
 */
export interface EngineTypes {
  readonly message: unknown;
  readonly write: unknown;
  readonly durable: unknown;
  readonly snapshot: unknown;
  /** What checkers may read of the core beyond its status (Raft: its log; Multi-Paxos: its acceptor). */
  readonly view: unknown;
}

interface EngineSoftState {
  readonly role: EngineRole;
  /** NO_NODE when none is known. */
  readonly leader: NodeId;
  /** Who leads since when, as a number that only grows: Raft's term, Multi-Paxos's ballot counter, ZAB's epoch. */
  readonly reign: number;
}

/**
 * Names the proposal that filled an index, to tell a leader's own proposal from whatever replaced
 * it there: Raft's term (an index holds one entry per term); for Multi-Paxos the value's bytes,
 * which the node makes unique per proposal (a new leader proposes the same value again under its
 * own ballot, so a ballot would not name it); ZAB's zxid as one number (epoch · 2^32 + counter).
 */
export type EngineTag = number | Uint8Array;

/** Whether two tags name the same proposal. */
export function sameTag(a: EngineTag, b: EngineTag): boolean {
  return typeof a === "number" || typeof b === "number" ? a === b : bytesEqual(a, b);
}

/** One entry to apply, strictly in index order; the same at an index on every member. */
export interface EngineEntry {
  readonly index: LogIndex;
  /** "command": data for the state machine; "noop": fills a slot, applies nothing; "config": membership. */
  readonly kind: "command" | "noop" | "config";
  readonly data: Uint8Array;
  readonly tag: EngineTag;
}

export interface EngineReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/**
 * The work the core asks for, done in this order:
 *   1. persist `write` (one barrier when `mustSync`); restore from `installedSnapshot`;
 *   2. send `messagesAfterPersist` (`messages` may leave at once, even before 1);
 *   3. apply `committed` in order, serve `readStates` once applied through their index;
 *   4. advance(ready).
 */
export interface EngineReady<E extends EngineTypes> {
  readonly soft: EngineSoftState;
  readonly write: E["write"];
  readonly mustSync: boolean;
  /** Entries (records) the write makes durable, or undefined when it writes nothing (for metrics). */
  readonly writtenEntries: number | undefined;
  /** The leader's snapshot this Ready installs (data: what the node encoded, address book included). */
  readonly installedSnapshot: { readonly index: LogIndex; readonly data: Uint8Array } | undefined;
  readonly messages: readonly E["message"][];
  readonly messagesAfterPersist: readonly E["message"][];
  readonly committed: readonly EngineEntry[];
  readonly readStates: readonly EngineReadState[];
}

export type EngineProposal =
  | { readonly ok: true; readonly outcome: "appended"; readonly index: LogIndex; readonly tag: EngineTag }
  | { readonly ok: true; readonly outcome: "forwarded" }
  | { readonly ok: false; readonly error: "notLeader" | "noLeader" | "tooBusy"; readonly leader: NodeId };

/** How a read point is confirmed: a round to a quorum, or the leader's lease. */
export type ReadMode = "safe" | "lease";

export interface EngineStatus extends EngineSoftState {
  readonly id: NodeId;
  /** Raft's commit index; Multi-Paxos's chosenThrough. */
  readonly commitIndex: LogIndex;
  readonly appliedIndex: LogIndex;
  /** Raft's last index; Multi-Paxos's highest slot proposed or accepted. */
  readonly lastIndex: LogIndex;
  readonly snapshotIndex: LogIndex;
}

export interface EngineCapabilities {
  readonly name: EngineName;
  /**
   * What a proposal's EngineTag is: the reign it was appended in (Raft's term), or its bytes
   * (Multi-Paxos), in which case the node makes every proposal's bytes unique.
   */
  readonly proposalTag: "reign" | "bytes";
  /** Readies whose persist may run at once (Multi-Paxos: one, its own acceptor answers on advance). */
  readonly readiesInFlightMax: number | undefined;
  /**
   * Whether `snapshotTaken` may only come once the snapshot file is durable (Multi-Paxos: its
   * Promises report it as servable); Raft records it first and writes the file in the background.
   */
  readonly snapshotAfterStore: boolean;
  /**
   * False where the core keeps no snapshots (ZAB: its whole history, a lagging member catches up by
   * history sync): the node never takes one. Absent: it does (Raft, Multi-Paxos).
   */
  readonly snapshots?: false;
}

/** Names a stored snapshot file to read back (Raft's snapshot metadata has both). */
export interface SnapshotRef {
  readonly index: LogIndex;
  readonly term: number;
}

/** A snapshot the core recorded: the engine's own storage data for it, and what the log may now forget. */
export interface SnapshotTaken<S> {
  readonly index: LogIndex;
  readonly store: S;
  /** The log through this index may now be dropped from disk (undefined: nothing more than before). */
  readonly compactThrough: LogIndex | undefined;
}

/** What the node drives; `E` names the engine's own types. */
export interface EngineCore<E extends EngineTypes> {
  readonly id: NodeId;
  readonly capabilities: EngineCapabilities;
  tick(): void;
  /** A stale, unexpected or malformed message is dropped and counted, never thrown. */
  step(m: E["message"]): void;
  propose(data: Uint8Array): EngineProposal;
  /** A ReadState with `context` comes in a later Ready. */
  read(context: Uint8Array, mode: ReadMode): { readonly ok: boolean };
  hasReady(): boolean;
  ready(): EngineReady<E>;
  /** `messages` only, while earlier Readies are still being persisted (heartbeats must not wait). */
  takeMessages(): E["message"][];
  advance(ready: EngineReady<E>): void;
  /**
   * The state machine holds a snapshot through `index`, whose data goes to disk (the core keeps
   * none); the core compacts below it. Undefined when a newer one is already in place.
   */
  snapshotTaken(s: { index: LogIndex; keepEntries: number }): SnapshotTaken<E["snapshot"]> | undefined;
  /** A message that must carry a snapshot read back from disk before it leaves (no core keeps one in memory). */
  snapshotToLoad(m: E["message"]): SnapshotRef | undefined;
  withSnapshotData(m: E["message"], data: Uint8Array): E["message"];
  status(): EngineStatus;
  view(): E["view"];
  /** The configuration in force (a fixed ensemble's voters where the engine has no membership changes). */
  config(): Config;
  /** Membership changes, where the engine has them (Raft); undefined for a fixed ensemble. */
  readonly membership: EngineMembership | undefined;
}

export interface EngineMembership {
  propose(changes: ConfChange | readonly ConfChange[]): ConfChangeResult;
  transferLeader(to: NodeId): { ok: true } | { ok: false; error: TransferError };
}
