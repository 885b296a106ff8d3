import type { DiskFile } from "../../storage/index.js";
import type { Prng } from "../../util/prng.js";
import { syncFile, truncateFile, writeFile, type Inode } from "./crash_model.js";
import type { SimDiskOp } from "./faults.js";

/** What a SimFile needs from the life of the SimDisk that opened it. */
interface FileRunner {
  run<T>(op: SimDiskOp, file: SimFile, effect: (failing: boolean) => T): Promise<T>;
  failedSync(): Error | undefined;
  readonly prng: Prng;
}

/** An open file of one life of a SimDisk; dead (EBADF) once closed or once that life ends. */
export class SimFile implements DiskFile {
  readonly #inode: Inode;
  readonly #runner: FileRunner;
  readonly path: string;
  closed = false;

  constructor(inode: Inode, path: string, runner: FileRunner) {
    this.#inode = inode;
    this.path = path;
    this.#runner = runner;
  }

  write(data: Uint8Array, position: number): Promise<void> {
    // Borrowed: copied now, as the caller may reuse the buffer once the promise settles.
    const copy = new Uint8Array(data);
    return this.#runner.run("write", this, (failing) => {
      // A write that fails may have written a prefix first (a short write, then the error).
      const written = failing ? copy.subarray(0, this.#runner.prng.int(0, copy.length)) : copy;
      writeFile(this.#inode, position, written);
    });
  }

  datasync(): Promise<void> {
    return this.#runner.run("datasync", this, () => {
      const failure = this.#runner.failedSync();
      if (failure !== undefined) throw failure;
      syncFile(this.#inode);
    });
  }

  truncate(length: number): Promise<void> {
    return this.#runner.run("truncate", this, () => {
      truncateFile(this.#inode, length);
    });
  }

  close(): Promise<void> {
    return this.#runner.run("close", this, () => {
      this.closed = true;
    });
  }
}
