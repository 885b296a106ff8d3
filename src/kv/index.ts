/*
 * The replicated key-value state machine (pure: no I/O, clock or randomness). The driver joins it to
 * Raft through the StateMachine interface, which KvStore matches structurally.
 */
export type { DecodeResult } from "./command_codec.js";
export type { DeleteCommand, KvCommand, PutCommand, Session, TxnCommand, TxnCompare, TxnOp } from "./commands.js";
export {
  checkKey,
  checkValue,
  commandVersion,
  decodeCommand,
  encodeCommand,
  validateCommand,
} from "./command_codec.js";
export * from "./limits.js";
export type { ExecutedResult, KeyValue, KvResult, TxnResponse } from "./results.js";
export type { KvStoreOptions, RangeResult, RangeSpec } from "./store.js";
export { KvStore } from "./store.js";
