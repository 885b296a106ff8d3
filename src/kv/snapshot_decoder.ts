import { crc32c } from "../util/crc32c.js";
import type { LogIndex } from "../util/ids.js";
import { logIndex } from "../util/ids.js";
import { AuthState } from "./auth_state.js";
import { Reader } from "./binary.js";
import { LeaseTable } from "./lease_table.js";
import type { SessionLimits } from "./sessions.js";
import { SessionTable } from "./sessions.js";
import {
  snapshotChecksumBytes,
  snapshotHeaderBytes,
  snapshotMagic,
  snapshotVersion,
  snapshotVersionBeforeAuth,
  snapshotVersionBeforeEtcd,
} from "./snapshot.js";
import { SortedKeys } from "./sorted_keys.js";
import type { StoredKv } from "./stored_kv.js";
import { readStoredKv } from "./stored_kv.js";

/** A decoded snapshot, in the shapes the store keeps (snapshot.ts has the format). */
export interface DecodedState {
  readonly appliedIndex: LogIndex;
  readonly revision: number;
  readonly compactRevision: number;
  /** Every key (binary strings) with its state. */
  readonly kvs: Map<string, StoredKv>;
  readonly keys: SortedKeys;
  readonly sessions: SessionTable;
  /** With every key attached that names its lease. */
  readonly leases: LeaseTable;
  readonly auth: AuthState;
}

/** A snapshot's header fields, read once the checksum holds. */
interface Header {
  readonly version: number;
  readonly appliedIndex: number;
  readonly revision: number;
  readonly compactRevision: number;
  readonly count: number;
}

/**
 * Decodes a snapshot a piece at a time: each `step` checksums or reads about `bytesMax` bytes, so a
 * member restoring a large snapshot goes on answering heartbeats and reads between steps. The answer
 * is the state, or why the bytes are not a snapshot this code wrote (wrong magic or version, checksum
 * mismatch, a length that runs past the end, fields inconsistent with each other), the same answer
 * whatever the steps' sizes. Never throws and never reads outside the bytes; the state keeps no view
 * into them. The caller keeps the bytes unchanged until the last step.
 */
export class SnapshotDecoder {
  readonly #bytes: Uint8Array;
  readonly #limits: SessionLimits;
  readonly #bodyEnd: number;
  #checked = 0;
  /** The CRC of the bytes checked so far (0: of none). */
  #crc = 0;
  #reader: Reader | undefined;
  #header: Header | undefined;
  #next = 0;
  #previousKey: string | undefined;
  readonly #keys: string[] = [];
  readonly #kvs = new Map<string, StoredKv>();
  /** Keys attached to a lease, with it: the lease table comes after the key-values. */
  readonly #attached: { key: string; lease: number; at: number }[] = [];
  #answer: DecodedState | string | undefined;

  constructor(bytes: Uint8Array, limits: SessionLimits) {
    this.#bytes = bytes;
    this.#limits = limits;
    this.#bodyEnd = bytes.length - snapshotChecksumBytes;
    this.#answer = this.#checkFraming();
  }

  /** Does about `bytesMax` bytes of work; returns the answer once there is one (and from then on). */
  step(bytesMax: number): DecodedState | string | undefined {
    if (this.#answer !== undefined) return this.#answer;
    let budget = bytesMax;
    if (this.#checked < this.#bodyEnd) {
      const end = Math.min(this.#bodyEnd, this.#checked + Math.max(budget, 1));
      this.#crc = crc32c(this.#bytes, { start: this.#checked, end, continueFrom: this.#crc });
      budget -= end - this.#checked;
      this.#checked = end;
      if (this.#checked < this.#bodyEnd) return undefined;
      const stored = new DataView(this.#bytes.buffer, this.#bytes.byteOffset + this.#bodyEnd, 4).getUint32(0, true);
      if (this.#crc !== stored) return (this.#answer = "checksum mismatch");
      const header = this.#readHeader();
      if (typeof header === "string") return (this.#answer = header);
      this.#header = header;
      if (budget <= 0) return undefined;
    }
    this.#answer = this.#readKeyValues(budget);
    return this.#answer;
  }

  /** Magic and version first, so that a file of another kind is named as such, not as corrupt. */
  #checkFraming(): string | undefined {
    const bytes = this.#bytes;
    if (bytes.length < snapshotHeaderBytes + 4 + 4 + snapshotChecksumBytes)
      return `${bytes.length} bytes is too short for a snapshot`;
    this.#reader = new Reader(bytes.subarray(0, this.#bodyEnd));
    if (this.#reader.u32() !== snapshotMagic) return "bad magic (not a KV snapshot)";
    const version = this.#reader.u8();
    if (version !== snapshotVersion && version !== snapshotVersionBeforeEtcd && version !== snapshotVersionBeforeAuth)
      return `unsupported snapshot version ${version}`;
    return undefined;
  }

  #readHeader(): Header | string {
    const r = this.#reader!;
    const version = this.#bytes[4]!;
    const appliedIndex = r.u64();
    const revision = r.u64();
    const compactRevision = r.u64();
    const count = r.u32();
    if (appliedIndex === undefined || revision === undefined || compactRevision === undefined || count === undefined)
      return "header fields above 2^53 - 1";
    if (compactRevision > revision) return `compaction at ${compactRevision}, after the revision ${revision}`;
    return { version, appliedIndex, revision, compactRevision, count };
  }

  /** Reads key-values for about `budget` bytes; the tables after the last one. */
  #readKeyValues(budget: number): DecodedState | string | undefined {
    const r = this.#reader!;
    const { count, revision } = this.#header!;
    let left = budget;
    for (; this.#next < count; this.#next++) {
      if (left <= 0) return undefined;
      const before = r.offset;
      const read = readStoredKv(r, revision);
      if (typeof read === "string") return `key-value ${this.#next}: ${read}`;
      const { key, kv } = read;
      if (this.#previousKey !== undefined && this.#previousKey >= key)
        return `key-value ${this.#next}: keys out of order or repeated`;
      this.#previousKey = key;
      this.#keys.push(key);
      this.#kvs.set(key, kv);
      if (kv.lease !== 0) this.#attached.push({ key, lease: kv.lease, at: this.#next });
      left -= r.offset - before;
    }
    return this.#readTables();
  }

  #readTables(): DecodedState | string {
    const r = this.#reader!;
    const { version, appliedIndex, revision, compactRevision } = this.#header!;
    const sessions = SessionTable.read(r, { limits: this.#limits, appliedIndex: logIndex(appliedIndex), revision });
    if (typeof sessions === "string") return sessions;
    const leases = LeaseTable.read(r);
    if (typeof leases === "string") return leases;
    const auth = version === snapshotVersionBeforeAuth ? new AuthState() : AuthState.read(r);
    if (typeof auth === "string") return auth;
    if (r.remaining !== 0) return `${r.remaining} unexpected bytes before the checksum`;
    for (const { key, lease, at } of this.#attached) {
      if (!leases.has(lease)) return `key-value ${at}: attached to lease ${lease}, which is not in the table`;
      leases.move(key, 0, lease);
    }
    const keys = SortedKeys.fromSorted(this.#keys);
    this.#keys.length = 0;
    return {
      appliedIndex: logIndex(appliedIndex),
      revision,
      compactRevision,
      kvs: this.#kvs,
      keys,
      sessions,
      leases,
      auth,
    };
  }
}

/** A restore in progress: each step does about `bytesMax` bytes of work; true once the state is replaced. */
export interface RestoreSteps {
  step(bytesMax: number): boolean;
}

/**
 * Steps `decoder` and hands its state to `adopt` once, at the last step. A step throws an Error naming
 * the problem when the bytes are not a valid snapshot (and `adopt` is never called).
 */
export function restoreInSteps(decoder: SnapshotDecoder, adopt: (state: DecodedState) => void): RestoreSteps {
  let adopted = false;
  return {
    step: (bytesMax) => {
      if (adopted) return true;
      const state = decoder.step(bytesMax);
      if (state === undefined) return false;
      if (typeof state === "string") throw new Error(`kv snapshot rejected: ${state}`);
      adopt(state);
      adopted = true;
      return true;
    },
  };
}
