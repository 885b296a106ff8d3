import type { Message, NodeId, RawNode, Ready, Status } from "../raft/index.js";

/**
 * What the driver does with every Ready, whatever the engine (docs/engines.md): persist what it
 * asks with one barrier when `mustSync`, send `messagesAfterPersist` only then (`messages` at
 * once), apply `committedEntries` in order, serve `readStates` once applied through their index.
 * The durable part (Raft's hard state and entries, Paxos's promise and accepted records, ZAB's
 * epochs and history) stays in the engine's own Ready type.
 */
export interface CoreReady<M> {
  readonly messages: readonly M[];
  readonly messagesAfterPersist: readonly M[];
  readonly mustSync: boolean;
  readonly committedEntries: readonly { readonly index: number; readonly data: Uint8Array }[];
  readonly readStates: readonly { readonly index: number; readonly context: Uint8Array }[];
}

/** What every engine reports of itself. */
export interface CoreStatus {
  readonly id: NodeId;
  readonly leader: NodeId;
  readonly appliedIndex: number;
}

/**
 * The engine seam: what a pure consensus core offers the driver that runs it (RawNode,
 * MultiPaxosNode and ZabNode each have this shape). `M` is its peer message, `R` its Ready, `S`
 * its status. Proposals, reads, snapshots and membership differ in vocabulary from engine to
 * engine and are added per engine (RaftEngine below); docs/engines.md has the plan to normalise them.
 */
export interface ConsensusCore<M, R extends CoreReady<M>, S extends CoreStatus> {
  readonly id: NodeId;
  tick(): void;
  /** A stale, unexpected or malformed message is dropped and counted, never thrown. */
  step(m: M): { readonly ok: boolean };
  hasReady(): boolean;
  ready(): R;
  /** A Ready's `messages`, taken while earlier Readies are still being persisted. */
  takeMessages(): M[];
  advance(ready: R): void;
  status(): S;
}

/**
 * The seam as Raft fills it: the core calls, plus the proposals, ReadIndex, snapshots, membership
 * and log access the node uses today. `RawNode` implements it; the node holds no more than this.
 */
export interface RaftEngine
  extends
    ConsensusCore<Message, Ready, Status>,
    Pick<
      RawNode,
      | "propose"
      | "readIndex"
      | "snapshotTaken"
      | "proposeConfChange"
      | "transferLeader"
      | "config"
      | "termAt"
      | "firstIndex"
    > {}
