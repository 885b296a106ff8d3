import type { LogIndex, NodeId, Term } from "../util/ids.js";

/**
 * One log entry. `normal` carries application data (empty data = the leader's no-op that opens its
 * term); `config` carries an encoded configuration change.
 * Invariant: within a log, indexes are consecutive and terms never decrease.
 */
export interface Entry {
  readonly index: LogIndex;
  readonly term: Term;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

export type EntryKind = "normal" | "config";

/** What must be durable before a node answers anyone: its term, its vote in that term, and its commit. */
export interface HardState {
  readonly term: Term;
  /** The node this node voted for in `term`; NO_NODE when it has not voted. */
  readonly vote: NodeId;
  readonly commit: LogIndex;
}

/** Where a snapshot ends and the configuration in force there. */
export interface SnapshotMeta {
  readonly index: LogIndex;
  readonly term: Term;
  readonly voters: readonly NodeId[];
  /** The old voters while the configuration is joint; empty otherwise. */
  readonly votersOutgoing: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** A state machine's state through `meta.index`, with the metadata Raft needs to continue after it. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export type Role = "follower" | "preCandidate" | "candidate" | "leader";
