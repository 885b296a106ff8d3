import { posix } from "node:path";
import { Prng } from "../../util/prng.js";
import type { Disk, DiskFile } from "../../storage/index.js";

/*
 * An in-memory `Disk` with the fault model of a POSIX file system, for tests that crash a process or
 * a machine at any point and check what comes back. Everything random comes from one seeded Prng,
 * so a seed replays a run exactly (as long as the caller is deterministic too).
 *
 * The model:
 * - A file (inode) has durable bytes and the writes and truncations made since its last datasync.
 *   Reads see everything; `datasync()` makes the file's pending changes durable.
 * - A directory has durable entries and the changes to its entries (create, mkdir, rename, unlink)
 *   made since its last `syncDir()`, which makes the entries durable as they are now. A rename
 *   within one directory is one atomic change; across two it is two independent ones.
 * - `crash()` is a power loss. Every instance and handle of the old life is dead (its calls reject
 *   with EBADF and change nothing). For each file, the pending changes are lost, or, with
 *   `tornWriteProbability`, a prefix of them survives, cut at any byte (a torn write), the rest of a
 *   cut write perhaps reading back as zeros (`tornZerosProbability`: the size reached the disk, the
 *   data did not). For each directory, the pending changes are rolled back, or, with
 *   `dirChangesKeptProbability`, a prefix of them survives (a journal commits in order). A file or
 *   directory no durable name reaches is gone.
 * - `restart()` is a process crash: the old life dies, but the OS's page cache, and so every
 *   unsynced change, stays.
 * - A failed datasync (injected) drops the pending changes from the disk with
 *   `failedSyncDropsProbability` while reads still return them, as Linux does since 4.13 when
 *   writeback fails (pages are marked clean); otherwise they stay pending.
 * - `crashAfterOps()`/`restartAfterOps()` schedule either one inside a later call, so that a test
 *   can stop a writer anywhere, with operations in flight.
 * - `flipBit()` is media corruption of durable bytes; `failNext()`/`failRate()` inject errno errors.
 * `crash()` and `restart()` return the SimDisk the next life of the process uses.
 */

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
export interface SimDiskStats {
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
}

type FileChange =
  | { readonly type: "write"; readonly position: number; readonly data: Uint8Array }
  | { readonly type: "truncate"; readonly length: number };

interface Inode {
  readonly live: Bytes;
  readonly durable: Bytes;
  pending: FileChange[];
}

interface Dir {
  live: Map<string, Entry>;
  durable: Map<string, Entry>;
  /** Groups of changes, each applied atomically, in the order they were made. */
  pending: { readonly name: string; readonly entry: Entry | undefined }[][];
}

type Entry = { readonly type: "file"; readonly inode: Inode } | { readonly type: "dir"; readonly dir: Dir };

interface Fault {
  readonly code: string;
  readonly path: string | undefined;
}

/** Whether the call a scheduled crash interrupts had taken effect: "either" picks at random. */
export type Interrupted = "applied" | "lost" | "either";

interface World {
  readonly prng: Prng;
  readonly options: Required<Omit<SimDiskOptions, "seed" | "trace" | "latency">>;
  readonly trace: ((event: string) => void) | undefined;
  latency: SimDiskOptions["latency"];
  root: Dir;
  readonly stats: SimDiskStats;
  readonly next: Map<SimDiskOp, Fault[]>;
  readonly rates: Map<SimDiskOp, { readonly code: string; readonly probability: number }>;
  /** Calls left before a scheduled crash or restart; undefined when none is scheduled. */
  scheduled: { countdown: number; readonly kind: "crash" | "restart"; readonly interrupted: Interrupted } | undefined;
}

const descriptions: Record<string, string> = {
  ENOENT: "no such file or directory",
  EEXIST: "file already exists",
  EBADF: "bad file descriptor",
  EIO: "i/o error",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EISDIR: "illegal operation on a directory",
  ENOTDIR: "not a directory",
  EACCES: "permission denied",
};

/** An Error shaped like Node's fs errors: `code`, `syscall`, `path`, message "CODE: what, syscall 'path'". */
export function errnoError(code: string, syscall: string, path: string): Error {
  const error = new Error(`${code}: ${descriptions[code] ?? "simulated failure"}, ${syscall} '${path}'`);
  return Object.assign(error, { code, syscall, path });
}

export class SimDisk implements Disk {
  #world: World;
  #alive = true;
  #successor: SimDisk | undefined;

  constructor(options: SimDiskOptions) {
    this.#world = {
      prng: new Prng(options.seed),
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
      stats: {
        ops: 0,
        crashes: 0,
        restarts: 0,
        tornWrites: 0,
        lostWrites: 0,
        dirChangesKept: 0,
        dirChangesLost: 0,
        injectedFailures: 0,
        droppedSyncs: 0,
      },
      next: new Map(),
      rates: new Map(),
      scheduled: undefined,
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

  open(path: string, options: { readonly create: boolean }): Promise<DiskFile> {
    return this.#run("open", path, () => {
      const { parent, name } = this.#parentOf(path, "open");
      const existing = parent.live.get(name);
      if (options.create) {
        if (existing !== undefined) throw errnoError("EEXIST", "open", path);
        const inode: Inode = { live: new Bytes(), durable: new Bytes(), pending: [] };
        changeEntries(parent, [{ name, entry: { type: "file", inode } }]);
        return this.#newFile(inode, path);
      }
      if (existing === undefined) throw errnoError("ENOENT", "open", path);
      if (existing.type === "dir") throw errnoError("EISDIR", "open", path);
      return this.#newFile(existing.inode, path);
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
      const target = this.#dirAt(dir, "fsync");
      target.durable = new Map(target.live);
      target.pending = [];
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
    world.scheduled = undefined;
    world.trace?.("crash");
    world.root = recoverDir(world, world.root, new Set());
    return this.#succeed();
  }

  /** The process dies and starts again; the machine does not: unsynced changes stay readable. */
  restart(): SimDisk {
    if (!this.#alive) return this.#latest();
    this.#world.stats.restarts++;
    this.#world.trace?.("restart");
    this.#world.scheduled = undefined;
    return this.#succeed();
  }

  /**
   * Lets `ops` more calls happen, then crashes during the next one: it rejects with EBADF, its
   * effect having reached the disk or not (at random; a datasync that did is durable, for example).
   * Call `crash()` afterwards to get the disk the crash left.
   */
  crashAfterOps(ops: number, interrupted: Interrupted = "either"): void {
    this.#world.scheduled = { countdown: ops, kind: "crash", interrupted };
  }

  /** As `crashAfterOps`, but only the process dies (a kill -9): see `restart()`. */
  restartAfterOps(ops: number, interrupted: Interrupted = "either"): void {
    this.#world.scheduled = { countdown: ops, kind: "restart", interrupted };
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
    inode.durable.flip(at, which);
    const covered = inode.pending.some(
      (c) => c.type === "truncate" || (c.position <= at && at < c.position + c.data.length),
    );
    if (!covered && at < inode.live.size) inode.live.flip(at, which);
    return { offset: at, bit: which };
  }

  /**
   * The next call of `op` on `path` or below it (any path if not given) rejects with `code` and
   * changes nothing, except that a failed write may have written a prefix of its data (a short
   * write, then the error) and a failed datasync may drop the pending changes (see the model).
   */
  failNext(op: SimDiskOp, code: string, options: { readonly path?: string } = {}): void {
    const queue = this.#world.next.get(op) ?? [];
    queue.push({ code, path: options.path });
    this.#world.next.set(op, queue);
  }

  /** Every call of `op` rejects with `code` with `probability` (0 turns it off). */
  failRate(op: SimDiskOp, code: string, probability: number): void {
    if (probability <= 0) this.#world.rates.delete(op);
    else this.#world.rates.set(op, { code, probability });
  }

  /** Removes every injected fault and a scheduled crash or restart. */
  clearFaults(): void {
    this.#world.next.clear();
    this.#world.rates.clear();
    this.#world.scheduled = undefined;
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
    const due = this.#dueNow();
    if (due !== undefined) {
      // Power fails during the call: it may have taken effect on the disk before the process heard.
      if (due.interrupted === "applied" || (due.interrupted === "either" && world.prng.chance(0.5))) {
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
    const code = op === "datasync" ? undefined : this.#injected(op, path);
    if (code === undefined) return effect(false);
    // A failed close still closes, as close(2) does; a failed write may have written a prefix.
    if (op === "close" || op === "write") effect(true);
    throw errnoError(code, op, path);
  }

  /** Counts a call toward a scheduled crash; returns the schedule when this call is the one to crash in. */
  #dueNow(): World["scheduled"] {
    const scheduled = this.#world.scheduled;
    if (scheduled === undefined || scheduled.countdown === 0) return scheduled;
    scheduled.countdown--;
    return undefined;
  }

  /** The code of a fault injected into this call, if any (counted as used). */
  #injected(op: SimDiskOp, path: string): string | undefined {
    const world = this.#world;
    const queue = world.next.get(op);
    const k =
      queue?.findIndex(
        (fault) => fault.path === undefined || fault.path === path || path.startsWith(fault.path + "/"),
      ) ?? -1;
    let code: string | undefined;
    if (queue !== undefined && k >= 0) {
      code = queue[k]!.code;
      queue.splice(k, 1);
    } else {
      const rate = world.rates.get(op);
      if (rate !== undefined && world.prng.chance(rate.probability)) code = rate.code;
    }
    if (code !== undefined) {
      world.stats.injectedFailures++;
      world.trace?.(`  fails with ${code}`);
    }
    return code;
  }

  #newFile(inode: Inode, path: string): SimFile {
    return new SimFile(inode, path, {
      run: (op, file, effect) =>
        this.#run(op, path, (failing) => {
          if (file.closed) throw errnoError("EBADF", op, path);
          return effect(failing);
        }),
      failedSync: () => this.#failedSync(inode, path),
      prng: this.#world.prng,
    });
  }

  /** An injected datasync failure; whether the pending changes are dropped is the fault model's call. */
  #failedSync(inode: Inode, path: string): Error | undefined {
    const code = this.#injected("datasync", path);
    if (code === undefined) return undefined;
    if (inode.pending.length > 0 && this.#world.prng.chance(this.#world.options.failedSyncDropsProbability)) {
      inode.pending = [];
      this.#world.stats.droppedSyncs++;
    }
    return errnoError(code, "fdatasync", path);
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
    const names = components(path);
    const name = names.pop();
    if (name === undefined) throw errnoError("EISDIR", syscall, path);
    return { parent: this.#walk(names, path, syscall), name };
  }

  #dirAt(path: string, syscall: string): Dir {
    return this.#walk(components(path), path, syscall);
  }

  #fileAt(path: string, syscall: string): Inode {
    const { parent, name } = this.#parentOf(path, syscall);
    const entry = parent.live.get(name);
    if (entry === undefined) throw errnoError("ENOENT", syscall, path);
    if (entry.type === "dir") throw errnoError("EISDIR", syscall, path);
    return entry.inode;
  }

  #walk(names: readonly string[], path: string, syscall: string): Dir {
    let dir = this.#world.root;
    for (const name of names) {
      const entry = dir.live.get(name);
      if (entry === undefined) throw errnoError("ENOENT", syscall, path);
      if (entry.type !== "dir") throw errnoError("ENOTDIR", syscall, path);
      dir = entry.dir;
    }
    return dir;
  }
}

/** What a SimFile needs from the life of the SimDisk that opened it. */
interface FileRunner {
  run<T>(op: SimDiskOp, file: SimFile, effect: (failing: boolean) => T): Promise<T>;
  failedSync(): Error | undefined;
  readonly prng: Prng;
}

/** An open file of one life of a SimDisk; dead (EBADF) once closed or once that life ends. */
class SimFile implements DiskFile {
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
      this.#inode.live.write(position, written);
      this.#inode.pending.push({ type: "write", position, data: written });
    });
  }

  datasync(): Promise<void> {
    return this.#runner.run("datasync", this, () => {
      const failure = this.#runner.failedSync();
      if (failure !== undefined) throw failure;
      for (const change of this.#inode.pending) applyChange(this.#inode.durable, change);
      this.#inode.pending = [];
    });
  }

  truncate(length: number): Promise<void> {
    return this.#runner.run("truncate", this, () => {
      this.#inode.live.truncate(length);
      this.#inode.pending.push({ type: "truncate", length });
    });
  }

  close(): Promise<void> {
    return this.#runner.run("close", this, () => {
      this.closed = true;
    });
  }
}

function newDir(): Dir {
  return { live: new Map(), durable: new Map(), pending: [] };
}

function components(path: string): string[] {
  if (!posix.isAbsolute(path)) throw new Error(`SimDisk: paths must be absolute, not ${path}`);
  return posix
    .normalize(path)
    .split("/")
    .filter((name) => name !== "");
}

function changeEntries(dir: Dir, group: { readonly name: string; readonly entry: Entry | undefined }[]): void {
  for (const { name, entry } of group) {
    if (entry === undefined) dir.live.delete(name);
    else dir.live.set(name, entry);
  }
  dir.pending.push(group);
}

/**
 * The directory as a power loss leaves it: durable entries plus perhaps a prefix of the pending
 * changes; then, recursively, the same for what those entries reach. `seen` keeps an inode reached
 * by two names (a rename across directories that half survived) from being recovered twice.
 */
function recoverDir(world: World, dir: Dir, seen: Set<Inode>): Dir {
  const entries = new Map(dir.durable);
  const pending = dir.pending;
  const kept =
    pending.length > 0 && world.prng.chance(world.options.dirChangesKeptProbability)
      ? world.prng.int(0, pending.length + 1)
      : 0;
  world.stats.dirChangesKept += kept;
  world.stats.dirChangesLost += pending.length - kept;
  for (const group of pending.slice(0, kept)) {
    for (const { name, entry } of group) {
      if (entry === undefined) entries.delete(name);
      else entries.set(name, entry);
    }
  }
  const recovered = newDir();
  for (const [name, entry] of entries) {
    if (entry.type === "dir") {
      recovered.live.set(name, { type: "dir", dir: recoverDir(world, entry.dir, seen) });
    } else {
      if (!seen.has(entry.inode)) recoverFile(world, entry.inode);
      seen.add(entry.inode);
      recovered.live.set(name, entry);
    }
  }
  recovered.durable = new Map(recovered.live);
  return recovered;
}

/** Loses a file's pending changes, or keeps a prefix of them cut at a random byte. */
function recoverFile(world: World, inode: Inode): void {
  const pending = inode.pending;
  inode.pending = [];
  if (pending.length > 0) {
    if (world.prng.chance(world.options.tornWriteProbability)) keepPrefix(world, inode.durable, pending);
    else world.stats.lostWrites++;
  }
  inode.live.truncate(0);
  inode.live.write(0, inode.durable.view());
}

function keepPrefix(world: World, durable: Bytes, pending: readonly FileChange[]): void {
  // A truncation weighs one unit, a write its length: the cut lands anywhere in that sequence.
  const weight = (change: FileChange): number => (change.type === "write" ? change.data.length : 1);
  const total = pending.reduce((sum, change) => sum + weight(change), 0);
  let budget = world.prng.int(0, total + 1);
  if (budget < total) world.stats.tornWrites++;
  for (const change of pending) {
    if (weight(change) <= budget) {
      applyChange(durable, change);
      budget -= weight(change);
      continue;
    }
    if (change.type === "write") {
      const cut = change.data.subarray(0, budget);
      // The file's new size may have reached the disk without the data: the rest reads as zeros.
      const end = change.position + change.data.length;
      if (end > durable.size && world.prng.chance(world.options.tornZerosProbability)) durable.truncate(end);
      durable.write(change.position, cut);
    }
    return;
  }
}

function applyChange(bytes: Bytes, change: FileChange): void {
  if (change.type === "write") bytes.write(change.position, change.data);
  else bytes.truncate(change.length);
}

/** A growable byte array (capacity doubles), so that appending a record does not copy the file. */
class Bytes {
  #buffer = new Uint8Array(256);
  #size = 0;

  get size(): number {
    return this.#size;
  }

  view(): Uint8Array {
    return this.#buffer.subarray(0, this.#size);
  }

  copy(): Uint8Array {
    return this.#buffer.slice(0, this.#size);
  }

  write(position: number, data: Uint8Array): void {
    // As pwrite(2): writing nothing does not extend the file.
    if (data.length === 0) return;
    const end = position + data.length;
    this.#reserve(end);
    // Writing past the end leaves a hole that reads as zeros; the buffer beyond size is kept zeroed.
    this.#buffer.set(data, position);
    this.#size = Math.max(this.#size, end);
  }

  truncate(length: number): void {
    if (length < this.#size) this.#buffer.fill(0, length, this.#size);
    else this.#reserve(length);
    this.#size = length;
  }

  flip(offset: number, bit: number): void {
    this.#buffer[offset]! ^= 1 << bit;
  }

  #reserve(bytes: number): void {
    if (bytes <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(bytes, 2 * this.#buffer.length));
    grown.set(this.#buffer.subarray(0, this.#size));
    this.#buffer = grown;
  }
}
