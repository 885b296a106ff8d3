import { crc32c } from "../util/crc32c.js";
import type { LogIndex } from "../util/ids.js";
import { logIndex } from "../util/ids.js";
import { Reader, Writer } from "./binary.js";
import type { StoredKv } from "./stored_kv.js";
import { readStoredKv, storedKvSize, writeStoredKv } from "./stored_kv.js";
import { LeaseTable } from "./lease_table.js";
import { AuthState } from "./auth_state.js";
import type { SessionLimits } from "./sessions.js";
import { SessionTable } from "./sessions.js";

/*
 * The whole KV state as bytes, little-endian:
 *   u32 magic "RKKV", u8 version (4), u64 appliedIndex, u64 revision, u64 compactRevision,
 *   u32 count, count × keyValue (results.ts) in ascending key order,
 *   session table (sessions.ts), lease table (lease_table.ts), auth state (auth_state.ts),
 *   u32 crc32c of every byte before it.
 * Version 3 (before etcd's txns) is the same bytes, with no etcdTxn or keyNotFound result in its
 * session table; version 4 marks snapshots that may hold them, which an older member must refuse.
 * Version 2 (before auth: the same without the auth state) is read with auth off and no users or
 * roles. Version 1 (before leases and compaction) is not read: a member of an older version is
 * rebuilt from the leader's snapshot.
 * Every collection is written in a defined order (keys by bytes, sessions by last use), so one state
 * has one encoding and replicas' snapshots at the same index compare equal byte for byte.
 */
const magic = 0x564b4b52; // "RKKV" read as a little-endian u32
const snapshotVersion = 4;
const snapshotVersionBeforeEtcd = 3;
const snapshotVersionBeforeAuth = 2;
const headerBytes = 4 + 1 + 8 + 8 + 8;
const checksumBytes = 4;

interface KvState {
  readonly appliedIndex: LogIndex;
  readonly revision: number;
  readonly compactRevision: number;
  /** Every key (binary strings) in ascending order. */
  readonly keys: readonly string[];
  /** The state of one of `keys`. */
  readonly lookup: (key: string) => StoredKv;
  readonly sessions: SessionTable;
  readonly leases: LeaseTable;
  readonly auth: AuthState;
}

/** What a snapshot holds besides the key-values. */
export type SnapshotHeader = Omit<KvState, "keys" | "lookup">;

/** A decoded snapshot; `keys` (binary strings) in ascending order, `kvs[i]` the state of `keys[i]`. */
interface DecodedState {
  readonly appliedIndex: LogIndex;
  readonly revision: number;
  readonly compactRevision: number;
  readonly keys: readonly string[];
  readonly kvs: readonly StoredKv[];
  readonly sessions: SessionTable;
  /** With every key attached that names its lease. */
  readonly leases: LeaseTable;
  readonly auth: AuthState;
}

/** The snapshot of `state` in one go. */
export function encodeSnapshot(state: KvState): Uint8Array {
  return new SnapshotEncoder(state).step(Infinity)!;
}

/**
 * Encodes a snapshot a piece at a time: first it sizes the key-values, then writes them, then the
 * session table (encoded when the encoder was made) and the checksum, each step doing about
 * `bytesMax` bytes of work, so a large store never holds the event loop for long. The caller keeps
 * `state` unchanged in between (the store does it with copy-on-write, see KvStore.beginSnapshot).
 */
export class SnapshotEncoder {
  readonly #state: KvState;
  readonly #headroomBytes: number;
  readonly #sessions: Uint8Array;
  #size = headerBytes + 4 + checksumBytes;
  #writer: Writer | undefined;
  #next = 0;
  #checked = 0;
  #crc = crc32c(new Uint8Array(0));

  /** The snapshot will start after `headroomBytes` zero bytes, left for the caller's own header. */
  constructor(state: KvState, headroomBytes = 0) {
    this.#state = state;
    this.#headroomBytes = headroomBytes;
    this.#checked = headroomBytes;
    // Both tables are small next to the keys: encoded now, they need no copy-on-write.
    const tables = new Writer(state.sessions.encodedSize() + state.leases.encodedSize() + state.auth.encodedSize());
    state.sessions.write(tables);
    state.leases.write(tables);
    state.auth.write(tables);
    this.#sessions = tables.finish();
    this.#size += this.#sessions.length;
  }

  /** Does about `bytesMax` bytes of work; returns the snapshot once it is complete. */
  step(bytesMax: number): Uint8Array | undefined {
    const { keys, lookup } = this.#state;
    let budget = bytesMax;
    if (this.#writer === undefined) {
      for (; this.#next < keys.length && budget > 0; this.#next++) {
        const key = keys[this.#next]!;
        const bytes = storedKvSize(key, lookup(key));
        this.#size += bytes;
        budget -= bytes;
      }
      if (this.#next < keys.length) return undefined;
      this.#writer = this.#header();
      this.#next = 0;
    }
    const w = this.#writer;
    for (; this.#next < keys.length && budget > 0; this.#next++) {
      const key = keys[this.#next]!;
      const kv = lookup(key);
      writeStoredKv(w, key, kv);
      budget -= storedKvSize(key, kv);
    }
    if (this.#next < keys.length) {
      this.#checksumWritten(w);
      return undefined;
    }
    w.raw(this.#sessions);
    this.#checksumWritten(w);
    w.u32(this.#crc);
    return w.finish();
  }

  #header(): Writer {
    const w = new Writer(this.#headroomBytes + this.#size);
    w.skip(this.#headroomBytes);
    w.u32(magic);
    w.u8(snapshotVersion);
    w.u64(this.#state.appliedIndex);
    w.u64(this.#state.revision);
    w.u64(this.#state.compactRevision);
    w.u32(this.#state.keys.length);
    return w;
  }

  #checksumWritten(w: Writer): void {
    this.#crc = crc32c(w.written(), { start: this.#checked, continueFrom: this.#crc });
    this.#checked = w.offset;
  }
}

/**
 * The state in `bytes`, or why they are not a snapshot this code wrote (wrong magic or version,
 * checksum mismatch, a length that runs past the end, fields inconsistent with each other). Never
 * throws and never reads outside `bytes`; keeps no view into `bytes`.
 */
export function decodeSnapshot(bytes: Uint8Array, limits: SessionLimits): DecodedState | string {
  if (bytes.length < headerBytes + 4 + 4 + checksumBytes) return `${bytes.length} bytes is too short for a snapshot`;
  const bodyEnd = bytes.length - checksumBytes;
  const r = new Reader(bytes.subarray(0, bodyEnd));
  if (r.u32() !== magic) return "bad magic (not a KV snapshot)";
  const version = r.u8();
  if (version !== snapshotVersion && version !== snapshotVersionBeforeEtcd && version !== snapshotVersionBeforeAuth)
    return `unsupported snapshot version ${version}`;
  const stored = new DataView(bytes.buffer, bytes.byteOffset + bodyEnd, checksumBytes).getUint32(0, true);
  if (crc32c(bytes, { end: bodyEnd }) !== stored) return "checksum mismatch";
  const appliedIndex = r.u64();
  const revision = r.u64();
  const compactRevision = r.u64();
  const count = r.u32();
  if (appliedIndex === undefined || revision === undefined || compactRevision === undefined || count === undefined)
    return "header fields above 2^53 - 1";
  if (compactRevision > revision) return `compaction at ${compactRevision}, after the revision ${revision}`;
  const keys: string[] = [];
  const kvs: StoredKv[] = [];
  for (let i = 0; i < count; i++) {
    const read = readStoredKv(r, revision);
    if (typeof read === "string") return `key-value ${i}: ${read}`;
    const previous = keys[keys.length - 1];
    if (previous !== undefined && previous >= read.key) return `key-value ${i}: keys out of order or repeated`;
    keys.push(read.key);
    kvs.push(read.kv);
  }
  const sessions = SessionTable.read(r, { limits, appliedIndex: logIndex(appliedIndex), revision });
  if (typeof sessions === "string") return sessions;
  const leases = LeaseTable.read(r);
  if (typeof leases === "string") return leases;
  const auth = version === snapshotVersionBeforeAuth ? new AuthState() : AuthState.read(r);
  if (typeof auth === "string") return auth;
  if (r.remaining !== 0) return `${r.remaining} unexpected bytes before the checksum`;
  for (const [i, kv] of kvs.entries()) {
    if (kv.lease === 0) continue;
    if (!leases.has(kv.lease)) return `key-value ${i}: attached to lease ${kv.lease}, which is not in the table`;
    leases.move(keys[i]!, 0, kv.lease);
  }
  return { appliedIndex: logIndex(appliedIndex), revision, compactRevision, keys, kvs, sessions, leases, auth };
}
