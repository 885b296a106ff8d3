import { crc32c } from "../util/crc32c.js";
import type { LogIndex } from "../util/ids.js";
import { Writer } from "./binary.js";
import type { StoredKv } from "./stored_kv.js";
import { storedKvSize, writeStoredKv } from "./stored_kv.js";
import type { LeaseTable } from "./lease_table.js";
import type { AuthState } from "./auth_state.js";
import type { SessionTable } from "./sessions.js";

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
 * snapshot_decoder.ts reads them back.
 */
export const snapshotMagic = 0x564b4b52; // "RKKV" read as a little-endian u32
export const snapshotVersion = 4;
export const snapshotVersionBeforeEtcd = 3;
export const snapshotVersionBeforeAuth = 2;
export const snapshotHeaderBytes = 4 + 1 + 8 + 8 + 8;
export const snapshotChecksumBytes = 4;

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

/** The snapshot of `state` in one go. */
export function encodeSnapshot(state: KvState): Uint8Array {
  return new SnapshotEncoder(state).step(Infinity).bytes;
}

/**
 * Encodes a snapshot a piece at a time: each step returns the next piece, about `bytesMax` bytes of
 * key-values (the first opens with the header, the last ends with the session, lease and auth
 * tables and the checksum), so a large store is never held in memory twice and never holds the
 * event loop for long. The caller keeps `state` unchanged in between (the store does it with
 * copy-on-write, see KvStore.beginSnapshot).
 */
export class SnapshotEncoder {
  readonly #state: KvState;
  readonly #tables: Uint8Array;
  #started = false;
  #next = 0;
  #crc = crc32c(new Uint8Array(0));

  constructor(state: KvState) {
    this.#state = state;
    // The tables are small next to the keys: encoded now, they need no copy-on-write.
    const tables = new Writer(state.sessions.encodedSize() + state.leases.encodedSize() + state.auth.encodedSize());
    state.sessions.write(tables);
    state.leases.write(tables);
    state.auth.write(tables);
    this.#tables = tables.finish();
  }

  /** The next piece, of about `bytesMax` bytes, and whether it is the last. */
  step(bytesMax: number): { readonly bytes: Uint8Array; readonly done: boolean } {
    const { keys, lookup } = this.#state;
    const first = !this.#started;
    this.#started = true;
    let size = first ? snapshotHeaderBytes + 4 : 0;
    let end = this.#next;
    for (let budget = bytesMax; end < keys.length && budget > 0; end++) {
      const bytes = storedKvSize(keys[end]!, lookup(keys[end]!));
      size += bytes;
      budget -= bytes;
    }
    const done = end === keys.length;
    if (done) size += this.#tables.length + snapshotChecksumBytes;
    const w = new Writer(size);
    if (first) this.#header(w);
    for (; this.#next < end; this.#next++) {
      const key = keys[this.#next]!;
      writeStoredKv(w, key, lookup(key));
    }
    if (done) w.raw(this.#tables);
    this.#crc = crc32c(w.written(), { continueFrom: this.#crc });
    if (done) w.u32(this.#crc);
    return { bytes: w.finish(), done };
  }

  #header(w: Writer): void {
    w.u32(snapshotMagic);
    w.u8(snapshotVersion);
    w.u64(this.#state.appliedIndex);
    w.u64(this.#state.revision);
    w.u64(this.#state.compactRevision);
    w.u32(this.#state.keys.length);
  }
}
