/*
 * The replicated key-value state machine (pure: no I/O, clock or randomness). The driver joins it to
 * Raft through the StateMachine interface, which KvStore matches structurally.
 */
export type { KvCommand, LeaseCheckpoint, Session, SessionCommand, TxnCompare, TxnOp } from "./commands.js";
export { noUser, sessionOf } from "./commands.js";
export type { Access, AuthCommand, AuthRefusal, PasswordHash, Permission } from "./auth_commands.js";
export { rootName } from "./auth_commands.js";
export { checkAuthName } from "./auth_codec.js";
export { keySpan, rangeSpan, type KeySpan } from "./key_span.js";
export { checkKey, checkLeaseId, checkValue, validateCommand } from "./command_checks.js";
export { decodeCommand, encodeCommand } from "./command_codec.js";
export type { KvEvent, KvListener } from "./events.js";
export type { LeaseInfo } from "./lease_table.js";
export {
  commandBytesMax,
  leaseCheckpointsMax,
  leaseTtlSecondsMax,
  rangeLimitMax,
  tokenKeyBytes,
  valueBytesMax,
} from "./limits.js";
export type { KeyValue, KvResult, TxnResponse } from "./results.js";
export type { StoredKv } from "./stored_kv.js";
export { KvStore } from "./store.js";
export type { RangeAnswer, RangeEntry, RangeRequest } from "./etcd_range.js";
export type { EtcdCompare, EtcdOp, EtcdResponse, EtcdTxn } from "./etcd_commands.js";
export { etcdTxnSize } from "./etcd_checks.js";
export { answerRange, etcdSpan, isEmptySpan } from "./etcd_range.js";
