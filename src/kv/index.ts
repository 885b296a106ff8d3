/*
 * The replicated key-value state machine (pure: no I/O, clock or randomness). The driver joins it to
 * Raft through the StateMachine interface, which KvStore matches structurally.
 */
export type { KvCommand, Session, TxnCompare, TxnOp } from "./commands.js";
export { checkKey, checkValue, decodeCommand, encodeCommand, validateCommand } from "./command_codec.js";
export { rangeLimitMax, valueBytesMax } from "./limits.js";
export type { KeyValue, KvResult, TxnResponse } from "./results.js";
export { KvStore } from "./store.js";
