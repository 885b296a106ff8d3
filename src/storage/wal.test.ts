import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { AssertionError } from "../util/assert.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import type { Disk } from "./disk.js";
import { fsDisk, makeTempDir, removeTree } from "./fs_disk.js";
import type { StoredEntry, StoredHardState } from "./types.js";
import type { WalOptions, WalRecovered } from "./wal.js";
import { Wal } from "./wal.js";
import { appendItems, recordBuffer, sealRecord } from "./wal_record.js";

const root = await makeTempDir("raftkv-wal-");
after(() => removeTree(root));
let dirs = 0;
const scratch = (): string => join(root, `wal${dirs++}`);

function entry(index: number, t: number, kind: "normal" | "config" = "normal"): StoredEntry {
  return { index: logIndex(index), term: term(t), kind, data: new TextEncoder().encode(`e${index}t${t}`) };
}
function entries(first: number, last: number, t: number): StoredEntry[] {
  return Array.from({ length: last - first + 1 }, (_, k) => entry(first + k, t));
}
function hardState(t: number, vote: number, commit: number): StoredHardState {
  return { term: term(t), vote: nodeId(vote), commit: logIndex(commit) };
}

async function open(
  dir: string,
  options: WalOptions = {},
  disk: Disk = fsDisk,
): Promise<{ wal: Wal; recovered: WalRecovered }> {
  const opened = await Wal.open(disk, dir, options);
  if (!opened.ok) assert.fail(opened.error.message);
  return opened.value;
}
async function save(wal: Wal, batch: Parameters<Wal["save"]>[0]): Promise<void> {
  const saved = await wal.save(batch);
  if (!saved.ok) assert.fail(saved.error.message);
}
async function reopen(dir: string, options: WalOptions = {}): Promise<WalRecovered> {
  const { wal, recovered } = await open(dir, options);
  assert.equal((await wal.close()).ok, true);
  return recovered;
}
async function openError(dir: string): Promise<{ type: string; message: string; file: string }> {
  const opened = await Wal.open(fsDisk, dir);
  if (opened.ok) assert.fail("open should have refused");
  return opened.error;
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await fsDisk.list(dir)).filter((name) => name.endsWith(".wal")).sort();
}
async function onlySegment(dir: string): Promise<string> {
  const files = await segmentFiles(dir);
  assert.equal(files.length, 1);
  return join(dir, files[0]!);
}
async function writeFile(path: string, bytes: Uint8Array): Promise<void> {
  const file = await fsDisk.open(path, { create: true });
  await file.write(bytes, 0);
  await file.close();
}
const summary = (list: readonly StoredEntry[]): string[] =>
  list.map((e) => `${e.index}:${e.term}:${e.kind}:${new TextDecoder().decode(e.data)}`);

test("a new WAL round-trips entries and the hard state", async () => {
  const dir = scratch();
  const { wal, recovered } = await open(dir);
  assert.deepEqual(recovered, { hardState: undefined, entries: [], snapshot: undefined, tornTail: undefined });
  await save(wal, { entries: [entry(1, 1), entry(2, 1, "config")], hardState: hardState(1, 2, 0) });
  await save(wal, { entries: entries(3, 5, 2) });
  await save(wal, { hardState: hardState(2, 3, 4) });
  await save(wal, {});
  await wal.close();
  const again = await reopen(dir);
  assert.deepEqual(summary(again.entries), summary([entry(1, 1), entry(2, 1, "config"), ...entries(3, 5, 2)]));
  assert.deepEqual(again.hardState, hardState(2, 3, 4));
  assert.equal(again.snapshot, undefined);
});

/** Writes `batches` one save each; returns the segment's bytes and where each record ended. */
async function writeRecords(
  dir: string,
  batches: readonly StoredEntry[][],
): Promise<{ bytes: Uint8Array; ends: number[] }> {
  const { wal } = await open(dir);
  const path = await onlySegment(dir);
  const ends: number[] = [];
  for (const [k, batch] of batches.entries()) {
    await save(wal, { entries: batch, hardState: hardState(1, 1, k) });
    ends.push((await fsDisk.readFile(path)).length);
  }
  await wal.close();
  return { bytes: await fsDisk.readFile(path), ends };
}

const fourBatches = [entries(1, 3, 1), entries(4, 4, 1), entries(5, 9, 1), entries(10, 12, 2)];

test("a cut at every byte of the last record recovers exactly the earlier records", async () => {
  const { bytes, ends } = await writeRecords(scratch(), fourBatches);
  const lastStart = ends[2]!;
  for (let cut = lastStart; cut < bytes.length; cut++) {
    const dir = scratch();
    await fsDisk.mkdir(dir);
    const path = join(dir, "0000000000000000-0000000000000001.wal");
    await writeFile(path, bytes.subarray(0, cut));
    const { wal, recovered } = await open(dir);
    assert.deepEqual(summary(recovered.entries), summary(entries(1, 9, 1)), `cut at ${cut}`);
    assert.deepEqual(recovered.hardState, hardState(1, 1, 2));
    assert.equal(recovered.tornTail?.offset, cut === lastStart ? undefined : lastStart);
    assert.equal((await fsDisk.readFile(path)).length, lastStart, "the torn tail is cut off on disk");
    await save(wal, { entries: entries(10, 11, 3) });
    await wal.close();
    assert.deepEqual(summary((await reopen(dir)).entries), summary([...entries(1, 9, 1), ...entries(10, 11, 3)]));
    await removeTree(dir);
  }
});

test("zeros after the last record (a file extended but not written) are cut away", async () => {
  const dir = scratch();
  const { bytes } = await writeRecords(dir, fourBatches);
  const path = await onlySegment(dir);
  const file = await fsDisk.open(path, { create: false });
  await file.write(new Uint8Array(4096), bytes.length);
  await file.close();
  const recovered = await reopen(dir);
  assert.equal(recovered.entries.length, 12);
  assert.deepEqual(
    recovered.tornTail && { offset: recovered.tornTail.offset, bytesDropped: recovered.tornTail.bytesDropped },
    {
      offset: bytes.length,
      bytesDropped: 4096,
    },
  );
});

test("a flipped byte anywhere in an earlier record makes open refuse, naming the file and offset", async () => {
  const dir = scratch();
  const { bytes, ends } = await writeRecords(dir, fourBatches);
  const path = await onlySegment(dir);
  // Record 1 (the second) spans ends[0] … ends[1]; every byte of it, header included, is checked.
  for (let at = ends[0]!; at < ends[1]!; at++) {
    const flipped = new Uint8Array(bytes);
    flipped[at]! ^= 0x10;
    const file = await fsDisk.open(path, { create: false });
    await file.write(flipped, 0);
    await file.close();
    const error = await openError(dir);
    assert.equal(error.type, "corrupt", `flip at ${at}`);
    assert.equal(error.file, path);
    assert.match(error.message, new RegExp(`^corrupt ${path} at byte ${ends[0]}: [^\\n]+$`), `flip at ${at}`);
    assert.deepEqual(new Uint8Array(await fsDisk.readFile(path)), flipped, "a refused open changes nothing on disk");
  }
});

test("a bad record at the end of a segment that is not the last one is corruption, not a torn tail", async () => {
  const dir = scratch();
  const { wal } = await open(dir, { walSegmentBytesMax: 1 });
  for (let i = 1; i <= 3; i++) await save(wal, { entries: [entry(i, 1)] });
  await wal.close();
  const first = join(dir, (await segmentFiles(dir))[0]!);
  const bytes = await fsDisk.readFile(first);
  const file = await fsDisk.open(first, { create: false });
  await file.truncate(bytes.length - 1);
  await file.close();
  const error = await openError(dir);
  assert.equal(error.file, first);
  assert.match(error.message, / at byte 0: /);
});

test("entries starting at an index overwrite the log from there (1..10, then 6..8 in a new term)", async () => {
  const dir = scratch();
  const { wal } = await open(dir);
  await save(wal, { entries: entries(1, 10, 1), hardState: hardState(1, 1, 5) });
  await save(wal, { entries: entries(6, 8, 2), hardState: hardState(2, 2, 5) });
  await wal.close();
  const recovered = await reopen(dir);
  assert.deepEqual(summary(recovered.entries), summary([...entries(1, 5, 1), ...entries(6, 8, 2)]));
});

test("save asserts index and term continuity and never overwrites committed entries", async () => {
  const dir = scratch();
  const { wal } = await open(dir);
  await save(wal, { entries: entries(1, 5, 2), hardState: hardState(2, 1, 3) });
  assert.throws(() => wal.save({ entries: [entry(7, 2)] }), AssertionError, "gap");
  assert.throws(() => wal.save({ entries: [entry(6, 2), entry(8, 2)] }), AssertionError, "not consecutive");
  assert.throws(() => wal.save({ entries: [entry(6, 1)] }), AssertionError, "term goes back");
  assert.throws(() => wal.save({ entries: [entry(3, 3)] }), AssertionError, "overwrites committed");
  assert.throws(() => wal.save({ hardState: hardState(1, 1, 3) }), AssertionError, "term goes back");
  assert.throws(() => wal.save({ hardState: hardState(2, 2, 3) }), AssertionError, "second vote");
  await save(wal, { entries: entries(4, 4, 3) });
  await wal.close();
  assert.deepEqual(summary((await reopen(dir)).entries), summary([...entries(1, 3, 2), entry(4, 3)]));
});

test("open refuses a gap between entry records, naming the file and the record", async () => {
  const dir = scratch();
  await fsDisk.mkdir(dir);
  const path = join(dir, "0000000000000000-0000000000000001.wal");
  const record = (list: StoredEntry[]): Uint8Array => {
    const buffer = recordBuffer(0);
    appendItems(buffer, [{ type: "entries", entries: list }]);
    return sealRecord(buffer);
  };
  const first = record(entries(1, 3, 1));
  const second = record(entries(5, 6, 1));
  const bytes = new Uint8Array(first.length + second.length);
  bytes.set(first);
  bytes.set(second, first.length);
  await writeFile(path, bytes);
  const error = await openError(dir);
  assert.equal(
    error.message,
    `corrupt ${path} at byte ${first.length}: entries start at index 5 but the log ends at 3`,
  );
});

test("segments roll over, and every entry is there after reopening", async () => {
  const dir = scratch();
  const options = { walSegmentBytesMax: 2048 };
  const { wal } = await open(dir, options);
  for (let first = 1; first <= 2000; first += 7) await save(wal, { entries: entries(first, first + 6, 1) });
  await wal.close();
  const files = await segmentFiles(dir);
  assert.ok(files.length > 20, `${files.length} segments`);
  files.forEach((name, seq) => assert.ok(name.startsWith(seq.toString(16).padStart(16, "0") + "-"), name));
  const { wal: again, recovered } = await open(dir, options);
  assert.deepEqual(summary(recovered.entries), summary(entries(1, 2002, 1)));
  await save(again, { entries: entries(2003, 2100, 2) });
  await again.close();
  assert.equal((await reopen(dir, options)).entries.length, 2100);
});

test("a missing middle segment makes open refuse", async () => {
  const dir = scratch();
  const { wal } = await open(dir, { walSegmentBytesMax: 256 });
  for (let i = 1; i <= 100; i++) await save(wal, { entries: [entry(i, 1)] });
  await wal.close();
  const files = await segmentFiles(dir);
  await fsDisk.unlink(join(dir, files[2]!));
  const error = await openError(dir);
  assert.equal(error.file, join(dir, files[3]!));
  assert.match(error.message, /segment 2 is missing/);
});

test("compaction records the snapshot, deletes the segments below it, and reopen still works", async () => {
  const dir = scratch();
  const options = { walSegmentBytesMax: 1024 };
  const { wal } = await open(dir, options);
  for (let first = 1; first <= 1000; first += 10)
    await save(wal, { entries: entries(first, first + 9, 1), hardState: hardState(1, 1, first) });
  const before = (await segmentFiles(dir)).length;
  assert.equal((await wal.compact({ index: logIndex(600), term: term(1) })).ok, true);
  const after = await segmentFiles(dir);
  assert.ok(after.length < before * 0.5, `${before} segments, then ${after.length}`);
  assert.ok(after[0]! > "0000000000000000", "the oldest segments went first");
  await wal.close();

  const { wal: again, recovered } = await open(dir, options);
  assert.deepEqual(recovered.snapshot, { index: 600, term: 1 });
  assert.deepEqual(summary(recovered.entries), summary(entries(601, 1000, 1)));
  assert.deepEqual(recovered.hardState, hardState(1, 1, 991));
  // Compacting up to the last entry leaves an empty log that appends continue from.
  assert.equal((await again.compact({ index: logIndex(1000), term: term(1) })).ok, true);
  await save(again, { entries: entries(1001, 1005, 2) });
  await again.close();
  const last = await reopen(dir, options);
  assert.deepEqual(last.snapshot, { index: 1000, term: 1 });
  assert.deepEqual(summary(last.entries), summary(entries(1001, 1005, 2)));
  assert.equal((await segmentFiles(dir)).length, 1);
});

test("a snapshot the log does not hold replaces the whole log (Raft §7)", async () => {
  const dir = scratch();
  const { wal } = await open(dir);
  await save(wal, { entries: entries(1, 10, 1), hardState: hardState(2, 1, 2) });
  assert.equal((await wal.compact({ index: logIndex(5), term: term(2) })).ok, true, "term differs at 5");
  let recovered = await closeAndReopen(wal, dir);
  assert.deepEqual(recovered.entries, []);
  assert.deepEqual(recovered.snapshot, { index: 5, term: 2 });

  const { wal: next } = await open(dir);
  assert.equal((await next.compact({ index: logIndex(20), term: term(3) })).ok, true, "beyond the log");
  await save(next, { entries: entries(21, 22, 3) });
  recovered = await closeAndReopen(next, dir);
  assert.deepEqual(recovered.snapshot, { index: 20, term: 3 });
  assert.deepEqual(summary(recovered.entries), summary(entries(21, 22, 3)));
  assert.deepEqual(recovered.hardState, hardState(2, 1, 2));
});

async function closeAndReopen(wal: Wal, dir: string): Promise<WalRecovered> {
  await wal.close();
  return reopen(dir);
}

test("concurrent saves share one durable write, and each resolves once durable", async () => {
  const dir = scratch();
  let writes = 0;
  let datasyncs = 0;
  let plainOpens = 0;
  const counting: Disk = {
    ...fsDisk,
    async open(path, options) {
      if (options.durableWrites !== true) plainOpens++;
      const file = await fsDisk.open(path, options);
      return {
        write: (data, position) => (writes++, file.write(data, position)),
        datasync: () => (datasyncs++, file.datasync()),
        truncate: (length) => file.truncate(length),
        close: () => file.close(),
      };
    },
  };
  const { wal } = await open(dir, {}, counting);
  const saves = Array.from({ length: 100 }, (_, k) => wal.save({ entries: [entry(k + 1, 1)] }));
  const results = await Promise.all(saves);
  assert.ok(results.every((r) => r.ok));
  assert.equal(writes, 1);
  // Saves made while a write is running are all carried by the next one.
  const first = wal.save({ entries: [entry(101, 1)] });
  await Promise.resolve();
  const rest = Array.from({ length: 50 }, (_, k) => wal.save({ entries: [entry(102 + k, 1)] }));
  assert.ok((await Promise.all([first, ...rest])).every((r) => r.ok));
  assert.equal(writes, 3);
  assert.equal(plainOpens, 0, "every segment is opened with durableWrites");
  assert.equal(datasyncs, 0, "each write is its own fdatasync");
  await wal.close();
  assert.equal((await reopen(dir)).entries.length, 151);
});

test("a full disk is returned as an error, and the WAL then refuses writes until reopened", async () => {
  const dir = scratch();
  let full = false;
  const filling: Disk = {
    ...fsDisk,
    async open(path, options) {
      const file = await fsDisk.open(path, options);
      return {
        write: (data, position) =>
          full
            ? Promise.reject(Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" }))
            : file.write(data, position),
        datasync: () => file.datasync(),
        truncate: (length) => file.truncate(length),
        close: () => file.close(),
      };
    },
  };
  const { wal } = await open(dir, {}, filling);
  await save(wal, { entries: entries(1, 3, 1) });
  full = true;
  const failed = await wal.save({ entries: entries(4, 5, 1) });
  assert.equal(failed.ok, false);
  assert.ok(failed.error.type === "noSpace");
  assert.ok(!failed.error.message.includes("\n") && failed.error.message.includes(dir));
  full = false;
  const after = await wal.save({ entries: entries(6, 6, 1) });
  assert.equal(after.ok, false, "no write after a failed one");
  await wal.close();
  assert.deepEqual(summary((await reopen(dir)).entries), summary(entries(1, 3, 1)));
});

test("reopening 100k entries", async (t) => {
  const dir = scratch();
  const { wal } = await open(dir);
  const data = new Uint8Array(100).fill(7);
  for (let first = 1; first <= 100_000; first += 1000) {
    const batch = Array.from({ length: 1000 }, (_, k): StoredEntry => ({
      index: logIndex(first + k),
      term: term(1 + Math.floor(first / 25_000)),
      kind: "normal",
      data,
    }));
    await save(wal, { entries: batch, hardState: hardState(1 + Math.floor(first / 25_000), 1, first) });
  }
  await wal.close();
  const started = performance.now();
  const recovered = await reopen(dir);
  const elapsedMs = performance.now() - started;
  assert.equal(recovered.entries.length, 100_000);
  recovered.entries.forEach((e, k) => assert.equal(e.index, k + 1));
  assert.deepEqual(recovered.entries[99_999]!.data, data);
  assert.equal(recovered.entries[99_999]!.term, 4);
  // Not a pass/fail threshold (machines vary), but worth seeing in the test output.
  t.diagnostic(`reopened 100k entries in ${elapsedMs.toFixed(0)} ms`);
});
