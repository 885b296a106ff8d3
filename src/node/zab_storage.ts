import { join } from "node:path";
import { epoch, type ZabDurable, type ZabTypes } from "../engine/zab.js";
import {
  decodeZabJournalEntry,
  encodeZabJournalEntry,
  replayZabJournalEntry,
  type ZabRecovery,
} from "../engine/zab_journal.js";
import { Wal, type Disk, type SnapshotFileWriter, type StorageResult } from "../storage/index.js";
import { assert } from "../util/assert.js";
import { logIndex, term } from "../util/ids.js";
import { fail, identityFile, openDataDir, writeIdentity, type NodeIdentity } from "./data_dir.js";
import type { EngineStorage } from "./engine_storage.js";

const done: StorageResult<void> = { ok: true, value: undefined };
/** Journal entries all carry this term: the WAL's terms order Raft's log, and a journal has no such thing. */
const journalTerm = term(1);

/**
 * A ZAB member's data directory: identity.json and wal/, the journal of its history writes and
 * epochs (zab_journal.ts), one WAL entry per Ready that writes anything, made durable (fdatasync)
 * before the Ready's ACKEPOCH and Acks leave. ZAB keeps no snapshots, so the journal is never
 * compacted: the history grows without bound (docs/engines.md).
 */
export class ZabStorage implements EngineStorage<ZabTypes> {
  readonly #disk: Disk;
  readonly #dir: string;
  readonly #wal: Wal;
  #nextEntry: number;

  private constructor(disk: Disk, dir: string, wal: Wal, nextEntry: number) {
    this.#disk = disk;
    this.#dir = dir;
    this.#wal = wal;
    this.#nextEntry = nextEntry;
  }

  static async open(
    disk: Disk,
    dir: string,
  ): Promise<StorageResult<{ storage: ZabStorage; identity: NodeIdentity | undefined; durable: ZabDurable }>> {
    const identity = await openDataDir(disk, dir, "zab");
    if (!identity.ok) return identity;
    const walPath = join(dir, "wal");
    const opened = await Wal.open(disk, walPath);
    if (!opened.ok) return opened;
    const { wal, recovered } = opened.value;
    const refuse = async (message: string): Promise<StorageResult<never>> => {
      await wal.close();
      return fail({ type: "corrupt", file: walPath, offset: 0, message });
    };
    if (identity.value === undefined && recovered.entries.length > 0)
      return refuse(
        `${join(dir, identityFile)} is missing but ${walPath} holds a journal: not a raftkv data dir, or a damaged one`,
      );
    const state: ZabRecovery = { acceptedEpoch: epoch(0), currentEpoch: epoch(0), history: [] };
    for (const entry of recovered.entries) {
      const decoded = decodeZabJournalEntry(entry.data);
      const problem = decoded.ok ? replayZabJournalEntry(state, decoded.entry) : decoded.error;
      if (problem !== undefined) return refuse(`${walPath}: entry ${entry.index}: ${problem}`);
    }
    const last = recovered.entries.at(-1)?.index ?? recovered.snapshot?.index ?? 0;
    return {
      ok: true,
      value: { storage: new ZabStorage(disk, dir, wal, last + 1), identity: identity.value, durable: state },
    };
  }

  /** Records who this node is, and that it runs ZAB, once, before it first speaks to anyone. */
  writeIdentity(identity: NodeIdentity): Promise<StorageResult<void>> {
    return writeIdentity(this.#disk, this.#dir, { ...identity, engine: "zab" });
  }

  /** One Ready's history write and epochs as one journal entry; resolves once it is durable. */
  persist(write: ZabTypes["write"], mustSync: boolean): Promise<StorageResult<void>> {
    const { history, epochs } = write;
    if (!mustSync) return Promise.resolve(done);
    const data = encodeZabJournalEntry({
      epochs,
      truncateAfter: history.truncateAfter,
      first: history.entries[0]?.index ?? 0,
      txns: history.entries.map(({ zxid, data }) => ({ zxid, data })),
    });
    // Saves are durable and complete in the order asked (the WAL's group commit).
    return this.#wal.save({
      entries: [{ index: logIndex(this.#nextEntry++), term: journalTerm, kind: "normal", data }],
    });
  }

  beginSnapshot(): SnapshotFileWriter {
    assert(false, "ZAB keeps no snapshots: the node never stores one (capabilities.snapshots)");
  }

  loadSnapshotData(): Promise<StorageResult<Uint8Array>> {
    assert(false, "ZAB keeps no snapshots: no message asks for one");
  }

  close(): Promise<StorageResult<void>> {
    return this.#wal.close();
  }
}
