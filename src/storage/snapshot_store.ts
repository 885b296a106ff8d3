import { join } from "node:path";
import { assert } from "../util/assert.js";
import { crc32c } from "../util/crc32c.js";
import type { LogIndex, Term } from "../util/ids.js";
import { logIndex, term } from "../util/ids.js";
import type { Disk } from "./disk.js";
import { mkdirDurable } from "./durable_dir.js";
import type { StorageError, StorageResult } from "./errors.js";
import { OK, corrupt, diskError, failed } from "./errors.js";
import { checksumStepBytes, fileName, headerBytes, magic, tempSuffix } from "./snapshot_format.js";
import { SnapshotWriter, type SnapshotFileWriter } from "./snapshot_writer.js";
import { getU64 } from "./u64.js";

const namePattern = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

/** A state machine snapshot: its data and cluster configuration as of log entry `index` (of `term`). */
export interface StoredSnapshot {
  readonly index: LogIndex;
  readonly term: Term;
  /** The membership at `index`, encoded by the caller; opaque here. */
  readonly config: Uint8Array;
  readonly data: Uint8Array;
}

interface SnapshotStoreOptions {
  /** How many of the newest snapshots to keep; older ones are deleted after each save. At least 1. */
  readonly snapshotsRetainedMax?: number;
}

/** The newest usable snapshot, and the newer files that were skipped because they were corrupt. */
interface LoadedSnapshot {
  readonly snapshot: StoredSnapshot | undefined;
  readonly skipped: readonly StorageError[];
}

/**
 * The snapshot files of one node, in one directory. A snapshot becomes visible only whole: it is
 * written to a temporary file, made durable, then renamed into place and the rename made durable.
 */
export class SnapshotStore {
  readonly #disk: Disk;
  readonly #dir: string;
  readonly #retainedMax: number;
  #saving: Promise<StorageResult<void>> = Promise.resolve(OK);

  private constructor(disk: Disk, dir: string, retainedMax: number) {
    this.#disk = disk;
    this.#dir = dir;
    this.#retainedMax = retainedMax;
  }

  /**
   * Opens (creating if needed) the store in `dir`, removing temporary files a crash left behind.
   * The directory, every parent and the entries in it are made durable first: a new level's name must
   * survive a crash before any snapshot in it can, and a process killed between a rename and its
   * syncDir leaves a snapshot that `load` would return but a crash could still take away.
   */
  static async open(
    disk: Disk,
    dir: string,
    options: SnapshotStoreOptions = {},
  ): Promise<StorageResult<SnapshotStore>> {
    const retainedMax = options.snapshotsRetainedMax ?? 2;
    assert(
      Number.isSafeInteger(retainedMax) && retainedMax >= 1,
      `snapshot store: snapshotsRetainedMax ${retainedMax}`,
    );
    try {
      await mkdirDurable(disk, dir);
      const temps = (await disk.list(dir)).filter((name) => name.endsWith(tempSuffix));
      for (const name of temps) await disk.unlink(join(dir, name));
      if (temps.length > 0) await disk.syncDir(dir);
    } catch (cause) {
      return failed(diskError(cause, "cleaning", dir));
    }
    return { ok: true, value: new SnapshotStore(disk, dir, retainedMax) };
  }

  /** Stores `snapshot` durably, then deletes all but the newest `snapshotsRetainedMax`. */
  save(snapshot: StoredSnapshot): Promise<StorageResult<void>> {
    const file = this.begin(snapshot);
    // A failed write fails the finish too.
    return file.write(snapshot.data).then(() => file.finish());
  }

  /**
   * Starts the snapshot file for `index` and `term`, its data to come a piece at a time; once
   * finished, all but the newest `snapshotsRetainedMax` are deleted.
   */
  begin(snapshot: { index: LogIndex; term: Term; config: Uint8Array }): SnapshotFileWriter {
    assert(Number.isSafeInteger(snapshot.index) && snapshot.index >= 0, `snapshot store: index ${snapshot.index}`);
    assert(Number.isSafeInteger(snapshot.term) && snapshot.term >= 0, `snapshot store: term ${snapshot.term}`);
    const writer = new SnapshotWriter(this.#disk, this.#dir, snapshot);
    return {
      write: (data) => writer.write(data),
      finish: () => {
        // One rename at a time: pruning must not race another save's rename.
        this.#saving = this.#saving.then(async () => {
          const written = await writer.complete();
          return written.ok ? this.#prune() : written;
        });
        return this.#saving;
      },
      abort: () => writer.abort(),
    };
  }

  /** The snapshot saved for `index` and `term`, read back from its file (a peer needs it). */
  async read(index: number, t: number): Promise<StorageResult<StoredSnapshot>> {
    const read = await this.#readFile({ name: fileName(index, t), index, term: t });
    if (!read.ok) return read;
    return "corrupt" in read.value ? failed(read.value.corrupt) : { ok: true, value: read.value };
  }

  /**
   * The newest valid snapshot at or above `indexMin` (the WAL's snapshot marker: the log after it
   * starts there, so an older snapshot would leave a hole). Corrupt newer files are skipped and
   * reported; if none is usable and `indexMin` > 0, the result is a `corrupt` error.
   */
  async load(options: { readonly indexMin: number }): Promise<StorageResult<LoadedSnapshot>> {
    let names: string[];
    try {
      names = await this.#disk.list(this.#dir);
    } catch (cause) {
      return failed(diskError(cause, "listing", this.#dir));
    }
    const skipped: StorageError[] = [];
    for (const name of snapshotNamesNewestFirst(names)) {
      if (name.index < options.indexMin) break;
      const read = await this.#readFile(name);
      if (!read.ok) return read;
      if (!("corrupt" in read.value)) return { ok: true, value: { snapshot: read.value, skipped } };
      skipped.push(read.value.corrupt);
    }
    if (options.indexMin === 0) return { ok: true, value: { snapshot: undefined, skipped } };
    const newest = skipped[0];
    if (newest === undefined)
      return failed(corrupt(this.#dir, 0, `no snapshot at or above index ${options.indexMin}, where the log starts`));
    return failed({
      ...newest,
      message: `${newest.message}, and no older snapshot reaches index ${options.indexMin}, where the log starts`,
    });
  }

  /** The file `name`, decoded; one that does not decode as its name promises is `corrupt`. */
  async #readFile(name: SnapshotName): Promise<StorageResult<StoredSnapshot | { corrupt: StorageError }>> {
    const path = join(this.#dir, name.name);
    let bytes: Uint8Array;
    try {
      bytes = await this.#disk.readFile(path);
    } catch (cause) {
      return failed(diskError(cause, "reading", path));
    }
    const decoded = await decodeSnapshot(bytes, name);
    return { ok: true, value: typeof decoded === "string" ? { corrupt: corrupt(path, 0, decoded) } : decoded };
  }

  async #prune(): Promise<StorageResult<void>> {
    try {
      const old = snapshotNamesNewestFirst(await this.#disk.list(this.#dir)).slice(this.#retainedMax);
      for (const name of old) await this.#disk.unlink(join(this.#dir, name.name));
      if (old.length > 0) await this.#disk.syncDir(this.#dir);
    } catch (cause) {
      return failed(diskError(cause, "pruning", this.#dir));
    }
    return OK;
  }
}

interface SnapshotName {
  readonly name: string;
  readonly index: number;
  readonly term: number;
}

function snapshotNamesNewestFirst(names: readonly string[]): SnapshotName[] {
  const parsed: SnapshotName[] = [];
  for (const name of names) {
    const match = namePattern.exec(name);
    if (match !== null) parsed.push({ name, index: parseInt(match[1]!, 16), term: parseInt(match[2]!, 16) });
  }
  return parsed.sort((a, b) => b.index - a.index || b.term - a.term);
}

/** The CRC of the bytes that gave `crc` followed by `data`, a step per turn of the event loop. */
async function checksumInSteps(data: Uint8Array, crc: number): Promise<number> {
  let sum = crc;
  for (let at = 0; at < data.length; at += checksumStepBytes) {
    if (at > 0) await new Promise((resolve) => setImmediate(resolve));
    sum = crc32c(data, { start: at, end: Math.min(data.length, at + checksumStepBytes), continueFrom: sum });
  }
  return sum;
}

/**
 * The snapshot in `bytes`, or why it is not the valid file its name promises. Checksummed a step per
 * turn of the event loop: a leader reads a large snapshot back to send it, and must go on heartbeating.
 */
async function decodeSnapshot(bytes: Uint8Array, name: SnapshotName): Promise<StoredSnapshot | string> {
  if (bytes.length < headerBytes) return `${bytes.length} bytes is shorter than a snapshot header`;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== magic) return "not a snapshot file (bad magic number)";
  if ((await checksumInSteps(bytes.subarray(8), 0)) !== view.getUint32(4, true)) return "checksum mismatch";
  const index = getU64(view, 8);
  const t = getU64(view, 16);
  if (index !== name.index || t !== name.term) return `holds index ${index} term ${t}, not what its name says`;
  const configEnd = headerBytes + view.getUint32(24, true);
  if (configEnd > bytes.length) return "config runs past the end of the file";
  // Views, not copies: the buffer was read for this snapshot alone.
  return {
    index: logIndex(index),
    term: term(t),
    config: bytes.subarray(headerBytes, configEnd),
    data: bytes.subarray(configEnd),
  };
}
