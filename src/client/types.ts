/**
 * The client's public types. Keys and values are bytes; a string argument stands for its UTF-8 bytes.
 * Every revision is the cluster-wide counter of docs/api.md (etcd's meaning), a safe integer ≥ 0.
 */

/** A key or value as given by a caller: a string means its UTF-8 encoding. */
export type Bytes = string | Uint8Array;

/** docs/api.md read levels: `linearizable` (ReadIndex, the server's default), `lease`, `serializable` (may be stale). */
export type Consistency = "linearizable" | "lease" | "serializable";
export const consistencies: readonly Consistency[] = ["linearizable", "lease", "serializable"];

/** One stored key. `text`/`keyText` are UTF-8 decodings for convenience (lossy for non-UTF-8 bytes). */
export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly keyText: string;
  readonly text: string;
  /** The revision that created the key (since its last deletion). */
  readonly createRevision: number;
  /** The revision of the last write to the key. */
  readonly modRevision: number;
  /** Writes to the key since it was created; 1 after the first put. */
  readonly version: number;
  /** The lease the key is attached to (it goes when the lease does); 0 for none. */
  readonly lease: number;
}

export interface PutResult {
  readonly revision: number;
}

/** The result of a conditional write: done at `revision`, or not done because the key held `current`. */
export type CompareResult =
  | { readonly succeeded: true; readonly revision: number }
  | { readonly succeeded: false; readonly current: KeyValue | undefined };

export interface DeleteResult {
  readonly revision: number;
  /** False when the key did not exist (nothing changed). */
  readonly deleted: boolean;
}

/** Which keys a range covers: all with a prefix, or [from, to) in byte order (`to` absent = to the end). */
export type RangeSelector = { readonly prefix: Bytes } | { readonly from: Bytes; readonly to?: Bytes };

export interface RangeResult {
  /** Ordered by key. */
  readonly kvs: readonly KeyValue[];
  /** True when the limit cut the answer short. */
  readonly more: boolean;
  readonly revision: number;
}

/**
 * A txn guard: the key's value equals `value`, and/or its modRevision equals `modRevision`
 * (0 = the key does not exist). At least one of the two is given.
 */
export interface Compare {
  readonly key: Bytes;
  readonly value?: Bytes;
  readonly modRevision?: number;
}

export type TxnOp =
  | { readonly type: "put"; readonly key: Bytes; readonly value: Bytes; readonly lease?: number }
  | { readonly type: "get"; readonly key: Bytes }
  | { readonly type: "delete"; readonly key: Bytes };

/** One op's outcome, in the order of the branch that ran. */
export type TxnOpResult =
  | { readonly type: "put"; readonly revision: number }
  | { readonly type: "get"; readonly kv: KeyValue | undefined }
  | { readonly type: "delete"; readonly deleted: boolean };

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success?: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

export interface TxnResult {
  /** True when every compare held and the success branch ran. */
  readonly succeeded: boolean;
  readonly revision: number;
  readonly responses: readonly TxnOpResult[];
}

export interface Member {
  /** The member's name, e.g. "n1". */
  readonly id: string;
  /** host:port of its peer (Raft) listener. */
  readonly peerAddr: string;
  /** A learner receives the log but does not vote. */
  readonly learner: boolean;
}

/** One node's own view of the cluster (`GET /v1/status`). */
export interface Status {
  readonly id: string;
  /** "leader", "follower", "candidate", ... as the server names it. */
  readonly role: string;
  readonly term: number;
  /** The leader this node knows of, if any. */
  readonly leader: string | undefined;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly members: readonly Member[];
}

/** The keys a watch covers: one key, all with a prefix, or [from, to) (`to` absent = to the end). */
export type WatchSelector = { readonly key: Bytes } | RangeSelector;

export interface WatchOptions {
  /** Deliver every change at this revision or later. Default: only changes after the watch starts. */
  readonly fromRevision?: number;
  /** Each event also carries the key-value before the change. */
  readonly prevKv?: boolean;
  /** Ask the server for periodic progress notifications while nothing else is sent. */
  readonly progressNotify?: boolean;
  /** Aborting closes the watch, as `close()` does. */
  readonly signal?: AbortSignal;
}

/** One key's change. Its revision is `kv.modRevision`. */
export interface WatchEvent {
  readonly type: "put" | "delete";
  /** The key after the change; a delete's has the deletion revision as modRevision and the rest empty. */
  readonly kv: KeyValue;
  /** With `prevKv`: the key before the change; undefined when it did not exist (or was not asked for). */
  readonly prevKv: KeyValue | undefined;
}

/**
 * What a watch delivers, in revision order, each revision once: the events of one or more whole
 * revisions up to `revision`, or a progress notification (every change up to `revision` has been
 * delivered).
 */
export type WatchMessage =
  | { readonly type: "events"; readonly revision: number; readonly events: readonly WatchEvent[] }
  | { readonly type: "progress"; readonly revision: number };

/**
 * A running watch: iterate it (once) for its messages. It connects at once and resumes by itself
 * across member failures; `break`, `close()` or the options' signal end it and its HTTP request.
 */
export interface Watch extends AsyncIterableIterator<WatchMessage> {
  /** Resolves once the first stream is open, with the revision after which changes are delivered. */
  readonly ready: Promise<number>;
  /** Asks the member serving the stream for one progress notification. */
  requestProgress(): Promise<void>;
  close(): void;
}

export interface Lease {
  readonly id: number;
  /** Seconds: the TTL granted, or the time a keepalive guarantees from its answer. */
  readonly ttl: number;
}

export interface LeaseRevokeResult {
  readonly revision: number;
  /** How many keys went with the lease. */
  readonly deleted: number;
}

export interface LeaseTimeToLive extends Lease {
  /** Seconds left before the leader expires the lease, by the leader's clock. */
  readonly remaining: number;
  /** The keys attached, when asked for (`keys: true`). */
  readonly keys: readonly Uint8Array[] | undefined;
}

export interface CompactResult {
  readonly compactRevision: number;
  readonly revision: number;
}
