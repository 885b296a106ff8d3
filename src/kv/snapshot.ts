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
  #size = snapshotHeaderBytes + 4 + snapshotChecksumBytes;
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
    w.u32(snapshotMagic);
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
