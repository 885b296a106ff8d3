import { assert } from "../util/assert.js";
import { logIndex, type LogIndex } from "../util/ids.js";
import { binaryBytes, binaryString } from "./binary.js";
import { isAuthCommand, sessionOf, type KvCommand } from "./commands.js";
import type {
  CompactCommand,
  DeleteCommand,
  EtcdTxnCommand,
  LeaseCheckpointCommand,
  LeaseGrantCommand,
  LeaseRevokeCommand,
  PutCommand,
  SessionCommand,
  TxnCommand,
  TxnCompare,
  TxnOp,
} from "./commands.js";
import { decodeCommand } from "./command_codec.js";
import { applyEtcdTxn, type EtcdTxnStore } from "./etcd_apply.js";
import { AuthState, type AuthView } from "./auth_state.js";
import { permitted } from "./command_permissions.js";
import { ChangeFeed, deletedKv, type KvListener } from "./events.js";
import { keyBounds, type RangeResult, type RangeSpec } from "./key_range.js";
import type { KeySpan } from "./key_span.js";
import { answerRange, etcdSpan, inKeyOrder, isEmptySpan, isOneKey, publicKv } from "./etcd_range.js";
import type { RangeAnswer, RangeEntry, RangeRequest } from "./etcd_range.js";
import { LeaseTable, type LeaseInfo } from "./lease_table.js";
import { rangeLimitMax, sessionExpiryEntriesDefault, sessionsMaxDefault } from "./limits.js";
import type { CompactResult, ExecutedResult, KeyValue, KvResult, LeaseResult, TxnResponse } from "./results.js";
import { encodeSnapshot, SnapshotEncoder, type SnapshotHeader } from "./snapshot.js";
import { restoreInSteps, SnapshotDecoder, type DecodedState, type RestoreSteps } from "./snapshot_decoder.js";
import { SessionTable, type SessionLimits } from "./sessions.js";
import { SortedKeys } from "./sorted_keys.js";
import type { StoredKv } from "./stored_kv.js";
import { toKeyValue } from "./stored_kv.js";

/** Session-table bounds (limits.ts has the defaults); every replica must be given the same values. */
export interface KvStoreOptions {
  readonly sessionsMax?: number;
  readonly sessionExpiryEntries?: number;
}

/**
 * The replicated key-value state machine: structurally a `StateMachine<KvResult>` (src/node), with
 * etcd's revision model and exactly-once sessions. Deterministic: the same entries applied in the same
 * order give the same results and the same snapshot bytes on every replica.
 *
 * Invariants: `revision()` is the number of applied commands that wrote (a txn or a lease's end
 * counts once); every key-value has 1 ≤ createRevision ≤ modRevision ≤ revision(); `#kvs` and `#keys`
 * hold the same keys (as binary strings, see binary.ts); a key-value's lease is 0 or a lease in
 * `#leases`, which lists the key among its own; compactRevision() ≤ revision(); `appliedIndex()` only
 * grows, except by `restore`.
 */
export class KvStore {
  readonly #limits: SessionLimits;
  #kvs = new Map<string, StoredKv>();
  #keys = new SortedKeys();
  #revision = 0;
  #compactRevision = 0;
  #appliedIndex = logIndex(0);
  #sessions: SessionTable;
  #leases = new LeaseTable();
  #auth = new AuthState();
  readonly #feed = new ChangeFeed(() => this.#revision);
  /**
   * While a snapshot begun by beginSnapshot is being encoded: the state each key had when it began
   * (null: absent), recorded on the key's first change after that.
   */
  #preImages: Map<string, StoredKv | null> | undefined;

  constructor(options: KvStoreOptions = {}) {
    this.#limits = {
      sessionsMax: options.sessionsMax ?? sessionsMaxDefault,
      sessionExpiryEntries: options.sessionExpiryEntries ?? sessionExpiryEntriesDefault,
    };
    this.#sessions = new SessionTable(this.#limits);
  }

  /**
   * Applies the committed entry at `index` (greater than every index applied before: anything else is
   * a driver bug and throws). Never throws on the entry's bytes: an entry that does not decode, or
   * whose session seq is stale, is an `invalid` no-op. A retry of a session's last write returns the
   * first result without executing again.
   */
  apply(command: Uint8Array, index: LogIndex): KvResult {
    assert(
      Number.isSafeInteger(index) && index > this.#appliedIndex,
      `kv apply: index ${index} after applied index ${this.#appliedIndex}`,
    );
    this.#appliedIndex = index;
    this.#sessions.expire(index);
    const decoded = decodeCommand(command);
    if (!decoded.ok) return { type: "invalid", error: decoded.error };
    const { command: decodedCommand } = decoded;
    // Before the session table: a retry must not reveal a txn's remembered reads to a revoked user.
    if (!this.permitted(decodedCommand)) return { type: "permissionDenied", revision: this.#revision };
    const session = sessionOf(decodedCommand);
    if (session === undefined) return this.#feed.execute(() => this.#run(decodedCommand));
    const sessionCommand = decodedCommand as SessionCommand; // sessionOf finds sessions on these only
    const check = this.#sessions.check(session, index);
    switch (check.type) {
      case "duplicate":
        return check.result;
      case "stale":
        return { type: "invalid", error: "stale sequence" };
      case "new": {
        const result = this.#feed.execute(() => this.#runSession(sessionCommand));
        this.#sessions.record(session, result, index);
        return result;
      }
    }
  }

  /**
   * Whether `command`'s principal may run it on the state as it is now: what `apply` checks, and what
   * the server checks first to refuse early (docs/auth.md).
   */
  permitted(command: KvCommand): boolean {
    return permitted(this.#auth, command, this.#leases);
  }

  /** Users, roles and permissions, read-only (the store changes them only by applying commands). */
  get auth(): AuthView {
    return this.#auth;
  }

  /** Tells `listener` of every change from now on (listeners are never removed: they live as long as the store). */
  listen(listener: KvListener): void {
    this.#feed.listen(listener);
  }

  /** The index of the last entry given to `apply` (or restored with a snapshot); 0 before any. */
  appliedIndex(): LogIndex {
    return this.#appliedIndex;
  }

  /** The store revision: how many applied commands wrote. 0 for an empty history; the first write makes it 1. */
  revision(): number {
    return this.#revision;
  }

  /** History before this revision is forgotten cluster-wide (0: none compacted yet). */
  compactRevision(): number {
    return this.#compactRevision;
  }

  /** Lease `id` and its keys, or undefined if there is none (never granted, revoked or expired). */
  lease(id: number): (LeaseInfo & { readonly keys: readonly Uint8Array[] }) | undefined {
    const info = this.#leases.info(id);
    if (info === undefined) return undefined;
    const keys = [...this.#leases.keys(id)].sort((a, b) => (a < b ? -1 : 1));
    return { ...info, keys: keys.map((key) => binaryBytes(key)) };
  }

  /** Lease `id` without its keys (cheap: a lease may hold many keys), or undefined if there is none. */
  leaseInfo(id: number): LeaseInfo | undefined {
    return this.#leases.info(id);
  }

  /** Every lease, in ascending id order. */
  leases(): LeaseInfo[] {
    return this.#leases.all();
  }

  keyCount(): number {
    return this.#kvs.size;
  }

  sessionCount(): number {
    return this.#sessions.size;
  }

  /** The key's current key-value, or null. */
  get(key: Uint8Array): KeyValue | null {
    return this.#keyValue(binaryString(key));
  }

  /** The key-values in `spec`, at most `limit` (1 to rangeLimitMax) of them. */
  range(spec: RangeSpec, limit: number): RangeResult {
    assert(Number.isSafeInteger(limit) && limit >= 1 && limit <= rangeLimitMax, `kv range: limit ${limit}`);
    const { from, to } = keyBounds(spec);
    if (to !== undefined && to <= from) return { kvs: [], more: false };
    const { keys, more } = this.#keys.range(from, to, limit);
    return { kvs: keys.map((key) => toKeyValue(key, this.#kvs.get(key)!)), more };
  }

  /**
   * etcd's Range on the current state (etcd_range.ts); `request.revision` must be 0 or absent (past
   * revisions are the member's history's business). Counting and taking the first keys of a range in
   * key order do not visit the rest of it.
   */
  rangeEtcd(request: RangeRequest): RangeAnswer {
    assert(!request.revision, "kv rangeEtcd: a past revision is read from the history");
    const span = etcdSpan(request.key, request.rangeEnd);
    if (isEmptySpan(span)) return { kvs: [], more: false, count: 0 };
    if (!inKeyOrder(request) || isOneKey(span)) return answerRange(request, this.rangeEntries(span));
    const count = this.#keys.count(span.from, span.to);
    if (request.countOnly === true) return { kvs: [], more: false, count };
    const limit = request.limit || Infinity;
    const { keys, more } = this.#keys.range(span.from, span.to, limit);
    return { kvs: keys.map((key) => publicKv(request, { key, kv: this.#kvs.get(key)! })), more, count };
  }

  /** Every key in `span` with its state, in ascending key order. */
  rangeEntries(span: KeySpan): RangeEntry[] {
    if (isEmptySpan(span)) return [];
    if (isOneKey(span)) return this.#kvs.has(span.from) ? [{ key: span.from, kv: this.#kvs.get(span.from)! }] : [];
    return this.#keys.range(span.from, span.to, Infinity).keys.map((key) => ({ key, kv: this.#kvs.get(key)! }));
  }

  /** The whole state, deterministically: the same state gives the same bytes. */
  snapshot(): Uint8Array {
    const kvs = this.#kvs;
    return encodeSnapshot({ ...this.#header(), keys: this.#sortedKeys(), lookup: (key) => kvs.get(key)! });
  }

  /**
   * Starts a snapshot of the state as it is now, encoded a piece at a time by the returned encoder's
   * `step` (the pieces add up to the bytes snapshot() would give now). `apply` may run between
   * steps: a key it changes first has its current state kept aside for the snapshot, until the
   * snapshot is complete or another one begins. Copying the key list is the only work proportional
   * to the store here.
   */
  beginSnapshot(): { step(bytesMax: number): { readonly bytes: Uint8Array; readonly done: boolean } } {
    const kvs = this.#kvs;
    const preImages = new Map<string, StoredKv | null>();
    this.#preImages = preImages;
    // Keys in the list existed when the snapshot began, so a pre-image of one is never null.
    const lookup = (key: string): StoredKv => preImages.get(key) ?? kvs.get(key)!;
    const encoder = new SnapshotEncoder({ ...this.#header(), keys: this.#sortedKeys(), lookup });
    return {
      step: (bytesMax) => {
        const piece = encoder.step(bytesMax);
        if (piece.done && this.#preImages === preImages) this.#preImages = undefined;
        return piece;
      },
    };
  }

  #header(): SnapshotHeader {
    return {
      appliedIndex: this.#appliedIndex,
      revision: this.#revision,
      compactRevision: this.#compactRevision,
      sessions: this.#sessions,
      leases: this.#leases,
      auth: this.#auth,
    };
  }

  #sortedKeys(): string[] {
    const keys: string[] = [];
    this.#keys.forEach((key) => keys.push(key));
    return keys;
  }

  /**
   * Replaces the state with a snapshot's. Throws an Error naming the problem when the bytes are not a
   * valid snapshot (and then leaves the state as it was).
   */
  restore(snapshot: Uint8Array): void {
    this.beginRestore(snapshot).step(Infinity);
  }

  /**
   * restore, a piece at a time (snapshot_decoder.ts's restoreInSteps): the state stays as it was, and
   * may be read, until the last step; `apply` must not run in between (its changes would be lost).
   */
  beginRestore(snapshot: Uint8Array): RestoreSteps {
    return restoreInSteps(new SnapshotDecoder(snapshot, this.#limits), (state) => this.#adopt(state));
  }

  #adopt(state: DecodedState): void {
    this.#kvs = state.kvs;
    this.#keys = state.keys;
    this.#revision = state.revision;
    this.#compactRevision = state.compactRevision;
    this.#appliedIndex = state.appliedIndex;
    this.#sessions = state.sessions;
    this.#leases = state.leases;
    this.#auth = state.auth;
    this.#preImages = undefined;
    this.#feed.tell((l) => l.restored?.(this.#revision, this.#compactRevision));
  }

  #runSession(command: SessionCommand): ExecutedResult {
    switch (command.type) {
      case "put":
        return this.#put(command);
      case "delete":
        return this.#delete(command);
      case "txn":
        return this.#txn(command);
      case "etcdTxn":
        return this.#etcdTxn(command);
    }
  }

  /** etcd's txn (etcd_apply.ts), at the next revision if it writes. */
  #etcdTxn(command: EtcdTxnCommand): ExecutedResult {
    const outcome = applyEtcdTxn(this.#etcdTxnStore, command, this.#revision + 1);
    if (outcome.type !== "etcdTxn") return { ...outcome, revision: this.#revision };
    if (outcome.wrote) this.#revision++;
    const { succeeded, responses } = outcome;
    return { type: "etcdTxn", succeeded, revision: this.#revision, responses };
  }

  readonly #etcdTxnStore: EtcdTxnStore = {
    entries: (span) => this.rangeEntries(span),
    range: (request) => this.rangeEtcd(request),
    hasLease: (id) => this.#leases.has(id),
    put: (key, value, lease, revision) => this.#set(key, value, lease, revision),
    remove: (key, revision) => void this.#remove(key, revision),
  };

  #run(command: KvCommand): KvResult {
    if (isAuthCommand(command)) return this.#auth.apply(command, this.#revision);
    switch (command.type) {
      case "put":
      case "delete":
      case "txn":
      case "etcdTxn":
        return this.#runSession(command);
      case "leaseGrant":
        return this.#grant(command);
      case "leaseRevoke":
        return this.#revoke(command);
      case "leaseCheckpoint":
        return this.#checkpoint(command);
      case "compact":
        return this.#compact(command);
    }
  }

  #put(command: PutCommand): ExecutedResult {
    if (command.lease !== undefined && !this.#leases.has(command.lease))
      return { type: "leaseNotFound", id: command.lease, revision: this.#revision };
    const key = binaryString(command.key);
    const current = this.#kvs.get(key);
    if (command.ifModRevision !== undefined && (current?.modRevision ?? 0) !== command.ifModRevision) {
      return {
        type: "compareFailed",
        current: current === undefined ? null : toKeyValue(key, current),
        revision: this.#revision,
      };
    }
    this.#revision++;
    this.#write(key, command, this.#revision);
    return { type: "put", revision: this.#revision };
  }

  #delete(command: DeleteCommand): ExecutedResult {
    const key = binaryString(command.key);
    if (!this.#kvs.has(key)) return { type: "delete", revision: this.#revision, deleted: 0 };
    this.#revision++;
    this.#remove(key, this.#revision);
    return { type: "delete", revision: this.#revision, deleted: 1 };
  }

  #grant(command: LeaseGrantCommand): LeaseResult {
    const { id, ttlSeconds } = command;
    if (this.#leases.has(id)) return { type: "leaseExists", id, revision: this.#revision };
    this.#leases.grant(id, ttlSeconds);
    this.#feed.tell((l) => l.leaseGranted?.(id, ttlSeconds));
    return { type: "leaseGranted", id, ttlSeconds, revision: this.#revision };
  }

  /** The lease's keys go at one revision, in key order (attachment order differs after a restore). */
  #revoke(command: LeaseRevokeCommand): KvResult {
    const { id } = command;
    if (!this.#leases.has(id)) return { type: "leaseNotFound", id, revision: this.#revision };
    const keys = [...this.#leases.revoke(id)].sort((a, b) => (a < b ? -1 : 1));
    if (keys.length > 0) this.#revision++;
    for (const key of keys) this.#remove(key, this.#revision);
    this.#feed.tell((l) => l.leaseRevoked?.(id));
    return { type: "leaseRevoked", id, deleted: keys.length, revision: this.#revision };
  }

  #checkpoint(command: LeaseCheckpointCommand): LeaseResult {
    for (const { id, remainingMs } of this.#leases.checkpoint(command.checkpoints))
      this.#feed.tell((l) => l.leaseCheckpointed?.(id, remainingMs));
    return { type: "leaseCheckpointed", revision: this.#revision };
  }

  #compact(command: CompactCommand): CompactResult {
    const { revision } = command;
    const refused = revision > this.#revision ? "future" : revision <= this.#compactRevision ? "compacted" : undefined;
    if (refused !== undefined)
      return {
        type: "compactRefused",
        reason: refused,
        compactRevision: this.#compactRevision,
        revision: this.#revision,
      };
    this.#compactRevision = revision;
    this.#feed.tell((l) => l.compacted?.(revision));
    return { type: "compacted", compactRevision: revision, revision: this.#revision };
  }

  /** Ops run in order at one revision, bumped once if any op wrote; validation at decode means none can fail. */
  #txn(command: TxnCommand): ExecutedResult {
    const succeeded = command.compare.every((c) => this.#holds(c));
    // As in etcd, a missing lease fails the whole txn before any op runs.
    for (const op of succeeded ? command.success : command.failure) {
      if (op.type === "put" && op.lease !== undefined && !this.#leases.has(op.lease))
        return { type: "leaseNotFound", id: op.lease, revision: this.#revision };
    }
    const revision = this.#revision + 1;
    const responses = (succeeded ? command.success : command.failure).map((op) => this.#runOp(op, revision));
    const wrote = responses.some((r) => r.type === "put" || (r.type === "delete" && r.deleted === 1));
    if (wrote) this.#revision = revision;
    return { type: "txn", succeeded, revision: this.#revision, responses };
  }

  #holds(compare: TxnCompare): boolean {
    const current = this.#kvs.get(binaryString(compare.key));
    if (compare.value !== undefined && (current === undefined || current.value !== binaryString(compare.value)))
      return false;
    return compare.modRevision === undefined || (current?.modRevision ?? 0) === compare.modRevision;
  }

  #runOp(op: TxnOp, revision: number): TxnResponse {
    const key = binaryString(op.key);
    switch (op.type) {
      case "get":
        return { type: "get", kv: this.#keyValue(key) };
      case "put":
        this.#write(key, op, revision);
        return { type: "put" };
      case "delete":
        return { type: "delete", deleted: this.#remove(key, revision) };
    }
  }

  #keepPreImage(key: string, current: StoredKv | undefined): void {
    const preImages = this.#preImages;
    if (preImages !== undefined && !preImages.has(key)) preImages.set(key, current ?? null);
  }

  #keyValue(key: string): KeyValue | null {
    const stored = this.#kvs.get(key);
    return stored === undefined ? null : toKeyValue(key, stored);
  }

  /** Sets the key's value at `revision` (as a string, which copies it out of the log entry's bytes). */
  #write(key: string, op: { readonly value: Uint8Array; readonly lease?: number }, revision: number): void {
    this.#set(key, binaryString(op.value), op.lease ?? 0, revision);
  }

  #set(key: string, value: string, lease: number, revision: number): void {
    const current = this.#kvs.get(key);
    this.#keepPreImage(key, current);
    this.#leases.move(key, current?.lease ?? 0, lease);
    let kv: StoredKv;
    if (current === undefined) {
      this.#keys.insert(key);
      kv = { value, createRevision: revision, modRevision: revision, version: 1, lease };
    } else {
      kv = {
        value,
        createRevision: current.createRevision,
        modRevision: revision,
        version: current.version + 1,
        lease,
      };
    }
    this.#kvs.set(key, kv);
    this.#feed.push({ type: "put", key, kv, prev: current });
  }

  #remove(key: string, revision: number): 0 | 1 {
    const current = this.#kvs.get(key);
    if (current === undefined) return 0;
    this.#keepPreImage(key, current);
    this.#leases.move(key, current.lease, 0);
    this.#kvs.delete(key);
    this.#keys.delete(key);
    this.#feed.push({ type: "delete", key, kv: deletedKv(revision), prev: current });
    return 1;
  }
}
