import { authCommandTypes, type AuthCommand } from "./auth_commands.js";
import type { EtcdTxn } from "./etcd_commands.js";

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

/**
 * Who sent a client's command, checked when it is applied with auth enabled (docs/auth.md): a user
 * name, or `noUser` (the empty string) when auth was off as the request was accepted. Commands the
 * members make themselves (lease expiry, checkpoints, compaction) carry none and are never refused.
 */
interface Sent {
  readonly principal?: string;
}

/** The principal of a request accepted while auth was off: refused if auth is on by the time it applies. */
export const noUser = "";

/** Keys are 1..keyBytesMax bytes, values 0..valueBytesMax bytes; both are treated as immutable. */
export interface PutCommand extends Sent {
  readonly type: "put";
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** Compare-and-set: write only if the key's modRevision equals this (0: only if the key is absent). */
  readonly ifModRevision?: number;
  /** Attaches the key to this lease (deleted with it); a put without one leaves the key attached to none. */
  readonly lease?: number;
  readonly session?: Session;
}

export interface DeleteCommand extends Sent {
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
  | { readonly type: "put"; readonly key: Uint8Array; readonly value: Uint8Array; readonly lease?: number }
  | { readonly type: "get"; readonly key: Uint8Array }
  | { readonly type: "delete"; readonly key: Uint8Array };

/**
 * Atomic: if all compares hold (an empty list holds), the success ops run in order, otherwise the
 * failure ops; a get sees the writes before it in the same branch. At most txnOpsMax of each list, and
 * a branch writes (puts or deletes) each key at most once, as in etcd, so a txn moves a key's version
 * by at most one.
 */
export interface TxnCommand extends Sent {
  readonly type: "txn";
  readonly compare: readonly TxnCompare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
  readonly session?: Session;
}

/** etcd's Txn, Put or DeleteRange (etcd_commands.ts), applied with etcd's semantics. */
export interface EtcdTxnCommand extends Sent, EtcdTxn {
  readonly type: "etcdTxn";
  readonly session?: Session;
}

/**
 * Creates lease `id` (a positive safe integer the proposer chose; an id in use is refused) with a TTL
 * in seconds. When it runs out is the leader's decision, not the state machine's (docs/coordination.md).
 */
export interface LeaseGrantCommand extends Sent {
  readonly type: "leaseGrant";
  readonly id: number;
  readonly ttlSeconds: number;
}

/** Ends a lease, deleting every key attached to it at one revision: revoked by a client, or expired. */
export interface LeaseRevokeCommand extends Sent {
  readonly type: "leaseRevoke";
  readonly id: number;
}

/**
 * Records how long leases had left when the leader wrote this, so that the next leader does not
 * give a long lease its whole TTL again; a `remainingMs` of the whole TTL clears the checkpoint.
 */
export interface LeaseCheckpointCommand {
  readonly type: "leaseCheckpoint";
  readonly checkpoints: readonly LeaseCheckpoint[];
}

export interface LeaseCheckpoint {
  readonly id: number;
  readonly remainingMs: number;
}

/** Forgets the change history before `revision` on every member: watches from earlier are refused. */
export interface CompactCommand extends Sent {
  readonly type: "compact";
  readonly revision: number;
}

/** The commands a client session makes exactly-once: the ones a client retries. */
export type SessionCommand = PutCommand | DeleteCommand | TxnCommand | EtcdTxnCommand;

export type KvCommand =
  SessionCommand | LeaseGrantCommand | LeaseRevokeCommand | LeaseCheckpointCommand | CompactCommand | SentAuthCommand;

type SentAuthCommand = AuthCommand & Sent;

/** The session of a command that can carry one. */
export function sessionOf(command: KvCommand): Session | undefined {
  return isSessionCommand(command) ? command.session : undefined;
}

function isSessionCommand(command: KvCommand): command is SessionCommand {
  return command.type === "put" || command.type === "delete" || command.type === "txn" || command.type === "etcdTxn";
}

/** The principal of a command that can carry one. */
export function principalOf(command: KvCommand): string | undefined {
  return command.type === "leaseCheckpoint" ? undefined : command.principal;
}

export function isAuthCommand(command: KvCommand): command is SentAuthCommand {
  return authCommandTypes.has(command.type);
}
