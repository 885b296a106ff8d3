import { constants } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Disk, DiskFile } from "./disk.js";

/** The real disk. The only module in src that imports node:fs; everything else goes through `Disk`. */
export const fsDisk: Disk = {
  async open(path, options) {
    // O_EXCL: creating over an existing segment or snapshot is a bug upstream. O_DSYNC makes each
    // write its own fdatasync, so a durable write is one trip through libuv's thread pool, not two.
    const { O_RDWR, O_CREAT, O_EXCL, O_DSYNC } = constants;
    const flags = O_RDWR | (options.create ? O_CREAT | O_EXCL : 0) | (options.durableWrites === true ? O_DSYNC : 0);
    return new FsFile(await open(path, flags));
  },
  readFile: (path) => readFile(path),
  list: (dir) => readdir(dir),
  async mkdir(dir) {
    await mkdir(dir, { recursive: true });
  },
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
  async syncDir(dir) {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};

/*
 * Scratch directories for tests and tools. They live here because this is the one module allowed to
 * touch node:fs (scripts/check-layers.mjs); the WAL and snapshot store never remove directories.
 */

/** A new, empty directory under the OS temp dir whose name starts with `prefix`. */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes `path` and everything below it; succeeds if it is already gone. */
export function removeTree(path: string): Promise<void> {
  return rm(path, { recursive: true, force: true });
}

class FsFile implements DiskFile {
  #handle: FileHandle;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.#handle.write(data, written, data.length - written, position + written);
      if (bytesWritten === 0)
        throw Object.assign(new Error(`write made no progress at byte ${position + written}`), { code: "EIO" });
      written += bytesWritten;
    }
  }

  datasync(): Promise<void> {
    return this.#handle.datasync();
  }

  truncate(length: number): Promise<void> {
    return this.#handle.truncate(length);
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}
