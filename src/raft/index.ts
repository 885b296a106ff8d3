/** raftkv/raft: the pure, deterministic Raft core. */
export { RawNode, type Ready, type SoftState, type Status, type ReadIndexResult } from "./rawnode.js";
export type { Message, MessageType } from "./messages.js";
export type { Entry, EntryKind, HardState, Role, Snapshot, SnapshotMeta } from "./types.js";
export type { RaftOptions, Random, ReadOnlyMode } from "./options.js";
export type { DurableState, DropReason, ReadState, StepResult, RaftStats } from "./raft.js";
export type { ProposeError, ProposeResult } from "./leader.js";
export {
  decodeConfEntry,
  type ConfChange,
  type ConfChangeError,
  type ConfChangeType,
  type ConfEntry,
  type Config,
} from "./confchange.js";
export type { ConfChangeResult, TransferError } from "./membership.js";
export { logIndex, nodeId, term, NO_NODE, type LogIndex, type NodeId, type Term } from "../util/ids.js";
export { Prng } from "../util/prng.js";
