import { join } from "node:path";
import type { SnapshotRef, SnapshotTaken } from "../engine/engine.js";
import {
  ZERO_BALLOT,
  type AcceptedRecord,
  type Ballot,
  type MultiPaxosDurable,
  type MultiPaxosTypes,
} from "../engine/multi_paxos.js";
import { decodeJournalEntry, encodeJournalEntry } from "../engine/paxos_journal.js";
import { SnapshotStore, Wal, type Disk, type SnapshotFileWriter, type StorageResult } from "../storage/index.js";
import { logIndex, term, type LogIndex } from "../util/ids.js";
import { fail, identityFile, openDataDir, writeIdentity, type NodeIdentity } from "./data_dir.js";
import type { EngineStorage } from "./engine_storage.js";

const done: StorageResult<void> = { ok: true, value: undefined };
/** Journal entries all carry this term: the WAL's terms order Raft's log, and a journal has no such thing. */
const journalTerm = term(1);
/** Snapshot files carry no Raft term or configuration here (a fixed ensemble). */
const snapshotTerm = term(0);
const noConfig = new Uint8Array(0);

/**
 * A Multi-Paxos member's data directory: identity.json, wal/ (the journal of promises and accepted
 * records, paxos_journal.ts), snap/ (snapshots). Each Ready's write is one journal entry; a
 * leader's snapshot is written before it. After a snapshot a checkpoint entry holds the promise and
 * every record above it, and the WAL forgets the entries before the checkpoint. Operations run one
 * at a time, in the order asked.
 */
export class PaxosStorage implements EngineStorage<MultiPaxosTypes> {
  readonly #disk: Disk;
  readonly #dir: string;
  readonly #wal: Wal;
  readonly #snapshots: SnapshotStore;
  /** What the journal holds (recovery's view of it), for checkpoints. */
  readonly #journal: Journal;
  #nextEntry: number;
  /** The journal index the WAL was last compacted through. */
  #compacted: number;
  #work: Promise<StorageResult<void>> = Promise.resolve(done);

  private constructor(
    disk: Disk,
    dir: string,
    parts: { wal: Wal; snapshots: SnapshotStore; journal: Journal; nextEntry: number; compacted: number },
  ) {
    this.#disk = disk;
    this.#dir = dir;
    this.#wal = parts.wal;
    this.#snapshots = parts.snapshots;
    this.#journal = parts.journal;
    this.#nextEntry = parts.nextEntry;
    this.#compacted = parts.compacted;
  }

  static async open(
    disk: Disk,
    dir: string,
  ): Promise<StorageResult<{ storage: PaxosStorage; identity: NodeIdentity | undefined; durable: MultiPaxosDurable }>> {
    const identity = await openDataDir(disk, dir, "multi-paxos");
    if (!identity.ok) return identity;
    const opened = await Wal.open(disk, join(dir, "wal"));
    if (!opened.ok) return opened;
    const { wal, recovered } = opened.value;
    const walPath = join(dir, "wal");
    if (identity.value === undefined && recovered.entries.length > 0) {
      await wal.close();
      return fail({
        type: "corrupt",
        file: join(dir, identityFile),
        offset: 0,
        message: `${join(dir, identityFile)} is missing but ${walPath} holds a journal: not a raftkv data dir, or a damaged one`,
      });
    }
    const journal: Journal = { promised: undefined, records: new Map() };
    for (const entry of recovered.entries) {
      const decoded = decodeJournalEntry(entry.data);
      if (!decoded.ok) {
        await wal.close();
        return fail({
          type: "corrupt",
          file: walPath,
          offset: 0,
          message: `${walPath}: entry ${entry.index}: ${decoded.error}`,
        });
      }
      replay(journal, decoded.entry.hardState?.promised, decoded.entry.accepted);
    }
    const snapshots = await SnapshotStore.open(disk, join(dir, "snap"));
    if (!snapshots.ok) {
      await wal.close();
      return snapshots;
    }
    const loaded = await snapshots.value.load({ indexMin: 0 });
    if (!loaded.ok) {
      await wal.close();
      return loaded;
    }
    const stored = loaded.value.snapshot;
    const snapshot = stored === undefined ? undefined : { index: stored.index, data: stored.data };
    const covered = snapshot?.index ?? 0;
    const durable: MultiPaxosDurable = {
      hardState: { promised: journal.promised ?? ZERO_BALLOT },
      accepted: [...journal.records.values()].filter((r) => r.slot > covered).sort((a, b) => a.slot - b.slot),
      snapshot,
    };
    const last = recovered.entries.at(-1)?.index ?? recovered.snapshot?.index ?? 0;
    const storage = new PaxosStorage(disk, dir, {
      wal,
      snapshots: snapshots.value,
      journal,
      nextEntry: last + 1,
      compacted: recovered.snapshot?.index ?? 0,
    });
    return { ok: true, value: { storage, identity: identity.value, durable } };
  }

  /** Records who this node is, and that it runs Multi-Paxos, once, before it first speaks to anyone. */
  writeIdentity(identity: NodeIdentity): Promise<StorageResult<void>> {
    return writeIdentity(this.#disk, this.#dir, { ...identity, engine: "multi-paxos" });
  }

  /** A leader's snapshot first (it replaces the records at or below it), then the promise and records. */
  persist(write: MultiPaxosTypes["write"], mustSync: boolean): Promise<StorageResult<void>> {
    if (!mustSync) return Promise.resolve(done);
    return this.#serial(async () => {
      const snapshot = write.snapshot;
      if (snapshot !== undefined) {
        const saved = await this.#saveSnapshotFile(snapshot.index, snapshot.data);
        if (!saved.ok) return saved;
      }
      const promised = write.hardState?.promised;
      replay(this.#journal, promised, write.accepted);
      // The checkpoint holds the promise and every record above the snapshot: one write, one sync.
      if (snapshot !== undefined) return this.#checkpoint(snapshot.index);
      if (promised === undefined && write.accepted.length === 0) return done;
      return this.#append(promised, write.accepted);
    });
  }

  /** Starts this node's own snapshot file; once it is durable, the journal forgets the records it covers. */
  beginSnapshot(taken: SnapshotTaken<undefined>): SnapshotFileWriter {
    const file = this.#snapshots.begin({ index: taken.index, term: snapshotTerm, config: noConfig });
    return {
      write: (data) => file.write(data),
      finish: () =>
        this.#serial(async () => {
          const saved = await file.finish();
          return saved.ok ? this.#checkpoint(taken.index) : saved;
        }),
      abort: () => file.abort(),
    };
  }

  async loadSnapshotData(ref: SnapshotRef): Promise<StorageResult<Uint8Array>> {
    const read = await this.#snapshots.read(ref.index, snapshotTerm);
    return read.ok ? { ok: true, value: read.value.data } : read;
  }

  async close(): Promise<StorageResult<void>> {
    await this.#work;
    return this.#wal.close();
  }

  #serial(work: () => Promise<StorageResult<void>>): Promise<StorageResult<void>> {
    const run = this.#work.then((before) => (before.ok ? work() : before));
    this.#work = run;
    return run;
  }

  #saveSnapshotFile(index: LogIndex, data: Uint8Array): Promise<StorageResult<void>> {
    return this.#snapshots.save({ index, term: snapshotTerm, config: noConfig, data });
  }

  #append(promised: Ballot | undefined, accepted: readonly AcceptedRecord[]): Promise<StorageResult<void>> {
    const index = logIndex(this.#nextEntry++);
    const data = encodeJournalEntry({ hardState: promised === undefined ? undefined : { promised }, accepted });
    return this.#wal.save({ entries: [{ index, term: journalTerm, kind: "normal", data }] });
  }

  /**
   * Writes the promise and every record above `index` as one entry, then lets the WAL forget the
   * entries before it: recovery then finds in that entry all the older ones told it.
   */
  async #checkpoint(index: LogIndex): Promise<StorageResult<void>> {
    const { records } = this.#journal;
    for (const slot of [...records.keys()]) if (slot <= index) records.delete(slot);
    const kept = [...records.values()].sort((a, b) => a.slot - b.slot);
    const checkpoint = this.#nextEntry;
    const appended = await this.#append(this.#journal.promised, kept);
    if (!appended.ok) return appended;
    const through = checkpoint - 1;
    if (through <= this.#compacted) return done;
    this.#compacted = through;
    return this.#wal.compact({ index: logIndex(through), term: journalTerm });
  }
}

interface Journal {
  promised: Ballot | undefined;
  readonly records: Map<LogIndex, AcceptedRecord>;
}

/** One journal entry's effect: a later promise replaces the earlier; a record replaces its slot's. */
function replay(journal: Journal, promised: Ballot | undefined, accepted: readonly AcceptedRecord[]): void {
  if (promised !== undefined) journal.promised = promised;
  for (const r of accepted) journal.records.set(r.slot, r);
}
