import { join } from "node:path";
import type { DurableState, Entry, HardState, NodeId, Snapshot, SnapshotMeta } from "../raft/index.js";
import { SnapshotStore, Wal, type Disk, type SnapshotFileWriter, type StorageResult } from "../storage/index.js";
import { fromUtf8, utf8 } from "../util/bytes.js";
import { fail, identityFile, openDataDir, writeIdentity, type NodeIdentity } from "./data_dir.js";
import { logIndex, nodeId, term, type LogIndex, type Term } from "../util/ids.js";

const done: StorageResult<void> = { ok: true, value: undefined };

interface OpenedStorage {
  readonly storage: NodeStorage;
  readonly identity: NodeIdentity | undefined;
  readonly durable: DurableState;
}

/**
 * A node's data directory: identity.json, wal/ (the log and hard state), snap/ (snapshots).
 * Persists each Ready in the order recovery relies on: an installed snapshot's file first, then
 * the WAL's marker for it, then entries and hard state with one fdatasync.
 */
export class NodeStorage {
  readonly #disk: Disk;
  readonly #dir: string;
  readonly #wal: Wal;
  readonly #snapshots: SnapshotStore;
  /**
   * Snapshot files and their WAL markers are written one at a time, in the order asked: this node's
   * own snapshot and a leader's may be stored at once, and the WAL's marker must never go back.
   */
  #snapshotWork: Promise<unknown> = Promise.resolve();
  /** A leader's snapshot being written: saves asked for after it wait for its WAL marker. */
  #leaderSnapshot: Promise<StorageResult<void>> | undefined;
  /** A hard state that moved only its commit index, kept until the next durable write carries it. */
  #deferredHardState: HardState | undefined;

  private constructor(disk: Disk, dir: string, wal: Wal, snapshots: SnapshotStore) {
    this.#disk = disk;
    this.#dir = dir;
    this.#wal = wal;
    this.#snapshots = snapshots;
  }

  static async open(disk: Disk, dir: string): Promise<StorageResult<OpenedStorage>> {
    // The data dir and every parent of it may be new (or left unsynced by a killed process): they
    // must be durable before identity.json, wal/ and snap/ are created in it.
    const identity = await openDataDir(disk, dir, "raft");
    if (!identity.ok) return identity;
    const opened = await Wal.open(disk, join(dir, "wal"));
    if (!opened.ok) return opened;
    const { wal, recovered } = opened.value;
    if (identity.value === undefined && (recovered.hardState !== undefined || recovered.entries.length > 0)) {
      await wal.close();
      return fail({
        type: "corrupt",
        file: join(dir, identityFile),
        offset: 0,
        message: `${join(dir, identityFile)} is missing but ${join(dir, "wal")} holds a log: not a raftkv data dir, or a damaged one`,
      });
    }
    const snapshots = await SnapshotStore.open(disk, join(dir, "snap"));
    if (!snapshots.ok) return snapshots;
    const loaded = await snapshots.value.load({ indexMin: recovered.snapshot?.index ?? 0 });
    if (!loaded.ok) return loaded;
    const stored = loaded.value.snapshot;
    const snapshot: Snapshot | undefined =
      stored === undefined
        ? undefined
        : { meta: { index: stored.index, term: stored.term, ...decodeConfig(stored.config) }, data: stored.data };
    let entries = recovered.entries;
    if (
      stored !== undefined &&
      stored.index > (recovered.snapshot?.index ?? 0) &&
      !entries.some((e) => e.index === stored.index && e.term === stored.term)
    ) {
      // A leader's snapshot whose file was written when a crash came before its WAL marker: the log
      // does not reach it, so the install is finished now, as persist() would have (see above).
      const marked = await wal.compact({ index: stored.index, term: stored.term });
      if (!marked.ok) {
        await wal.close();
        return marked;
      }
      entries = [];
    }
    const durable: DurableState = {
      hardState: recovered.hardState ?? { term: term(0), vote: nodeId(0), commit: logIndex(0) },
      entries,
      snapshot,
    };
    return {
      ok: true,
      value: { storage: new NodeStorage(disk, dir, wal, snapshots.value), identity: identity.value, durable },
    };
  }

  /** Records who this node is, once, before it first speaks to anyone. */
  writeIdentity(identity: NodeIdentity): Promise<StorageResult<void>> {
    return writeIdentity(this.#disk, this.#dir, identity);
  }

  /**
   * Makes a Ready's snapshot, entries and hard state durable. Calls may overlap (the node writes the
   * next Ready while the last one syncs): each completes after the ones asked for before it. A Ready
   * that needs no sync (only the commit index moved) costs no write: its hard state goes out with the
   * next one that does, so a crash may take the commit index back, which Raft allows (it is volatile).
   */
  persist(ready: {
    snapshot: Snapshot | undefined;
    hardState: HardState | undefined;
    entries: readonly Entry[];
    mustSync: boolean;
  }): Promise<StorageResult<void>> {
    if (!ready.mustSync) {
      this.#deferredHardState = ready.hardState ?? this.#deferredHardState;
      return Promise.resolve(done);
    }
    const hardState = ready.hardState ?? this.#deferredHardState;
    this.#deferredHardState = undefined;
    const save = (): Promise<StorageResult<void>> =>
      hardState === undefined && ready.entries.length === 0
        ? Promise.resolve(done)
        : this.#wal.save({ hardState, entries: ready.entries });
    const snapshot = ready.snapshot;
    if (snapshot === undefined) {
      // The WAL keeps the order of its own saves; only a leader's snapshot marker, written after its file, can be overtaken.
      const marker = this.#leaderSnapshot;
      return marker === undefined ? save() : marker.then((marked) => (marked.ok ? save() : marked));
    }
    const written = this.#oneSnapshotAtATime(async () => {
      const saved = await this.#saveSnapshotFile(snapshot);
      return saved.ok ? this.#wal.compact({ index: snapshot.meta.index, term: snapshot.meta.term }) : saved;
    }).then((marked) => (marked.ok ? save() : marked));
    this.#leaderSnapshot = written;
    // Registered before any save that waits on it, so it runs first and those saves still go in order.
    void written.then(() => {
      if (this.#leaderSnapshot === written) this.#leaderSnapshot = undefined;
    });
    return written;
  }

  /**
   * Starts this node's own snapshot file, its data to come a piece at a time; once the file is
   * durable, `finish` lets the WAL forget entries through `compact`.
   */
  beginSnapshot(meta: SnapshotMeta, compact: { index: LogIndex; term: Term } | undefined): SnapshotFileWriter {
    const file = this.#snapshots.begin({ index: meta.index, term: meta.term, config: encodeConfig(meta) });
    return {
      write: (data) => file.write(data),
      // Queued at once: a leader's snapshot persisted after this call must mark the WAL after ours.
      finish: () =>
        this.#oneSnapshotAtATime(async () => {
          const saved = await file.finish();
          if (!saved.ok) return saved;
          return compact !== undefined && compact.index > 0 ? this.#wal.compact(compact) : saved;
        }),
      abort: () => file.abort(),
    };
  }

  #oneSnapshotAtATime(work: () => Promise<StorageResult<void>>): Promise<StorageResult<void>> {
    const run = this.#snapshotWork.then(work);
    this.#snapshotWork = run;
    return run;
  }

  /** The data of a snapshot this node stored (for a peer that needs it). */
  async loadSnapshotData(meta: { index: LogIndex; term: Term }): Promise<StorageResult<Uint8Array>> {
    const read = await this.#snapshots.read(meta.index, meta.term);
    return read.ok ? { ok: true, value: read.value.data } : read;
  }

  #saveSnapshotFile(snapshot: Snapshot): Promise<StorageResult<void>> {
    const { meta, data } = snapshot;
    return this.#snapshots.save({ index: meta.index, term: meta.term, config: encodeConfig(meta), data });
  }

  /** Writes a deferred hard state, so that a clean restart resumes from the latest commit index. */
  async close(): Promise<StorageResult<void>> {
    const hardState = this.#deferredHardState;
    this.#deferredHardState = undefined;
    if (hardState !== undefined) {
      const saved = await this.#wal.save({ hardState });
      if (!saved.ok) {
        await this.#wal.close();
        return saved;
      }
    }
    return this.#wal.close();
  }
}

function encodeConfig(meta: {
  voters: readonly NodeId[];
  votersOutgoing: readonly NodeId[];
  learners: readonly NodeId[];
}): Uint8Array {
  return utf8(JSON.stringify({ voters: meta.voters, votersOutgoing: meta.votersOutgoing, learners: meta.learners }));
}

function decodeConfig(bytes: Uint8Array): { voters: NodeId[]; votersOutgoing: NodeId[]; learners: NodeId[] } {
  const parsed = JSON.parse(fromUtf8(bytes)) as { voters: number[]; votersOutgoing?: number[]; learners: number[] };
  return {
    voters: parsed.voters.map(nodeId),
    votersOutgoing: (parsed.votersOutgoing ?? []).map(nodeId),
    learners: parsed.learners.map(nodeId),
  };
}
