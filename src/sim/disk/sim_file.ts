import type { DiskFile } from "../../storage/index.js";
import type { Prng } from "../../util/prng.js";
import { syncFile, syncWrite, truncateFile, writeFile, type FileChange, type Inode } from "./crash_model.js";
import { errnoError } from "./errno.js";
import type { SimDiskOp } from "./faults.js";

/** What a SimFile needs from the life of the SimDisk that opened it. */
interface FileRunner {
  run<T>(op: SimDiskOp, file: SimFile, effect: (failing: boolean) => T): Promise<T>;
  /** An injected failure of the sync named `syscall`, or undefined if none is due. */
  failedSync(syscall: string): Error | undefined;
  readonly prng: Prng;
}

/**
 * An open file of one life of a SimDisk; dead (EBADF) once closed or once that life ends. A durable
 * write (`durableWrites`, O_DSYNC) is a write, then the sync of its bytes, in one call: the sync half
 * counts, costs and fails as a "datasync" does (so a failure injected there may drop the pending
 * changes, as a failed fdatasync does), and a crash may strike either half.
 */
export class SimFile implements DiskFile {
  readonly #inode: Inode;
  readonly #runner: FileRunner;
  readonly #durableWrites: boolean;
  readonly path: string;
  closed = false;

  constructor(inode: Inode, path: string, durableWrites: boolean, runner: FileRunner) {
    this.#inode = inode;
    this.path = path;
    this.#runner = runner;
    this.#durableWrites = durableWrites;
  }

  write(data: Uint8Array, position: number): Promise<void> {
    // Borrowed: copied now, as the caller may reuse the buffer once the promise settles.
    const copy = new Uint8Array(data);
    // A write that fails may have written a prefix first (a short write, then the error).
    const write = (failing: boolean): FileChange =>
      writeFile(this.#inode, position, failing ? copy.subarray(0, this.#runner.prng.int(0, copy.length)) : copy);
    if (!this.#durableWrites) {
      return this.#runner.run("write", this, (failing) => {
        write(failing);
      });
    }
    return this.#runner.run("write", this, write).then((change) =>
      this.#runner.run("datasync", this, () => {
        const failure = this.#runner.failedSync("write");
        if (failure !== undefined) throw failure;
        if (!syncWrite(this.#inode, change)) throw errnoError("EIO", "write", this.path);
      }),
    );
  }

  datasync(): Promise<void> {
    return this.#runner.run("datasync", this, () => {
      const failure = this.#runner.failedSync("fdatasync");
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
