import { assert } from "../util/assert.js";
import type { LogIndex } from "../util/ids.js";
import { logIndex } from "../util/ids.js";
import { binaryString } from "./binary.js";
import type { DeleteCommand, KvCommand, PutCommand, TxnCommand, TxnCompare, TxnOp } from "./commands.js";
import { decodeCommand } from "./command_codec.js";
import { rangeLimitMax, sessionExpiryEntriesDefault, sessionsMaxDefault } from "./limits.js";
import type { ExecutedResult, KeyValue, KvResult, TxnResponse } from "./results.js";
import { decodeSnapshot, encodeSnapshot, SnapshotEncoder } from "./snapshot.js";
import type { SessionLimits } from "./sessions.js";
import { SessionTable } from "./sessions.js";
import { SortedKeys } from "./sorted_keys.js";
import type { StoredKv } from "./stored_kv.js";
import { toKeyValue } from "./stored_kv.js";

/** Session-table bounds (limits.ts has the defaults); every replica must be given the same values. */
export interface KvStoreOptions {
  readonly sessionsMax?: number;
  readonly sessionExpiryEntries?: number;
}

/**
 * The keys a range covers: those starting with `prefix` (all keys for an empty one), or those k with
 * `from` ≤ k < `to` (no upper bound without `to`), comparing bytes lexicographically.
 */
type RangeSpec = { readonly prefix: Uint8Array } | { readonly from: Uint8Array; readonly to?: Uint8Array };

/** Up to `limit` key-values in ascending key order; `more` when the range held others past the last. */
interface RangeResult {
  readonly kvs: readonly KeyValue[];
  readonly more: boolean;
}

/**
 * The replicated key-value state machine: structurally a `StateMachine<KvResult>` (src/node), with
 * etcd's revision model and exactly-once sessions. Deterministic: the same entries applied in the same
 * order give the same results and the same snapshot bytes on every replica.
 *
 * Invariants: `revision()` is the number of applied commands that wrote (a txn counts once); every
 * key-value has 1 ≤ createRevision ≤ modRevision ≤ revision(); `#kvs` and `#keys` hold the same keys
 * (as binary strings, see binary.ts); `appliedIndex()` only grows, except by `restore`.
 */
export class KvStore {
  readonly #limits: SessionLimits;
  #kvs = new Map<string, StoredKv>();
  #keys = new SortedKeys();
  #revision = 0;
  #appliedIndex = logIndex(0);
  #sessions: SessionTable;
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
    const { session } = decoded.command;
    if (session === undefined) return this.#execute(decoded.command);
    const check = this.#sessions.check(session, index);
    switch (check.type) {
      case "duplicate":
        return check.result;
      case "stale":
        return { type: "invalid", error: "stale sequence" };
      case "new": {
        const result = this.#execute(decoded.command);
        this.#sessions.record(session, result, index);
        return result;
      }
    }
  }

  /** The index of the last entry given to `apply` (or restored with a snapshot); 0 before any. */
  appliedIndex(): LogIndex {
    return this.#appliedIndex;
  }

  /** The store revision: how many applied commands wrote. 0 for an empty history; the first write makes it 1. */
  revision(): number {
    return this.#revision;
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
    let from: string;
    let to: string | undefined;
    if ("prefix" in spec) {
      from = binaryString(spec.prefix);
      to = prefixEnd(from);
    } else {
      from = binaryString(spec.from);
      to = spec.to === undefined ? undefined : binaryString(spec.to);
    }
    if (to !== undefined && to <= from) return { kvs: [], more: false };
    const { keys, more } = this.#keys.range(from, to, limit);
    return { kvs: keys.map((key) => toKeyValue(key, this.#kvs.get(key)!)), more };
  }

  /** The whole state, deterministically: the same state gives the same bytes. */
  snapshot(): Uint8Array {
    const kvs = this.#kvs;
    return encodeSnapshot({ ...this.#header(), keys: this.#sortedKeys(), lookup: (key) => kvs.get(key)! });
  }

  /**
   * Starts a snapshot of the state as it is now, encoded a piece at a time by the returned encoder's
   * `step` (the same bytes snapshot() would give now). `apply` may run between steps: a key it
   * changes first has its current state kept aside for the snapshot, until the snapshot is complete
   * or another one begins. Copying the key list is the only work proportional to the store here.
   * The snapshot starts after `headroomBytes` zero bytes left for the caller.
   */
  beginSnapshot(headroomBytes = 0): { step(bytesMax: number): Uint8Array | undefined } {
    const kvs = this.#kvs;
    const preImages = new Map<string, StoredKv | null>();
    this.#preImages = preImages;
    // Keys in the list existed when the snapshot began, so a pre-image of one is never null.
    const lookup = (key: string): StoredKv => preImages.get(key) ?? kvs.get(key)!;
    const encoder = new SnapshotEncoder({ ...this.#header(), keys: this.#sortedKeys(), lookup }, headroomBytes);
    return {
      step: (bytesMax) => {
        const done = encoder.step(bytesMax);
        if (done !== undefined && this.#preImages === preImages) this.#preImages = undefined;
        return done;
      },
    };
  }

  #header(): { appliedIndex: LogIndex; revision: number; sessions: SessionTable } {
    return { appliedIndex: this.#appliedIndex, revision: this.#revision, sessions: this.#sessions };
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
    const state = decodeSnapshot(snapshot, this.#limits);
    if (typeof state === "string") throw new Error(`kv snapshot rejected: ${state}`);
    const kvs = new Map<string, StoredKv>();
    state.kvs.forEach((kv, i) => kvs.set(state.keys[i]!, kv));
    this.#kvs = kvs;
    this.#keys = SortedKeys.fromSorted(state.keys);
    this.#revision = state.revision;
    this.#appliedIndex = state.appliedIndex;
    this.#sessions = state.sessions;
    this.#preImages = undefined;
  }

  #execute(command: KvCommand): ExecutedResult {
    switch (command.type) {
      case "put":
        return this.#put(command);
      case "delete":
        return this.#delete(command);
      case "txn":
        return this.#txn(command);
    }
  }

  #put(command: PutCommand): ExecutedResult {
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
    this.#remove(key);
    return { type: "delete", revision: this.#revision, deleted: 1 };
  }

  /** Ops run in order at one revision, bumped once if any op wrote; validation at decode means none can fail. */
  #txn(command: TxnCommand): ExecutedResult {
    const succeeded = command.compare.every((c) => this.#holds(c));
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
        return { type: "delete", deleted: this.#remove(key) };
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
  #write(key: string, op: { readonly value: Uint8Array }, revision: number): void {
    const current = this.#kvs.get(key);
    this.#keepPreImage(key, current);
    const value = binaryString(op.value);
    if (current === undefined) {
      this.#keys.insert(key);
      this.#kvs.set(key, { value, createRevision: revision, modRevision: revision, version: 1 });
    } else {
      this.#kvs.set(key, {
        value,
        createRevision: current.createRevision,
        modRevision: revision,
        version: current.version + 1,
      });
    }
  }

  #remove(key: string): 0 | 1 {
    const current = this.#kvs.get(key);
    if (current === undefined) return 0;
    this.#keepPreImage(key, current);
    this.#kvs.delete(key);
    this.#keys.delete(key);
    return 1;
  }
}

/** The least string above every string starting with `prefix` (binary strings), or undefined if none is. */
function prefixEnd(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xff) end--;
  if (end === 0) return undefined;
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
}
