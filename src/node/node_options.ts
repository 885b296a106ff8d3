import type { EngineEntry, EngineReady, EngineRole, EngineTypes } from "../engine/engine.js";
import type { EngineFactory } from "../engine/factory.js";
import type { Config, ConfEntry, NodeId, RaftOptions, Random } from "../raft/index.js";
import type { StorageError } from "../storage/index.js";
import type { Clock } from "./clock.js";
import type { EngineStorage } from "./engine_storage.js";
import type { AddressBook, MemberAddress } from "./members.js";
import type { StateMachine } from "./state_machine.js";
import type { LogIndex } from "../util/ids.js";

export type ReadConsistency = "linearizable" | "lease" | "serializable";

/**
 * Optional callbacks for metrics; each is called on the hot path, so keep them cheap. `E` types
 * the checkers' hooks (the simulator's observer knows which engine it watches).
 */
export interface NodeObserver<E extends EngineTypes = EngineTypes> {
  persisted?(seconds: number, entries: number): void;
  applied?(seconds: number, entries: number): void;
  /** A proposal made here was appended to the log at `index` (a leader's), handed on (a follower's), or refused. */
  proposed?(outcome: "accepted" | "rejected", index?: LogIndex): void;
  /** A message from a peer arrived (before the core steps it). */
  messageReceived?(m: E["message"]): void;
  leaderChanged?(leader: NodeId): void;
  fatal?(error: StorageError): void;
  /** This node's role or term changed (seen in a Ready, before it is persisted). */
  roleChanged?(role: EngineRole, term: number): void;
  /** A proposal made here settled: applied ("committed") or failed (timeout, lost leadership, stopped, disk). */
  proposalSettled?(outcome: "committed" | "failed"): void;
  /** A ReadIndex round started (one round serves every read that joined it). */
  readIndexRound?(mode: "safe" | "lease"): void;
  /** A config entry is being applied here; called before the address book forgets a removed member. */
  configApplied?(index: number, entry: ConfEntry): void;
  /** A snapshot was taken here (`seconds`: encoding and the durable write) or installed from the leader (`seconds`: restoring from it). */
  snapshot?(info: { kind: "taken" | "installed"; index: number; bytes: number; seconds: number }): void;
  /** The log was compacted: entries through `index` are gone from the WAL. */
  compacted?(index: number): void;
  /** What the node recovered from its data directory when it started (for checkers). */
  recovered?(durable: E["durable"]): void;
  /** A Ready was taken from the core; its `messages` leave next (for checkers, which may read `node`). */
  readyStarted?(ready: EngineReady<E>, node: NodeView<E>): void;
  /** A Ready's write is durable; nothing of it was sent or applied yet (for checkers). */
  readyPersisted?(ready: EngineReady<E>): void;
  /** Entries handed to the state machine, in order, once applied (for checkers). */
  entriesApplied?(entries: readonly EngineEntry[]): void;
}

/** Core settings a node passes through; elections and heartbeats follow from its timing options. */
export type RaftTuning = Partial<
  Pick<
    RaftOptions,
    | "preVote"
    | "checkQuorum"
    | "readOnlyMode"
    | "appendEntriesMax"
    | "appendBytesMax"
    | "inflightMax"
    | "uncommittedBytesMax"
    | "applyBytesMax"
    | "promoteLagEntriesMax"
    | "clockDriftMax"
  >
>;

export interface EngineNodeOptions<E extends EngineTypes> {
  readonly id: NodeId;
  /** Builds the consensus core (Raft's voters and tuning are in it). */
  readonly engine: EngineFactory<E>;
  /** Names and addresses known at start; snapshots and config entries keep it current. */
  readonly addressBook: AddressBook;
  /** Called when a config entry adds or removes a member, so the transport can follow. */
  readonly onMembersChanged?: (change: { added?: [NodeId, MemberAddress]; removed?: NodeId }) => void;
  readonly stateMachine: StateMachine;
  readonly storage: EngineStorage<E>;
  readonly durable: E["durable"];
  readonly random: Random;
  readonly clock: Clock;
  readonly electionTimeoutMs: number;
  readonly heartbeatMs: number;
  /** Take a snapshot every this many applied entries, or this many applied command bytes. */
  readonly snapshotEntries: number;
  readonly snapshotBytes: number;
  /** Entries kept below a snapshot so a follower slightly behind needs no snapshot. */
  readonly snapshotKeepEntries: number;
  /** A proposal not applied within this time fails as "timeout" (outcome unknown). */
  readonly proposalTimeoutMs: number;
  readonly observer?: NodeObserver<E> | undefined;
  /** Readies whose persist may run at once (default 2, see readiesInFlightMaxDefault; an engine may allow fewer). */
  readonly readiesInFlightMax?: number | undefined;
  /** Check the core's invariants after every input (the simulator does; it costs a little). */
  readonly checkInvariants?: boolean | undefined;
  /**
   * Told of an error that escaped the Ready loop: a bug, after which the node is stopped. Without
   * it the error is thrown on, so the process dies with it.
   */
  readonly onBug?: ((error: unknown) => void) | undefined;
}

/** A node's view of itself, as `EngineNode.status()` reports it. */
export interface NodeStatus {
  readonly id: NodeId;
  readonly role: EngineRole;
  /** Raft's term; Multi-Paxos's ballot counter. */
  readonly term: number;
  readonly leader: NodeId;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
}

/** What an observer may read of the node that called it. */
export interface NodeView<E extends EngineTypes> {
  status(): NodeStatus;
  config(): Config;
  /** The core's own state for checkers (Raft: its log). */
  coreView(): E["view"];
}
