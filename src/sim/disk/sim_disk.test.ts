import assert from "node:assert/strict";
import { test } from "node:test";
import type { DiskFile } from "../../storage/index.js";
import type { SimDiskOptions } from "./sim_disk.js";
import { SimDisk } from "./sim_disk.js";

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
/** No torn writes and no surviving directory changes unless a test asks for them. */
const strict = (seed: number, more: Partial<SimDiskOptions> = {}): SimDisk =>
  new SimDisk({ seed, tornWriteProbability: 0, dirChangesKeptProbability: 0, failedSyncDropsProbability: 1, ...more });

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof Error && "code" in error, `an errno error, not ${String(error)}`);
    assert.equal(error.code, code);
    assert.match(error.message, new RegExp(`^${code}: `));
    return true;
  });
}

/** A synced file /d/f holding `durable`, then `unsynced` appended without a datasync. */
async function fileWithTail(disk: SimDisk, durable: Uint8Array, unsynced: Uint8Array): Promise<DiskFile> {
  await disk.mkdir("/d");
  const file = await disk.open("/d/f", { create: true });
  await disk.syncDir("/");
  await disk.syncDir("/d");
  await file.write(durable, 0);
  await file.datasync();
  await file.write(unsynced, durable.length);
  return file;
}

test("sim disk: synced data survives a crash, unsynced data is lost, and reads saw both before", async () => {
  const disk = strict(1);
  await fileWithTail(disk, text("kept"), text("lost"));
  assert.deepEqual(await disk.readFile("/d/f"), text("keptlost"));
  const after = disk.crash();
  assert.deepEqual(await after.readFile("/d/f"), text("kept"));
  assert.equal(after.stats.lostWrites, 1);
});

test("sim disk: a torn write keeps a prefix of the unsynced bytes, cut anywhere", async () => {
  const tail = text("0123456789abcdef");
  const lengths = new Set<number>();
  for (let seed = 0; seed < 200; seed++) {
    const disk = new SimDisk({ seed, tornWriteProbability: 1, tornZerosProbability: 0 });
    await fileWithTail(disk, text("head"), tail);
    const after = await disk.crash().readFile("/d/f");
    assert.deepEqual(after.subarray(0, 4), text("head"));
    assert.deepEqual(after.subarray(4), tail.subarray(0, after.length - 4), `seed ${seed}`);
    lengths.add(after.length - 4);
  }
  assert.ok(lengths.has(0) && lengths.size > 10, `cut lengths seen: ${[...lengths].sort((a, b) => a - b).join(",")}`);
});

test("sim disk: a torn write may extend the file with zeros instead of data", async () => {
  const disk = new SimDisk({ seed: 3, tornWriteProbability: 1, tornZerosProbability: 1 });
  await fileWithTail(disk, text("head"), text("0123456789"));
  const after = await disk.crash().readFile("/d/f");
  assert.equal(after.length, 14);
  const kept = after.subarray(4).findIndex((b) => b === 0);
  assert.deepEqual(after.subarray(4, 4 + Math.max(kept, 0)), text("0123456789").subarray(0, Math.max(kept, 0)));
  assert.ok(after.subarray(4 + Math.max(kept, 0)).every((b) => b === 0));
});

test("sim disk: a created file vanishes in a crash unless its directory was synced", async () => {
  const disk = strict(2);
  await disk.mkdir("/d");
  await disk.syncDir("/");
  for (const name of ["a", "b"]) {
    const file = await disk.open(`/d/${name}`, { create: true });
    await file.write(text(name), 0);
    await file.datasync();
    if (name === "a") await disk.syncDir("/d");
  }
  const after = disk.crash();
  assert.deepEqual(await after.list("/d"), ["a"]);
  assert.deepEqual(await after.readFile("/d/a"), text("a"));
  await rejectsWith(after.readFile("/d/b"), "ENOENT");
});

test("sim disk: a new directory vanishes in a crash unless its parent was synced", async () => {
  const disk = strict(2);
  await disk.mkdir("/x/y");
  await disk.syncDir("/x");
  const after = disk.crash();
  await rejectsWith(after.list("/x"), "ENOENT");
  assert.deepEqual(await after.list("/"), []);
});

test("sim disk: a rename is undone by a crash until syncDir, and is atomic", async () => {
  const disk = strict(4);
  await disk.mkdir("/d");
  await disk.syncDir("/");
  for (const [name, content] of [
    ["old", "1"],
    ["tmp", "2"],
  ] as const) {
    const file = await disk.open(`/d/${name}`, { create: true });
    await file.write(text(content), 0);
    await file.datasync();
    await file.close();
  }
  await disk.syncDir("/d");
  await disk.rename("/d/tmp", "/d/old");
  assert.deepEqual(await disk.list("/d"), ["old"]);
  assert.deepEqual(await disk.readFile("/d/old"), text("2"));
  const undone = disk.crash();
  assert.deepEqual((await undone.list("/d")).sort(), ["old", "tmp"]);
  assert.deepEqual(await undone.readFile("/d/old"), text("1"));

  await undone.rename("/d/tmp", "/d/old");
  await undone.syncDir("/d");
  const done = undone.crash();
  assert.deepEqual(await done.list("/d"), ["old"]);
  assert.deepEqual(await done.readFile("/d/old"), text("2"));

  // With surviving directory changes, a crash keeps a prefix of them: the rename whole or not at all.
  for (let seed = 0; seed < 40; seed++) {
    const d = new SimDisk({ seed, dirChangesKeptProbability: 1 });
    await d.mkdir("/d");
    await d.syncDir("/");
    await (await d.open("/d/a", { create: true })).close();
    await d.rename("/d/a", "/d/b");
    const names = (await d.crash().list("/d")).sort().join(",");
    assert.ok(["", "a", "b"].includes(names), `seed ${seed}: ${names}`);
  }
});

test("sim disk: after a crash, old handles and the old disk reject with EBADF and change nothing", async () => {
  const disk = strict(5);
  const file = await fileWithTail(disk, text("x"), text(""));
  const after = disk.crash();
  await rejectsWith(file.write(text("late"), 1), "EBADF");
  await rejectsWith(file.datasync(), "EBADF");
  await rejectsWith(disk.unlink("/d/f"), "EBADF");
  await rejectsWith(disk.open("/d/g", { create: true }), "EBADF");
  assert.deepEqual(await after.readFile("/d/f"), text("x"));
  assert.deepEqual(await after.list("/d"), ["f"]);
  assert.equal(disk.crash(), after, "crashing a dead life returns the disk it left");
});

test("sim disk: errors carry errno codes like node:fs", async () => {
  const disk = strict(6);
  await rejectsWith(disk.readFile("/nope"), "ENOENT");
  await rejectsWith(disk.open("/nope", { create: false }), "ENOENT");
  await rejectsWith(disk.open("/no/dir/file", { create: true }), "ENOENT");
  await rejectsWith(disk.list("/nope"), "ENOENT");
  await rejectsWith(disk.unlink("/nope"), "ENOENT");
  await rejectsWith(disk.rename("/nope", "/other"), "ENOENT");
  await disk.mkdir("/d");
  await (await disk.open("/d/f", { create: true })).close();
  await rejectsWith(disk.open("/d/f", { create: true }), "EEXIST");
  await rejectsWith(disk.open("/d", { create: false }), "EISDIR");
  await rejectsWith(disk.readFile("/d"), "EISDIR");
  await rejectsWith(disk.list("/d/f"), "ENOTDIR");
  await rejectsWith(disk.mkdir("/d/f"), "EEXIST");
  const file = await disk.open("/d/f", { create: false });
  await file.close();
  await rejectsWith(file.write(text("closed"), 0), "EBADF");
  await disk.mkdir("/d");
});

test("sim disk: writes past the end leave zeros; truncate shrinks and grows", async () => {
  const disk = strict(7);
  const file = await disk.open("/f", { create: true });
  await file.write(bytes(1, 2), 3);
  assert.deepEqual(await disk.readFile("/f"), bytes(0, 0, 0, 1, 2));
  await file.truncate(2);
  await file.truncate(4);
  assert.deepEqual(await disk.readFile("/f"), bytes(0, 0, 0, 0));
  await file.datasync();
  await disk.syncDir("/");
  assert.deepEqual(await disk.crash().readFile("/f"), bytes(0, 0, 0, 0));
});

test("sim disk: flipBit changes one bit of durable data, and flipping it again restores it", async () => {
  const disk = strict(8);
  await fileWithTail(disk, text("abcdefgh"), text(""));
  const before = await disk.readFile("/d/f");
  const flip = disk.flipBit("/d/f");
  const flipped = await disk.readFile("/d/f");
  const diff = [...flipped].map((b, k) => b ^ before[k]!);
  assert.deepEqual(
    diff.filter((d) => d !== 0),
    [1 << flip.bit],
  );
  assert.equal(
    diff.findIndex((d) => d !== 0),
    flip.offset,
  );
  assert.deepEqual(disk.fileBytes("/d/f", "durable"), flipped);
  disk.flipBit("/d/f", flip.offset, flip.bit);
  assert.deepEqual(await disk.readFile("/d/f"), before);
  assert.deepEqual(disk.flipBit("/d/f", 2, 0), { offset: 2, bit: 0 });
  assert.deepEqual(await disk.crash().readFile("/d/f"), text("abbdefgh"));
});

test("sim disk: failNext rejects the next matching call once, with the code asked for", async () => {
  const disk = strict(9);
  await disk.mkdir("/d");
  const file = await disk.open("/d/f", { create: true });
  disk.failNext("write", "ENOSPC");
  await rejectsWith(file.write(text("full"), 0), "ENOSPC");
  const left = await disk.readFile("/d/f");
  assert.ok(left.length < 4, "a failed write writes at most a prefix");
  assert.deepEqual(left, text("full").subarray(0, left.length));
  await file.truncate(0);
  await file.write(text("ok"), 0);
  disk.failNext("datasync", "EIO", { path: "/other" });
  disk.failNext("datasync", "EIO", { path: "/d" });
  await rejectsWith(file.datasync(), "EIO");
  assert.deepEqual(await disk.readFile("/d/f"), text("ok"), "reads still see what a failed sync dropped");
  await file.datasync();
  disk.failNext("rename", "EACCES");
  await rejectsWith(disk.rename("/d/f", "/d/g"), "EACCES");
  assert.deepEqual(await disk.list("/d"), ["f"]);
  assert.equal(disk.stats.injectedFailures, 3);
});

test("sim disk: a failed datasync may drop the pending writes for good, even after a later sync succeeds", async () => {
  const disk = strict(10, { failedSyncDropsProbability: 1 });
  const file = await fileWithTail(disk, text("A"), text("B"));
  disk.failNext("datasync", "EIO");
  await rejectsWith(file.datasync(), "EIO");
  await file.write(text("C"), 2);
  await file.datasync();
  assert.deepEqual(await disk.readFile("/d/f"), text("ABC"));
  assert.deepEqual(await disk.crash().readFile("/d/f"), text("A\0C"));
});

test("sim disk: a failed rate-limited op fails about as often as asked, deterministically", async () => {
  const run = async (seed: number): Promise<number> => {
    const disk = strict(seed);
    disk.failRate("list", "EIO", 0.3);
    let failures = 0;
    for (let k = 0; k < 200; k++) await disk.list("/").catch(() => failures++);
    return failures;
  };
  const failures = await run(11);
  assert.ok(failures > 30 && failures < 90, `${failures} of 200`);
  assert.equal(await run(11), failures);
});

test("sim disk: a restart keeps unsynced data readable; a crash does not", async () => {
  const disk = strict(12);
  const file = await fileWithTail(disk, text("a"), text("b"));
  const restarted = disk.restart();
  await rejectsWith(file.write(text("c"), 2), "EBADF");
  assert.deepEqual(await restarted.readFile("/d/f"), text("ab"));
  assert.deepEqual(await restarted.crash().readFile("/d/f"), text("a"));
});

test("sim disk: crashAfterOps lets n calls happen, then the next one is the crash", async () => {
  const disk = strict(13);
  await disk.mkdir("/d");
  await disk.syncDir("/");
  const file = await disk.open("/d/f", { create: true });
  await disk.syncDir("/d");
  disk.crashAfterOps(2);
  await file.write(text("one"), 0);
  await file.datasync();
  await rejectsWith(file.write(text("two"), 3), "EBADF");
  assert.equal(disk.alive, false);
  const after = disk.crash();
  assert.deepEqual(await after.readFile("/d/f"), text("one"));
  assert.equal(after.stats.crashes, 1);

  // The call the crash interrupts may have taken effect: a datasync that failed may still be durable.
  const outcomes = new Set<string>();
  for (let seed = 0; seed < 20; seed++) {
    const d = strict(seed);
    const f = await fileWithTail(d, text("a"), text("b"));
    d.crashAfterOps(0);
    await rejectsWith(f.datasync(), "EBADF");
    outcomes.add(new TextDecoder().decode(await d.crash().readFile("/d/f")));
  }
  assert.deepEqual([...outcomes].sort(), ["a", "ab"]);
});

test("sim disk: the same seed gives the same crash", async () => {
  const outcome = async (seed: number): Promise<string> => {
    const disk = new SimDisk({ seed });
    await disk.mkdir("/d");
    await disk.syncDir("/");
    for (let k = 0; k < 20; k++) {
      const file = await disk.open(`/d/${k}`, { create: true });
      await file.write(text("0123456789"), 0);
    }
    const after = disk.crash();
    const names = (await after.list("/d")).sort();
    return (
      await Promise.all(names.map(async (name) => `${name}:${(await after.readFile(`/d/${name}`)).length}`))
    ).join(" ");
  };
  assert.equal(await outcome(14), await outcome(14));
  const distinct = new Set(await Promise.all([15, 16, 17, 18, 19, 20].map(outcome)));
  assert.ok(distinct.size >= 3, [...distinct].join(" | "));
});

test("sim disk: restartAfterOps kills the process mid-call, and the page cache stays", async () => {
  const disk = strict(16);
  const file = await fileWithTail(disk, text("a"), text("b"));
  disk.restartAfterOps(1);
  await file.write(text("c"), 2);
  await rejectsWith(file.write(text("d"), 3), "EBADF");
  const after = disk.crash();
  assert.equal(after.stats.restarts, 1);
  assert.equal(after.stats.crashes, 0);
  const seen = new TextDecoder().decode(await after.readFile("/d/f"));
  assert.ok(seen === "abc" || seen === "abcd", seen);
});
