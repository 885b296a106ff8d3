import type { Prng } from "../../util/prng.js";
import { Bytes } from "./bytes.js";

/*
 * What a POSIX file system keeps through a power loss, as SimDisk models it:
 * - A file (inode) has durable bytes and the writes and truncations made since its last datasync.
 *   Reads see everything; a datasync makes the file's pending changes durable. A durable write
 *   (O_DSYNC) is a write whose own bytes become durable when it completes, and only those (Linux
 *   syncs the range written): the file's earlier pending changes stay pending.
 * - A directory has durable entries and the changes to its entries (create, mkdir, rename, unlink)
 *   made since its last syncDir, which makes the entries durable as they are now. A rename within
 *   one directory is one atomic change; across two it is two independent ones.
 * - At a power loss, for each file, the pending changes are lost, or, with `tornWriteProbability`,
 *   a prefix of them survives, cut at any byte (a torn write), the rest of a cut write perhaps
 *   reading back as zeros (`tornZerosProbability`: the size reached the disk, the data did not).
 *   Completed durable writes survive whatever happens to the pending changes around them.
 *   For each directory, the pending changes are rolled back, or, with `dirChangesKeptProbability`,
 *   a prefix of them survives (a journal commits in order). A file or directory no durable name
 *   reaches is gone.
 * - A process crash changes nothing here: the OS's page cache, and so every unsynced change, stays.
 */

/** A write marked `synced` is already in the durable bytes; it stays pending only behind an unsynced change. */
export type FileChange =
  | { readonly type: "write"; readonly position: number; readonly data: Uint8Array; synced: boolean }
  | { readonly type: "truncate"; readonly length: number };

export interface Inode {
  readonly live: Bytes;
  readonly durable: Bytes;
  pending: FileChange[];
}

/** A change to one name of a directory: `entry` undefined removes the name. */
interface EntryChange {
  readonly name: string;
  readonly entry: Entry | undefined;
}

export interface Dir {
  live: Map<string, Entry>;
  durable: Map<string, Entry>;
  /** Groups of changes, each applied atomically, in the order they were made. */
  pending: EntryChange[][];
}

type Entry = { readonly type: "file"; readonly inode: Inode } | { readonly type: "dir"; readonly dir: Dir };

/** The odds a power loss plays with. */
interface CrashOdds {
  readonly tornWriteProbability: number;
  readonly tornZerosProbability: number;
  readonly dirChangesKeptProbability: number;
}

/** What a power loss did, counted for a test to show which cases a run exercised. */
interface CrashCounts {
  tornWrites: number;
  lostWrites: number;
  dirChangesKept: number;
  dirChangesLost: number;
}

/** What recovery draws from and reports to: the disk's one PRNG, so that a seed replays a crash. */
interface Recovery {
  readonly prng: Prng;
  readonly options: CrashOdds;
  readonly stats: CrashCounts;
}

export function newDir(): Dir {
  return { live: new Map(), durable: new Map(), pending: [] };
}

export function newInode(): Inode {
  return { live: new Bytes(), durable: new Bytes(), pending: [] };
}

export function changeEntries(dir: Dir, group: EntryChange[]): void {
  for (const { name, entry } of group) {
    if (entry === undefined) dir.live.delete(name);
    else dir.live.set(name, entry);
  }
  dir.pending.push(group);
}

export function syncEntries(dir: Dir): void {
  dir.durable = new Map(dir.live);
  dir.pending = [];
}

/** Returns the change, for a durable write to sync once it completes (`syncWrite`). */
export function writeFile(inode: Inode, position: number, data: Uint8Array): FileChange {
  inode.live.write(position, data);
  const change: FileChange = { type: "write", position, data, synced: false };
  inode.pending.push(change);
  return change;
}

export function truncateFile(inode: Inode, length: number): void {
  inode.live.truncate(length);
  inode.pending.push({ type: "truncate", length });
}

export function syncFile(inode: Inode): void {
  for (const change of inode.pending) {
    applyChange(inode.durable, change);
    if (change.type === "write") change.synced = true;
  }
  inode.pending = [];
}

/**
 * The end of a durable write: its bytes become durable now. Behind an earlier unsynced change it
 * stays pending, marked, so that a crash keeping that change re-applies it after (see `keepPrefix`).
 * False if a failed sync dropped it meanwhile: its writeback failed, and it never reaches the disk.
 */
export function syncWrite(inode: Inode, change: FileChange): boolean {
  if (change.type !== "write" || change.synced) return true;
  if (!inode.pending.includes(change)) return false;
  applyChange(inode.durable, change);
  change.synced = true;
  if (inode.pending.every((c) => c.type === "write" && c.synced)) inode.pending = [];
  return true;
}

/**
 * A failed writeback that Linux (since 4.13) marks clean: reads still return the changes, but no
 * later datasync writes them, and a power loss loses them. Synced writes are in the durable bytes already.
 */
export function dropUnsynced(inode: Inode): void {
  inode.pending = [];
}

/** Media corruption: flips a durable bit, which reads see too unless an unsynced change covers it. */
export function flipDurableBit(inode: Inode, offset: number, bit: number): void {
  inode.durable.flip(offset, bit);
  const covered = inode.pending.some(
    (c) => c.type === "truncate" || (!c.synced && c.position <= offset && offset < c.position + c.data.length),
  );
  if (!covered && offset < inode.live.size) inode.live.flip(offset, bit);
}

/**
 * The directory as a power loss leaves it: durable entries plus perhaps a prefix of the pending
 * changes; then, recursively, the same for what those entries reach. `seen` keeps an inode reached
 * by two names (a rename across directories that half survived) from being recovered twice.
 */
export function recoverDir(world: Recovery, dir: Dir, seen: Set<Inode>): Dir {
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

/** Loses a file's pending changes, or keeps a prefix of them cut at a random byte (synced writes are durable already). */
function recoverFile(world: Recovery, inode: Inode): void {
  const pending = inode.pending;
  inode.pending = [];
  if (pending.length > 0) {
    if (world.prng.chance(world.options.tornWriteProbability)) keepPrefix(world, inode.durable, pending);
    else world.stats.lostWrites++;
  }
  inode.live.truncate(0);
  inode.live.write(0, inode.durable.view());
}

function keepPrefix(world: Recovery, durable: Bytes, pending: readonly FileChange[]): void {
  // A truncation weighs one unit, a write its length: the cut lands anywhere in that sequence.
  const weight = (change: FileChange): number => (change.type === "write" ? change.data.length : 1);
  const total = pending.reduce((sum, change) => sum + weight(change), 0);
  let budget = world.prng.int(0, total + 1);
  if (budget < total) world.stats.tornWrites++;
  let cutAt = pending.length;
  for (const [k, change] of pending.entries()) {
    if (weight(change) > budget) {
      cutAt = k;
      break;
    }
    applyChange(durable, change);
    budget -= weight(change);
  }
  const torn = pending[cutAt];
  if (torn?.type === "write" && !torn.synced) {
    // The file's new size may have reached the disk without the data: the rest reads as zeros.
    const end = torn.position + torn.data.length;
    if (end > durable.size && world.prng.chance(world.options.tornZerosProbability)) durable.truncate(end);
    durable.write(torn.position, torn.data.subarray(0, budget));
  }
  // The prefix kept may have overwritten durable writes made after it: they win, in their order.
  for (const later of pending.slice(cutAt)) if (later.type === "write" && later.synced) applyChange(durable, later);
}

function applyChange(bytes: Bytes, change: FileChange): void {
  if (change.type === "write") bytes.write(change.position, change.data);
  else bytes.truncate(change.length);
}
