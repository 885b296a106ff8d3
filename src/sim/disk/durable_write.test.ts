import assert from "node:assert/strict";
import { test } from "node:test";
import { logIndex, term } from "../../util/ids.js";
import { Prng } from "../../util/prng.js";
import type { DiskFile } from "../../storage/index.js";
import type { StoredEntry } from "../../storage/types.js";
import type { WalRecovered } from "../../storage/wal.js";
import { Wal } from "../../storage/wal.js";
import type { SimDiskOptions } from "./sim_disk.js";
import { SimDisk } from "./sim_disk.js";

/*
 * Writes through a handle opened with `durableWrites` (O_DSYNC): durable once they resolve, torn
 * by a crash inside them as any unsynced write is, and failing as a write + fdatasync does.
 */

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const strict = (seed: number, more: Partial<SimDiskOptions> = {}): SimDisk =>
  new SimDisk({ seed, tornWriteProbability: 0, dirChangesKeptProbability: 0, failedSyncDropsProbability: 1, ...more });

/** An empty /d/f whose name is durable, open with durable writes. */
async function durableFile(disk: SimDisk): Promise<DiskFile> {
  await disk.mkdir("/d");
  await disk.syncDir("/");
  const file = await disk.open("/d/f", { create: true, durableWrites: true });
  await disk.syncDir("/d");
  return file;
}

test("sim disk: a durable write survives a crash once it resolved, with no datasync; a plain write does not", async () => {
  const disk = strict(1);
  const durable = await durableFile(disk);
  await durable.write(text("kept"), 0);
  const plain = await disk.open("/d/f", { create: false });
  await plain.write(text("lost"), 4);
  assert.deepEqual(await disk.readFile("/d/f"), text("keptlost"));
  assert.deepEqual(disk.fileBytes("/d/f", "durable"), text("kept"));
  assert.equal(disk.stats.syncs, 3, "two directory syncs and the durable write's own");
  assert.deepEqual(await disk.crash().readFile("/d/f"), text("kept"));
});

test("sim disk: a crash inside a durable write may tear it anywhere; never beyond what it wrote", async () => {
  const tail = text("0123456789abcdef");
  const kept = new Set<number>();
  for (let seed = 0; seed < 200; seed++) {
    const disk = new SimDisk({ seed, tornWriteProbability: 1, tornZerosProbability: 0 });
    const file = await durableFile(disk);
    await file.write(text("head"), 0);
    // Inside the write half or the sync half, having taken effect or not.
    disk.crashAfterOps(new Prng(seed).int(0, 2));
    await assert.rejects(file.write(tail, 4), { code: "EBADF" });
    const after = await disk.crash().readFile("/d/f");
    assert.deepEqual(after.subarray(0, 4), text("head"), `seed ${seed}`);
    assert.deepEqual(after.subarray(4), tail.subarray(0, after.length - 4), `seed ${seed}`);
    kept.add(after.length - 4);
  }
  assert.ok(kept.has(0) && kept.has(tail.length) && kept.size > 5, [...kept].join(","));
});

test("sim disk: a durable write behind an unsynced one survives a crash that keeps any part of the earlier one", async () => {
  const outcomes = new Set<string>();
  for (let seed = 0; seed < 100; seed++) {
    const disk = new SimDisk({ seed, tornWriteProbability: 1, tornZerosProbability: 0 });
    const durable = await durableFile(disk);
    const plain = await disk.open("/d/f", { create: false });
    await plain.write(text("AAAA"), 0);
    await durable.write(text("BB"), 2);
    const after = await disk.crash().readFile("/d/f");
    assert.equal(after.length, 4, `seed ${seed}`);
    assert.deepEqual(after.subarray(2), text("BB"), `seed ${seed}: ${decode(after)}`);
    outcomes.add(decode(after.subarray(0, 2)));
  }
  assert.deepEqual([...outcomes].sort(), ["\0\0", "A\0", "AA"]);
});

test("sim disk: a durable write fails as a write + fdatasync does: a prefix, or bytes a failed sync dropped", async () => {
  const disk = strict(2);
  const file = await durableFile(disk);
  await file.write(text("a"), 0);
  disk.failNext("write", "ENOSPC");
  await assert.rejects(file.write(text("full"), 1), { code: "ENOSPC", syscall: "write" });
  const left = await disk.readFile("/d/f");
  assert.deepEqual(left, text("afull").subarray(0, left.length), "at most a prefix was written");
  assert.deepEqual(disk.fileBytes("/d/f", "durable"), text("a"));
  await file.truncate(1);
  await file.datasync();
  // The sync half fails: the kernel may mark the pages clean (fsyncgate), so reads see what a crash loses.
  disk.failNext("datasync", "EIO", { path: "/d" });
  await assert.rejects(file.write(text("b"), 1), { code: "EIO", syscall: "write" });
  const restarted = disk.restart();
  assert.deepEqual(await restarted.readFile("/d/f"), text("ab"));
  assert.deepEqual(await restarted.crash().readFile("/d/f"), text("a"));
  assert.equal(disk.stats.injectedFailures, 2);
  assert.equal(disk.stats.droppedSyncs, 1);
});

const entry = (index: number): StoredEntry => ({
  index: logIndex(index),
  term: term(1),
  kind: "normal",
  data: text(`entry ${index} `.repeat(1 + (index % 7))),
});

test("WAL on a sim disk: a crash inside a durable write leaves a torn tail that reopening cuts, and keeps every acknowledged save", async () => {
  let tornTails = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const prng = new Prng(seed);
    let disk = new SimDisk({ seed, tornWriteProbability: 1, tornZerosProbability: prng.pick([0, 0.5, 1]) });
    const { wal } = await openWal(disk);
    const acked = prng.int(1, 6);
    for (let index = 1; index <= acked; index++) assert.ok((await wal.save({ entries: [entry(index)] })).ok);
    disk.crashAfterOps(prng.int(0, 2));
    assert.equal((await wal.save({ entries: [entry(acked + 1), entry(acked + 2)] })).ok, false);
    disk = disk.crash();
    const reopened = await openWal(disk);
    const got = reopened.recovered.entries.map((e) => e.index);
    const all = Array.from({ length: acked + 2 }, (_, k) => k + 1);
    assert.ok(
      got.join() === all.slice(0, acked).join() || got.join() === all.join(),
      `seed ${seed}: ${acked} acknowledged, recovered ${got.join()}`,
    );
    if (reopened.recovered.tornTail !== undefined) tornTails++;
    // The cut is durable: a save after it and another crash bring back exactly the log so far.
    const next = got.length + 1;
    assert.ok((await reopened.wal.save({ entries: [entry(next)] })).ok);
    const again = await openWal(disk.crash());
    assert.deepEqual(
      again.recovered.entries.map((e) => e.index),
      [...got, next],
      `seed ${seed}`,
    );
    assert.equal(again.recovered.tornTail, undefined, `seed ${seed}`);
  }
  assert.ok(tornTails > 20, `torn tails cut: ${tornTails} of 100`);
});

async function openWal(disk: SimDisk): Promise<{ wal: Wal; recovered: WalRecovered }> {
  const opened = await Wal.open(disk, "/wal");
  if (!opened.ok) assert.fail(opened.error.message);
  return opened.value;
}
