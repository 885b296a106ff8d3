import { join } from "node:path";
import { assert } from "../util/assert.js";
import { crc32c } from "../util/crc32c.js";
import type { LogIndex, Term } from "../util/ids.js";
import { logIndex, term } from "../util/ids.js";
import type { Disk } from "./disk.js";
import { mkdirDurable } from "./durable_dir.js";
import type { StorageError, StorageResult } from "./errors.js";
import { OK, corrupt, diskError, failed } from "./errors.js";
import { getU64, setU64 } from "./u64.js";

/*
 * A snapshot file, little-endian: u32 magic "RKSN", u32 crc32c over the rest of the file, u64 index,
 * u64 term, u32 config length, config bytes, then the state machine's data to the end of the file.
 * Named `<index>-<term>.snap` (16 hex digits each) so a listing shows which is newest.
 */
const magic = 0x4e534b52;
const headerBytes = 28;
const namePattern = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
const tempSuffix = ".tmp";

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
    assert(Number.isSafeInteger(snapshot.index) && snapshot.index >= 0, `snapshot store: index ${snapshot.index}`);
    assert(Number.isSafeInteger(snapshot.term) && snapshot.term >= 0, `snapshot store: term ${snapshot.term}`);
    // One save at a time: pruning must not race another save's rename.
    this.#saving = this.#saving.then(async () => {
      const head = await encodeHead(snapshot);
      const written = await this.#write(fileName(snapshot.index, snapshot.term), head, snapshot.data);
      return written.ok ? this.#prune() : written;
    });
    return this.#saving;
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

  /** Writes the file as `head` then `data`: a large snapshot's data is never copied into one buffer. */
  async #write(name: string, head: Uint8Array, data: Uint8Array): Promise<StorageResult<void>> {
    const path = join(this.#dir, name);
    const temp = path + tempSuffix;
    try {
      const file = await this.#disk.open(temp, { create: true });
      try {
        await file.write(head, 0);
        await file.write(data, head.length);
        await file.datasync();
      } finally {
        await file.close();
      }
      await this.#disk.rename(temp, path);
      await this.#disk.syncDir(this.#dir);
    } catch (cause) {
      const error = diskError(cause, "writing", path);
      // Best effort: a leftover temporary file would block the next save of this snapshot.
      await this.#disk.unlink(temp).catch((again: unknown) => diskError(again, "deleting", temp));
      return failed(error);
    }
    return OK;
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

function fileName(index: number, t: number): string {
  return `${index.toString(16).padStart(16, "0")}-${t.toString(16).padStart(16, "0")}.snap`;
}

function snapshotNamesNewestFirst(names: readonly string[]): SnapshotName[] {
  const parsed: SnapshotName[] = [];
  for (const name of names) {
    const match = namePattern.exec(name);
    if (match !== null) parsed.push({ name, index: parseInt(match[1]!, 16), term: parseInt(match[2]!, 16) });
  }
  return parsed.sort((a, b) => b.index - a.index || b.term - a.term);
}

/** Data checksummed per turn of the event loop: a large snapshot must not stall the node. */
const checksumStepBytes = 4 << 20;

/** The file's header and config, with the checksum over them and the data. */
async function encodeHead(snapshot: StoredSnapshot): Promise<Uint8Array> {
  const head = new Uint8Array(headerBytes + snapshot.config.length);
  const view = new DataView(head.buffer);
  view.setUint32(0, magic, true);
  setU64(view, 8, snapshot.index);
  setU64(view, 16, snapshot.term);
  view.setUint32(24, snapshot.config.length, true);
  head.set(snapshot.config, headerBytes);
  view.setUint32(4, await checksumInSteps(snapshot.data, crc32c(head, { start: 8 })), true);
  return head;
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
