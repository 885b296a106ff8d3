/*
 * The commands the KV state machine applies: what a client asks the replicated store to do. Their
 * binary form, the payload of a Raft log entry, is in command_codec.ts.
 */

/** Identifies a client's write for exactly-once application: a client numbers its writes with `seq`. */
export interface Session {
  /** 1 to clientIdBytesMax characters of visible ASCII (0x21 to 0x7E). */
  readonly clientId: string;
  /** A non-negative safe integer; a retry reuses it, the next write uses a larger one. */
  readonly seq: number;
}

/** Keys are 1..keyBytesMax bytes, values 0..valueBytesMax bytes; both are treated as immutable. */
export interface PutCommand {
  readonly type: "put";
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** Compare-and-set: write only if the key's modRevision equals this (0: only if the key is absent). */
  readonly ifModRevision?: number;
  readonly session?: Session;
}

export interface DeleteCommand {
  readonly type: "delete";
  readonly key: Uint8Array;
  readonly session?: Session;
}

/**
 * Holds when every field given matches: `value` (an absent key has none, so it fails) and
 * `modRevision` (an absent key's is 0). At least one of the two is given.
 */
export interface TxnCompare {
  readonly key: Uint8Array;
  readonly value?: Uint8Array;
  readonly modRevision?: number;
}

export type TxnOp =
  | { readonly type: "put"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: "get"; readonly key: Uint8Array }
  | { readonly type: "delete"; readonly key: Uint8Array };

/**
 * Atomic: if all compares hold (an empty list holds), the success ops run in order, otherwise the
 * failure ops; a get sees the writes before it in the same branch. At most txnOpsMax of each list, and
 * a branch writes (puts or deletes) each key at most once, as in etcd, so a txn moves a key's version
 * by at most one.
 */
export interface TxnCommand {
  readonly type: "txn";
  readonly compare: readonly TxnCompare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
  readonly session?: Session;
}

export type KvCommand = PutCommand | DeleteCommand | TxnCommand;
