/**
 * raftkv's ZAB core: ZooKeeper Atomic Broadcast as a pure, deterministic state machine beside
 * src/raft, driven the same way. A driver builds `new ZabNode(options, recoveredDurableState)`,
 * calls tick() on a timer, step() with each decoded message (decodeZabMessage), propose() (on the
 * leader), forward() (on a follower, which passes it to the leader) and sync() for clients, and
 * runs the Ready loop: write `history` then `epochs` (applyWrite shows the rule), send
 * `messagesAfterPersist` only after that write, apply `committedEntries`, serve `readStates` once
 * applied through their index, advance(). Plain reads of a member's own state
 * are ZooKeeper's default and may be stale; `sync` gives linearizable ones. The safety checks are
 * for simulators: run checkDelivery and checkCommittedDurable on each applied entry,
 * checkAcknowledgedDurable on each message sent, and checkLeaderCompleteness and
 * checkOneLeaderPerEpoch on each member after each step.
 */
export {
  ZabNode,
  type ZabReady,
  type ZabSoftState,
  type ZabStatus,
  type ZabStepResult,
  type SyncResult,
} from "./zab_node.js";
export type { ProposeResult } from "./leader.js";
export type { ZabMessage, ZabMessageType } from "./messages.js";
export type { ZabOptions, Random } from "./options.js";
export type { Epochs, ZabStats } from "./state.js";
export type { HistoryWrite } from "./history.js";
export {
  compareZxid,
  epoch,
  formatZxid,
  zxid,
  zxidEqual,
  ZXID_ZERO,
  type DurableState,
  type Epoch,
  type EpochExtent,
  type HistoryEntry,
  type Phase,
  type ReadState,
  type Role,
  type Txn,
  type Vote,
  type Zxid,
} from "./types.js";
export { decodeZabMessage, encodeZabMessage, ZAB_WIRE_VERSION, type ZabDecodeResult } from "./codec.js";
export { applyWrite, EMPTY_DURABLE_STATE } from "./durable.js";
export {
  checkAcknowledgedDurable,
  checkCommittedDurable,
  checkDelivery,
  checkLeaderCompleteness,
  checkOneLeaderPerEpoch,
  createDeliveryLedger,
  type DeliveryLedger,
  type Delivery,
  type MemberView,
} from "./safety.js";
