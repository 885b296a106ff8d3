import type { Prng } from "../../util/prng.js";

/** The operations a fault can be injected into: the `Disk` methods and the `DiskFile` ones. */
export type SimDiskOp =
  | "open"
  | "readFile"
  | "list"
  | "mkdir"
  | "rename"
  | "unlink"
  | "syncDir"
  | "write"
  | "datasync"
  | "truncate"
  | "close";

/** Whether the call a scheduled crash interrupts had taken effect: "either" picks at random. */
export type Interrupted = "applied" | "lost" | "either";

/** A crash or restart due inside a later call. */
interface Scheduled {
  /** Calls left before the one to crash in. */
  countdown: number;
  readonly kind: "crash" | "restart";
  readonly interrupted: Interrupted;
}

interface Fault {
  readonly code: string;
  readonly path: string | undefined;
}

/**
 * The faults injected into a SimDisk's calls: errno failures, one-shot or at a rate, and a crash or
 * restart scheduled inside a later call. Shared by every life of the disk, as is its PRNG, so that a
 * seed replays them.
 */
export class Faults {
  readonly #prng: Prng;
  readonly #stats: { injectedFailures: number };
  readonly #trace: ((event: string) => void) | undefined;
  readonly #next = new Map<SimDiskOp, Fault[]>();
  readonly #rates = new Map<SimDiskOp, { readonly code: string; readonly probability: number }>();
  #scheduled: Scheduled | undefined = undefined;

  constructor(prng: Prng, stats: { injectedFailures: number }, trace: ((event: string) => void) | undefined) {
    this.#prng = prng;
    this.#stats = stats;
    this.#trace = trace;
  }

  failNext(op: SimDiskOp, code: string, path: string | undefined): void {
    const queue = this.#next.get(op) ?? [];
    queue.push({ code, path });
    this.#next.set(op, queue);
  }

  failRate(op: SimDiskOp, code: string, probability: number): void {
    if (probability <= 0) this.#rates.delete(op);
    else this.#rates.set(op, { code, probability });
  }

  schedule(scheduled: Scheduled): void {
    this.#scheduled = scheduled;
  }

  /** A crash or restart, scheduled or not, ends whatever was scheduled. */
  unschedule(): void {
    this.#scheduled = undefined;
  }

  clear(): void {
    this.#next.clear();
    this.#rates.clear();
    this.#scheduled = undefined;
  }

  /** Counts a call toward a scheduled crash; returns the schedule when this call is the one to crash in. */
  dueNow(): Scheduled | undefined {
    const scheduled = this.#scheduled;
    if (scheduled === undefined || scheduled.countdown === 0) return scheduled;
    scheduled.countdown--;
    return undefined;
  }

  /** Whether the call a crash interrupts took effect before the process heard. */
  appliedBeforeCrash(due: Scheduled): boolean {
    return due.interrupted === "applied" || (due.interrupted === "either" && this.#prng.chance(0.5));
  }

  /** The code of a fault injected into this call, if any (counted as used). */
  injected(op: SimDiskOp, path: string): string | undefined {
    const queue = this.#next.get(op);
    const k =
      queue?.findIndex(
        (fault) => fault.path === undefined || fault.path === path || path.startsWith(fault.path + "/"),
      ) ?? -1;
    let code: string | undefined;
    if (queue !== undefined && k >= 0) {
      code = queue[k]!.code;
      queue.splice(k, 1);
    } else {
      const rate = this.#rates.get(op);
      if (rate !== undefined && this.#prng.chance(rate.probability)) code = rate.code;
    }
    if (code !== undefined) {
      this.#stats.injectedFailures++;
      this.#trace?.(`  fails with ${code}`);
    }
    return code;
  }
}
