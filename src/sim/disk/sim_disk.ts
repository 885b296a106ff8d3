import type { Disk, DiskFile } from "../../storage/index.js";
import { Prng } from "../../util/prng.js";
import {
  changeEntries,
  dropUnsynced,
  flipDurableBit,
  newDir,
  newInode,
  recoverDir,
  syncEntries,
  type Dir,
  type Inode,
} from "./crash_model.js";
import { errnoError } from "./errno.js";
import { Faults, type Interrupted, type SimDiskOp } from "./faults.js";
import { components, dirAt, fileAt, parentOf } from "./lookup.js";
import { SimFile } from "./sim_file.js";

/*
 * An in-memory `Disk` with the fault model of a POSIX file system, for tests that crash a process or
 * a machine at any point and check what comes back. Everything random comes from one seeded Prng,
 * so a seed replays a run exactly (as long as the caller is deterministic too).
 *
 * - `crash()` is a power loss. Every instance and handle of the old life is dead (its calls reject
 *   with EBADF and change nothing); what survives on the disk is crash_model.ts's to say.
 * - `restart()` is a process crash: the old life dies, but the OS's page cache, and so every
 *   unsynced change, stays.
 * - A file opened with `durableWrites` makes each write durable as it completes (O_DSYNC): see SimFile.
 * - A failed datasync (injected) drops the pending changes from the disk with
 *   `failedSyncDropsProbability` while reads still return them, as Linux does since 4.13 when
 *   writeback fails (pages are marked clean); otherwise they stay pending.
 * - `crashAfterOps()`/`restartAfterOps()` schedule either one inside a later call, so that a test
 *   can stop a writer anywhere, with operations in flight.
 * - `flipBit()` is media corruption of durable bytes; `failNext()`/`failRate()` inject errno errors.
 * `crash()` and `restart()` return the SimDisk the next life of the process uses.
 */

export interface SimDiskOptions {
  readonly seed: number;
  /** Per file with unsynced changes at a crash: probability that a prefix of them survives. Default 0.5. */
  readonly tornWriteProbability?: number;
  /** Given a torn write, probability that the rest of the cut write reads back as zeros. Default 0.25. */
  readonly tornZerosProbability?: number;
  /** Per directory with unsynced changes at a crash: probability that a prefix of them survives. Default 0.5. */
  readonly dirChangesKeptProbability?: number;
  /** Probability that a failed datasync drops the file's unsynced changes from the disk for good. Default 0.5. */
  readonly failedSyncDropsProbability?: number;
  /** Each call waits 1 to this many microtasks (seeded), so concurrent calls interleave. Default 3. */
  readonly yieldsMax?: number;
  /**
   * How long a call takes, for a caller that keeps its own time (the simulator's virtual clock):
   * the call waits for the promise returned, if any, before it takes effect.
   */
  readonly latency?: ((op: SimDiskOp) => Promise<void> | undefined) | undefined;
  /** Told of every call as it takes effect, of injected failures and of crashes: for debugging a seed. */
  readonly trace?: ((event: string) => void) | undefined;
}

/** Counters for a test to show which faults a run actually exercised. */
interface SimDiskStats {
  ops: number;
  crashes: number;
  restarts: number;
  /** Files whose unsynced changes survived a crash in part (cut inside them). */
  tornWrites: number;
  /** Files whose unsynced changes were all lost in a crash. */
  lostWrites: number;
  dirChangesKept: number;
  dirChangesLost: number;
  injectedFailures: number;
  droppedSyncs: number;
  /** Completed fdatasync and directory fsync calls: what an engine pays in barriers (bench/compare_engines.mjs). */
  syncs: number;
}

interface World {
  readonly prng: Prng;
  readonly options: Required<Omit<SimDiskOptions, "seed" | "trace" | "latency">>;
  readonly trace: ((event: string) => void) | undefined;
  latency: SimDiskOptions["latency"];
  root: Dir;
  readonly stats: SimDiskStats;
  readonly faults: Faults;
}

export class SimDisk implements Disk {
  #world: World;
  #alive = true;
  #successor: SimDisk | undefined;

  constructor(options: SimDiskOptions) {
    const prng = new Prng(options.seed);
    const stats: SimDiskStats = {
      ops: 0,
      crashes: 0,
      restarts: 0,
      tornWrites: 0,
      lostWrites: 0,
      dirChangesKept: 0,
      dirChangesLost: 0,
      injectedFailures: 0,
      droppedSyncs: 0,
      syncs: 0,
    };
    this.#world = {
      prng,
      options: {
        tornWriteProbability: options.tornWriteProbability ?? 0.5,
        tornZerosProbability: options.tornZerosProbability ?? 0.25,
        dirChangesKeptProbability: options.dirChangesKeptProbability ?? 0.5,
        failedSyncDropsProbability: options.failedSyncDropsProbability ?? 0.5,
        yieldsMax: options.yieldsMax ?? 3,
      },
      trace: options.trace,
      latency: options.latency,
      root: newDir(),
      stats,
      faults: new Faults(prng, stats, options.trace),
    };
  }

  /** Shared by every life of this disk. */
  get stats(): Readonly<SimDiskStats> {
    return this.#world.stats;
  }

  /** False once a crash or restart has ended this life. */
  get alive(): boolean {
    return this.#alive;
  }

  // ---- Disk ----

  open(path: string, options: { readonly create: boolean; readonly durableWrites?: boolean }): Promise<DiskFile> {
    return this.#run("open", path, () => {
      const { parent, name } = this.#parentOf(path, "open");
      const existing = parent.live.get(name);
      if (options.create) {
        if (existing !== undefined) throw errnoError("EEXIST", "open", path);
        const inode = newInode();
        changeEntries(parent, [{ name, entry: { type: "file", inode } }]);
        return this.#newFile(inode, path, options.durableWrites === true);
      }
      if (existing === undefined) throw errnoError("ENOENT", "open", path);
      if (existing.type === "dir") throw errnoError("EISDIR", "open", path);
      return this.#newFile(existing.inode, path, options.durableWrites === true);
    });
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.#run("readFile", path, () => this.#fileAt(path, "open").live.copy());
  }

  list(dir: string): Promise<string[]> {
    return this.#run("list", dir, () => [...this.#dirAt(dir, "scandir").live.keys()]);
  }

  mkdir(dir: string): Promise<void> {
    return this.#run("mkdir", dir, () => {
      let current = this.#world.root;
      for (const name of components(dir)) {
        const entry = current.live.get(name);
        if (entry === undefined) {
          const created = newDir();
          changeEntries(current, [{ name, entry: { type: "dir", dir: created } }]);
          current = created;
        } else if (entry.type === "dir") {
          current = entry.dir;
        } else {
          throw errnoError("EEXIST", "mkdir", dir);
        }
      }
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.#run("rename", from, () => {
      const source = this.#parentOf(from, "rename");
      const target = this.#parentOf(to, "rename");
      const entry = source.parent.live.get(source.name);
      if (entry === undefined) throw errnoError("ENOENT", "rename", from);
      if (entry.type === "dir") throw new Error(`SimDisk: renaming directories is not modelled (${from})`);
      if (target.parent.live.get(target.name)?.type === "dir") throw errnoError("EISDIR", "rename", to);
      if (source.parent === target.parent && source.name === target.name) return;
      if (source.parent === target.parent) {
        changeEntries(source.parent, [
          { name: target.name, entry },
          { name: source.name, entry: undefined },
        ]);
      } else {
        changeEntries(target.parent, [{ name: target.name, entry }]);
        changeEntries(source.parent, [{ name: source.name, entry: undefined }]);
      }
    });
  }

  unlink(path: string): Promise<void> {
    return this.#run("unlink", path, () => {
      const { parent, name } = this.#parentOf(path, "unlink");
      const entry = parent.live.get(name);
      if (entry === undefined) throw errnoError("ENOENT", "unlink", path);
      if (entry.type === "dir") throw errnoError("EISDIR", "unlink", path);
      changeEntries(parent, [{ name, entry: undefined }]);
    });
  }

  syncDir(dir: string): Promise<void> {
    return this.#run("syncDir", dir, () => {
      syncEntries(this.#dirAt(dir, "fsync"));
    });
  }

  // ---- faults ----

  /**
   * Power loss: returns the disk as the rebooted machine sees it; this instance and its handles are
   * dead. If a crash or restart (scheduled or not) already ended this life, returns the disk the
   * latest one left, without crashing again.
   */
  crash(): SimDisk {
    if (!this.#alive) return this.#latest();
    const world = this.#world;
    world.stats.crashes++;
    world.faults.unschedule();
    world.trace?.("crash");
    world.root = recoverDir(world, world.root, new Set());
    return this.#succeed();
  }

  /** The process dies and starts again; the machine does not: unsynced changes stay readable. */
  restart(): SimDisk {
    if (!this.#alive) return this.#latest();
    this.#world.stats.restarts++;
    this.#world.trace?.("restart");
    this.#world.faults.unschedule();
    return this.#succeed();
  }

  /**
   * Lets `ops` more calls happen, then crashes during the next one: it rejects with EBADF, its
   * effect having reached the disk or not (at random; a datasync that did is durable, for example).
   * Call `crash()` afterwards to get the disk the crash left.
   */
  crashAfterOps(ops: number, interrupted: Interrupted = "either"): void {
    this.#world.faults.schedule({ countdown: ops, kind: "crash", interrupted });
  }

  /** As `crashAfterOps`, but only the process dies (a kill -9): see `restart()`. */
  restartAfterOps(ops: number, interrupted: Interrupted = "either"): void {
    this.#world.faults.schedule({ countdown: ops, kind: "restart", interrupted });
  }

  /**
   * Flips one bit of the durable bytes of the file at `path`: `bit` (0–7, random if not given) of
   * the byte at `offset` (random if not given). Reads see it too, unless an unsynced change covers it.
   * Returns where it flipped, so that the same call can flip it back.
   */
  flipBit(path: string, offset?: number, bit?: number): { offset: number; bit: number } {
    const inode = this.#fileAt(path, "flipBit");
    const size = inode.durable.size;
    if (size === 0) throw new Error(`SimDisk: ${path} has no durable bytes to flip`);
    const at = offset ?? this.#world.prng.int(0, size);
    const which = bit ?? this.#world.prng.int(0, 8);
    if (!(at >= 0 && at < size && which >= 0 && which < 8))
      throw new Error(`SimDisk: cannot flip bit ${which} of byte ${at} of ${path} (${size} bytes)`);
    flipDurableBit(inode, at, which);
    return { offset: at, bit: which };
  }

  /**
   * The next call of `op` on `path` or below it (any path if not given) rejects with `code` and
   * changes nothing, except that a failed write may have written a prefix of its data (a short
   * write, then the error) and a failed datasync may drop the pending changes (see the model).
   */
  failNext(op: SimDiskOp, code: string, options: { readonly path?: string } = {}): void {
    this.#world.faults.failNext(op, code, options.path);
  }

  /** Every call of `op` rejects with `code` with `probability` (0 turns it off). */
  failRate(op: SimDiskOp, code: string, probability: number): void {
    this.#world.faults.failRate(op, code, probability);
  }

  /** Removes every injected fault and a scheduled crash or restart. */
  clearFaults(): void {
    this.#world.faults.clear();
  }

  /** For tests: the names in `dir` now, sorted; empty if there is no such directory. */
  names(dir: string): string[] {
    try {
      return [...this.#dirAt(dir, "inspect").live.keys()].sort();
    } catch (cause) {
      if (cause instanceof Error && "code" in cause && cause.code === "ENOENT") return [];
      throw cause;
    }
  }

  /** For tests: a copy of what reads of `path` return now, or only what is durable; undefined if absent. */
  fileBytes(path: string, which: "live" | "durable" = "live"): Uint8Array | undefined {
    try {
      return this.#fileAt(path, "inspect")[which].copy();
    } catch (cause) {
      if (cause instanceof Error && "code" in cause && cause.code === "ENOENT") return undefined;
      throw cause;
    }
  }

  // ---- internals ----

  /** Runs `effect` after a few microtasks, unless this life ended, a crash is due, or a fault is injected. */
  async #run<T>(op: SimDiskOp, path: string, effect: (failing: boolean) => T): Promise<T> {
    const world = this.#world;
    const waiting = world.latency?.(op);
    if (waiting !== undefined) await waiting;
    for (let k = world.prng.int(1, world.options.yieldsMax + 1); k > 0; k--) await Promise.resolve();
    if (!this.#alive) throw errnoError("EBADF", op, path);
    world.stats.ops++;
    world.trace?.(`${op} ${path}`);
    const due = world.faults.dueNow();
    if (due !== undefined) {
      // Power fails during the call: it may have taken effect on the disk before the process heard.
      if (world.faults.appliedBeforeCrash(due)) {
        try {
          effect(false);
        } catch {
          // The call would have failed anyway; the crash is what the caller sees.
        }
      }
      if (due.kind === "restart") this.restart();
      else this.crash();
      throw errnoError("EBADF", op, path);
    }
    // A failed datasync decides itself what becomes of the pending changes (see #failedSync).
    const code = op === "datasync" ? undefined : world.faults.injected(op, path);
    if (code === undefined) {
      const result = effect(false);
      if (op === "datasync" || op === "syncDir") world.stats.syncs++;
      return result;
    }
    // A failed close still closes, as close(2) does; a failed write may have written a prefix.
    if (op === "close" || op === "write") effect(true);
    throw errnoError(code, op, path);
  }

  #newFile(inode: Inode, path: string, durableWrites: boolean): SimFile {
    return new SimFile(inode, path, durableWrites, {
      run: (op, file, effect) =>
        this.#run(op, path, (failing) => {
          if (file.closed) throw errnoError("EBADF", op, path);
          return effect(failing);
        }),
      failedSync: (syscall) => this.#failedSync(inode, path, syscall),
      prng: this.#world.prng,
    });
  }

  /** An injected datasync failure; whether the pending changes are dropped is the fault model's call. */
  #failedSync(inode: Inode, path: string, syscall: string): Error | undefined {
    const world = this.#world;
    const code = world.faults.injected("datasync", path);
    if (code === undefined) return undefined;
    if (inode.pending.length > 0 && world.prng.chance(world.options.failedSyncDropsProbability)) {
      dropUnsynced(inode);
      world.stats.droppedSyncs++;
    }
    return errnoError(code, syscall, path);
  }

  #succeed(): SimDisk {
    this.#alive = false;
    // Options are only read by the constructor for a new world, which is replaced at once.
    const next = new SimDisk({ seed: 0 });
    next.#world = this.#world;
    this.#successor = next;
    return next;
  }

  #latest(): SimDisk {
    const next = this.#successor;
    return next === undefined ? this : next.#latest();
  }

  #parentOf(path: string, syscall: string): { parent: Dir; name: string } {
    return parentOf(this.#world.root, path, syscall);
  }

  #dirAt(path: string, syscall: string): Dir {
    return dirAt(this.#world.root, path, syscall);
  }

  #fileAt(path: string, syscall: string): Inode {
    return fileAt(this.#world.root, path, syscall);
  }
}
