import { join } from "node:path";
import type { DurableState, InstanceRecord, Ready } from "../paxos/basic/index.js";
import { Wal, type Disk, type StorageError } from "../storage/index.js";
import { logIndex, term } from "../util/ids.js";
import { decodeJournalEntry, encodeJournalEntry } from "./journal.js";

/** A storage failure as one line naming the file; the member must stop (see StorageError). */
class RegisterStorageError extends Error {
  override name = "RegisterStorageError";
  constructor(readonly error: StorageError) {
    super(error.message);
  }
}

/** The WAL's entries here all carry this term: it orders Raft's log, and a journal has no such thing. */
const journalTerm = term(1);
const walDir = "registers-wal";

/**
 * A register member's durable state: its Basic Paxos round and acceptor records as a journal of WAL
 * entries (journal.ts), one per Ready, each durable (fdatasync) before the Ready's messages leave.
 * The WAL checksums every record: a torn last write (a crash mid-write) is cut away on open, any
 * other damage refuses the start with the file and byte. The journal is never compacted: it grows by
 * one entry per Ready (docs/engines.md, Basic Paxos).
 */
export class RegisterStorage {
  readonly #wal: Wal;
  #nextIndex: number;
  #round: number;

  private constructor(wal: Wal, nextIndex: number, round: number) {
    this.#wal = wal;
    this.#nextIndex = nextIndex;
    this.#round = round;
  }

  /**
   * Opens (or creates) the journal under `dir` for a member of `members` (name → id), which must be
   * the membership the journal was started with. `tornTail` describes a cut-away torn write.
   */
  static async open(
    disk: Disk,
    dir: string,
    members: Readonly<Record<string, number>>,
  ): Promise<{ storage: RegisterStorage; durable: DurableState; tornTail: string | undefined }> {
    await refuseOtherEngines(disk, dir);
    const path = join(dir, walDir);
    const opened = await Wal.open(disk, path);
    if (!opened.ok) throw new RegisterStorageError(opened.error);
    const { wal, recovered } = opened.value;
    const records = new Map<string, InstanceRecord>();
    let round = 0;
    const corrupt = async (message: string): Promise<never> => {
      await wal.close();
      throw new RegisterStorageError({
        type: "corrupt",
        file: path,
        offset: 0,
        message: `corrupt ${path}: ${message}`,
      });
    };
    for (const [i, stored] of recovered.entries.entries()) {
      const decoded = decodeJournalEntry(stored.data);
      if (!decoded.ok) return corrupt(`journal entry ${stored.index}: ${decoded.error}`);
      const { entry } = decoded;
      if ((i === 0) !== (entry.kind === "header")) return corrupt(`journal entry ${stored.index} out of place`);
      if (entry.kind === "header") {
        const written = JSON.stringify(sorted(entry.members));
        if (written !== JSON.stringify(sorted(members))) {
          return corrupt(`written by members ${written}, started with ${JSON.stringify(sorted(members))}`);
        }
        continue;
      }
      round = Math.max(round, entry.round);
      for (const record of entry.records) records.set(`${record.instance} ${record.register}`, record);
    }
    const storage = new RegisterStorage(wal, recovered.entries.length + 1, round);
    if (recovered.entries.length === 0) await storage.#append(encodeJournalEntry({ kind: "header", members }));
    const tornTail =
      recovered.tornTail === undefined
        ? undefined
        : `cut a torn write of ${recovered.tornTail.bytesDropped} bytes at byte ${recovered.tornTail.offset} of ${recovered.tornTail.file}: ${recovered.tornTail.why}`;
    return { storage, durable: { round, records: [...records.values()] }, tornTail };
  }

  /** Makes what `ready` asks to persist durable; resolves once it is (after fdatasync). */
  async persist(ready: Ready): Promise<void> {
    if (!ready.mustSync) return;
    if (ready.round !== undefined) this.#round = ready.round;
    await this.#append(encodeJournalEntry({ kind: "state", round: this.#round, records: ready.records }));
  }

  async close(): Promise<void> {
    await this.#wal.close();
  }

  async #append(data: Uint8Array): Promise<void> {
    const index = logIndex(this.#nextIndex);
    const saved = await this.#wal.save({ entries: [{ index, term: journalTerm, kind: "normal", data }] });
    if (!saved.ok) throw new RegisterStorageError(saved.error);
    this.#nextIndex++;
  }
}

function sorted(members: Readonly<Record<string, number>>): [string, number][] {
  return Object.entries(members).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A Raft or Multi-Paxos data directory (identity.json) is not read as a register journal. */
async function refuseOtherEngines(disk: Disk, dir: string): Promise<void> {
  const names = await disk.list(dir).catch((cause: unknown): string[] => {
    if (cause instanceof Error && "code" in cause && cause.code === "ENOENT") return [];
    throw cause;
  });
  if (names.includes("identity.json")) {
    const file = join(dir, "identity.json");
    const message = `${dir} holds another engine's data (${file}): start it with that engine, or give --engine basic-paxos its own --data`;
    throw new RegisterStorageError({ type: "corrupt", file, offset: 0, message });
  }
}
