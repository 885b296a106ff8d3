import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { logIndex, term } from "../util/ids.js";
import { fsDisk, makeTempDir, removeTree } from "./fs_disk.js";
import type { StoredSnapshot } from "./snapshot_store.js";
import { SnapshotStore } from "./snapshot_store.js";

const root = await makeTempDir("raftkv-snap-");
after(() => removeTree(root));
let dirs = 0;
const scratch = (): string => join(root, `snap${dirs++}`);

function snapshot(index: number, t: number): StoredSnapshot {
  const encoder = new TextEncoder();
  return {
    index: logIndex(index),
    term: term(t),
    config: encoder.encode(`voters 1,2,3 @${index}`),
    data: encoder.encode(`state at ${index} `.repeat(50)),
  };
}

async function openStore(dir: string, snapshotsRetainedMax = 2): Promise<SnapshotStore> {
  const opened = await SnapshotStore.open(fsDisk, dir, { snapshotsRetainedMax });
  if (!opened.ok) assert.fail(opened.error.message);
  return opened.value;
}
async function snapFiles(dir: string): Promise<string[]> {
  return (await fsDisk.list(dir)).sort();
}
async function flipByte(path: string, at: number): Promise<void> {
  const bytes = new Uint8Array(await fsDisk.readFile(path));
  bytes[at]! ^= 0x01;
  const file = await fsDisk.open(path, { create: false });
  await file.write(bytes, 0);
  await file.close();
}
const plain = (s: StoredSnapshot | undefined): unknown =>
  s && { index: s.index, term: s.term, config: new Uint8Array(s.config), data: new Uint8Array(s.data) };

test("snapshots round-trip and only the newest few are kept", async () => {
  const dir = scratch();
  const store = await openStore(dir, 2);
  const empty = await store.load({ indexMin: 0 });
  assert.deepEqual(empty, { ok: true, value: { snapshot: undefined, skipped: [] } });
  for (const index of [100, 200, 300]) assert.equal((await store.save(snapshot(index, 2))).ok, true);
  assert.deepEqual(await snapFiles(dir), [
    "00000000000000c8-0000000000000002.snap",
    "000000000000012c-0000000000000002.snap",
  ]);
  const loaded = await (await openStore(dir)).load({ indexMin: 300 });
  assert.ok(loaded.ok);
  assert.deepEqual(plain(loaded.value.snapshot), plain(snapshot(300, 2)));
  assert.deepEqual(loaded.value.skipped, []);
});

test("a corrupt newest snapshot is skipped for an older one only if the log still covers the gap", async () => {
  const dir = scratch();
  const store = await openStore(dir, 3);
  for (const index of [100, 200]) assert.equal((await store.save(snapshot(index, 1))).ok, true);
  const newest = join(dir, "00000000000000c8-0000000000000001.snap");
  await flipByte(newest, 40);

  const fallback = await store.load({ indexMin: 100 });
  assert.ok(fallback.ok);
  assert.equal(fallback.value.snapshot?.index, 100);
  assert.equal(fallback.value.skipped.length, 1);
  assert.equal(fallback.value.skipped[0]!.message, `corrupt ${newest} at byte 0: checksum mismatch`);

  const refused = await store.load({ indexMin: 200 });
  assert.ok(!refused.ok);
  assert.equal(refused.error.type, "corrupt");
  assert.equal(refused.error.file, newest);
  assert.equal(
    refused.error.message,
    `corrupt ${newest} at byte 0: checksum mismatch, and no older snapshot reaches index 200, where the log starts`,
  );
});

test("a truncated or misnamed snapshot file is refused, and an absent one is reported", async () => {
  const dir = scratch();
  const store = await openStore(dir);
  assert.equal((await store.save(snapshot(50, 1))).ok, true);
  const path = join(dir, "0000000000000032-0000000000000001.snap");
  const bytes = await fsDisk.readFile(path);
  const file = await fsDisk.open(path, { create: false });
  await file.truncate(bytes.length - 10);
  await file.close();
  const truncated = await store.load({ indexMin: 50 });
  assert.ok(!truncated.ok && truncated.error.message.includes("checksum mismatch"));

  await fsDisk.unlink(path);
  const misnamedFile = await fsDisk.open(join(dir, "0000000000000033-0000000000000001.snap"), { create: true });
  await misnamedFile.write(bytes, 0);
  await misnamedFile.close();
  const misnamed = await store.load({ indexMin: 0 });
  assert.ok(misnamed.ok && misnamed.value.snapshot === undefined);
  assert.match(misnamed.value.skipped[0]!.message, /holds index 50 term 1, not what its name says/);

  const missing = await (await openStore(scratch())).load({ indexMin: 7 });
  assert.ok(
    !missing.ok && missing.error.message.endsWith(": no snapshot at or above index 7, where the log starts"),
    !missing.ok ? missing.error.message : "",
  );
});

test("temporary files left by a crash mid-save are removed on open and never loaded", async () => {
  const dir = scratch();
  const store = await openStore(dir);
  assert.equal((await store.save(snapshot(10, 1))).ok, true);
  const temp = await fsDisk.open(join(dir, "0000000000000014-0000000000000001.snap.tmp"), { create: true });
  await temp.write(new Uint8Array([1, 2, 3]), 0);
  await temp.close();
  const loaded = await (await openStore(dir)).load({ indexMin: 0 });
  assert.ok(loaded.ok && loaded.value.snapshot?.index === 10);
  assert.deepEqual(await snapFiles(dir), ["000000000000000a-0000000000000001.snap"]);
});

test("a snapshot larger than one checksum step round-trips, and a flipped byte near its end is caught", async () => {
  const dir = scratch();
  const store = await openStore(dir);
  const data = Uint8Array.from({ length: 9 * 1024 * 1024 + 5 }, (_, i) => (i * 31) & 0xff);
  const big: StoredSnapshot = { index: logIndex(7), term: term(2), config: new TextEncoder().encode("voters 1"), data };
  assert.ok((await store.save(big)).ok);
  const loaded = await store.load({ indexMin: 0 });
  assert.ok(loaded.ok);
  assert.deepEqual(plain(loaded.value.snapshot), plain(big));
  const [name] = await snapFiles(dir);
  await flipByte(join(dir, name!), 28 + 8 + data.length - 3);
  const again = await (await openStore(dir)).load({ indexMin: 0 });
  assert.ok(again.ok);
  assert.equal(again.value.snapshot, undefined);
  assert.match(again.value.skipped[0]!.message, /checksum mismatch/);
});
