import { join } from "node:path";
import { crc32c } from "../util/crc32c.js";
import type { Disk, DiskFile } from "./disk.js";
import type { StorageResult } from "./errors.js";
import { OK, diskError, failed } from "./errors.js";
import { checksumStepBytes, encodeHead, fileName, tempSuffix } from "./snapshot_format.js";

/**
 * A snapshot file being written a piece at a time, so that no one has to hold a whole snapshot to
 * store it. Nothing of it is visible until `finish`: the data goes to a temporary file, and only
 * once that is durable is it renamed into place.
 */
export interface SnapshotFileWriter {
  /** Appends `data` after what was written before; `data` is only borrowed. */
  write(data: Uint8Array): Promise<StorageResult<void>>;
  /** After every write: the file made durable, renamed into place and the rename made durable. */
  finish(): Promise<StorageResult<void>>;
  /** Gives the file up: the temporary file is removed. */
  abort(): Promise<void>;
}

/**
 * Writes one snapshot file: the data at its place after the header as it comes, checksummed on
 * the way (a few MiB per turn of the event loop), then the header with the checksum, which only
 * the last byte settles. Each operation waits for the ones asked for before it.
 */
export class SnapshotWriter {
  readonly #disk: Disk;
  readonly #dir: string;
  readonly #path: string;
  readonly #temp: string;
  readonly #head: Uint8Array;
  #crc: number;
  /** Where the next write goes. */
  #end: number;
  /** The open temporary file once every operation asked for so far is done, or why one failed. */
  #file: Promise<StorageResult<DiskFile>>;

  constructor(disk: Disk, dir: string, snapshot: { index: number; term: number; config: Uint8Array }) {
    this.#disk = disk;
    this.#dir = dir;
    this.#path = join(dir, fileName(snapshot.index, snapshot.term));
    this.#temp = this.#path + tempSuffix;
    const { head, crc } = encodeHead(snapshot);
    this.#head = head;
    this.#crc = crc;
    this.#end = head.length;
    this.#file = this.#open();
  }

  write(data: Uint8Array): Promise<StorageResult<void>> {
    const position = this.#end;
    this.#end += data.length;
    this.#file = this.#file.then((opened) => (opened.ok ? this.#writeAt(opened.value, data, position) : opened));
    return this.#file.then((done) => (done.ok ? OK : done));
  }

  /** The header, fdatasync, rename, directory sync; the caller runs one at a time per directory. */
  async complete(): Promise<StorageResult<void>> {
    const opened = await this.#file;
    if (!opened.ok) return opened;
    const file = opened.value;
    new DataView(this.#head.buffer).setUint32(4, this.#crc, true);
    try {
      await file.write(this.#head, 0);
      await file.datasync();
    } catch (cause) {
      return this.#failed(file, cause);
    }
    try {
      await file.close();
      await this.#disk.rename(this.#temp, this.#path);
      await this.#disk.syncDir(this.#dir);
    } catch (cause) {
      return this.#failed(undefined, cause);
    }
    return OK;
  }

  async abort(): Promise<void> {
    const opened = await this.#file;
    if (opened.ok) await this.#discard(opened.value);
  }

  async #open(): Promise<StorageResult<DiskFile>> {
    try {
      return { ok: true, value: await this.#disk.open(this.#temp, { create: true }) };
    } catch (cause) {
      return this.#failed(undefined, cause);
    }
  }

  async #writeAt(file: DiskFile, data: Uint8Array, position: number): Promise<StorageResult<DiskFile>> {
    try {
      for (let at = 0; at < data.length; at += checksumStepBytes) {
        const piece = data.subarray(at, Math.min(data.length, at + checksumStepBytes));
        this.#crc = crc32c(piece, { continueFrom: this.#crc });
        await file.write(piece, position + at);
      }
    } catch (cause) {
      return this.#failed(file, cause);
    }
    return { ok: true, value: file };
  }

  async #failed<T>(file: DiskFile | undefined, cause: unknown): Promise<StorageResult<T>> {
    const error = diskError(cause, "writing", this.#path);
    await this.#discard(file);
    return failed(error);
  }

  /** Best effort: a leftover temporary file would block the next save of this snapshot (a restart removes it too). */
  async #discard(file: DiskFile | undefined): Promise<void> {
    await file?.close().catch((again: unknown) => diskError(again, "closing", this.#temp));
    await this.#disk.unlink(this.#temp).catch((again: unknown) => diskError(again, "deleting", this.#temp));
  }
}
