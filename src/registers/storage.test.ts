import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { nodeId } from "../util/ids.js";
import { utf8 } from "../util/bytes.js";
import type { InstanceRecord, Ready } from "../paxos/basic/index.js";
import { fsDisk, makeTempDir, removeTree } from "../storage/fs_disk.js";
import { decodeJournalEntry, encodeJournalEntry } from "./journal.js";
import { RegisterStorage } from "./storage.js";

const members = { n1: 1, n2: 2, n3: 3 };
const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => removeTree(d))));

async function tempDir(): Promise<string> {
  const dir = await makeTempDir("raftkv-registers-");
  dirs.push(dir);
  return dir;
}

function record(register: string, instance: number, round: number, value?: string, chosen?: string): InstanceRecord {
  const ballot = { round, proposer: nodeId(round === 0 ? 0 : 2) };
  return {
    register,
    instance,
    promised: ballot,
    accepted: value === undefined ? undefined : { ballot, value: utf8(value) },
    chosen: chosen === undefined ? undefined : utf8(chosen),
  };
}

function ready(round: number | undefined, records: InstanceRecord[]): Ready {
  return { round, records, messages: [], results: [], mustSync: round !== undefined || records.length > 0 };
}

async function segmentOf(dir: string): Promise<string> {
  const walDir = join(dir, "registers-wal");
  const [name] = await fsDisk.list(walDir);
  return join(walDir, name!);
}

async function writeAt(path: string, position: number, bytes: Uint8Array): Promise<void> {
  const file = await fsDisk.open(path, { create: false });
  await file.write(bytes, position);
  await file.close();
}

test("journal: entries round-trip, the zero ballot and binary names included; damage is a decode error", () => {
  const records = [record("\u0000\u00ffname", 1, 0), record("r", 7, 3, "v", "v"), record("r", 8, 4, "w")];
  for (const entry of [
    { kind: "state" as const, round: 9, records },
    { kind: "header" as const, members },
  ]) {
    const bytes = encodeJournalEntry(entry);
    assert.deepEqual(decodeJournalEntry(bytes), { ok: true, entry });
    for (let cut = 0; cut < bytes.length; cut++) assert.equal(decodeJournalEntry(bytes.subarray(0, cut)).ok, false);
  }
  const bad = encodeJournalEntry({ kind: "state", round: 1, records: [record("r", 1, 0)] });
  bad[1] = 9;
  assert.match((decodeJournalEntry(bad) as { error: string }).error, /unknown journal entry kind 9/);
});

test("storage: promises, acceptances and decisions are recovered (the last record of each instance wins)", async () => {
  const dir = await tempDir();
  const first = await RegisterStorage.open(fsDisk, dir, members);
  assert.deepEqual(first.durable, { round: 0, records: [] });
  await first.storage.persist(ready(3, [record("r", 1, 3)]));
  await first.storage.persist(ready(undefined, [record("r", 1, 3, "x"), record("s", 1, 2)]));
  await first.storage.persist(ready(4, [record("r", 1, 3, "x", "x")]));
  await first.storage.persist(ready(undefined, [])); // nothing to sync: no entry
  await first.storage.close();
  const again = await RegisterStorage.open(fsDisk, dir, members);
  assert.equal(again.durable.round, 4);
  assert.equal(again.tornTail, undefined);
  const byKey = new Map(again.durable.records.map((r) => [`${r.register}/${r.instance}`, r]));
  assert.deepEqual(byKey.get("r/1"), record("r", 1, 3, "x", "x"));
  assert.deepEqual(byKey.get("s/1"), record("s", 1, 2));
  assert.equal(byKey.size, 2);
  await again.storage.close();
});

test("storage: a torn last write is cut away with a warning; damage before the end refuses the start", async () => {
  const dir = await tempDir();
  const opened = await RegisterStorage.open(fsDisk, dir, members);
  await opened.storage.persist(ready(1, [record("r", 1, 1)]));
  await opened.storage.persist(ready(2, [record("r", 1, 2)]));
  await opened.storage.close();
  const segment = await segmentOf(dir);
  const length = (await fsDisk.readFile(segment)).length;
  // A crash mid-write: half a record's header at the end.
  await writeAt(segment, length, Uint8Array.from([0, 0, 1, 0, 0x55, 0x66]));
  const torn = await RegisterStorage.open(fsDisk, dir, members);
  assert.match(torn.tornTail ?? "", /cut a torn write of 6 bytes at byte \d+/);
  assert.equal(torn.durable.round, 2, "every synced entry survives");
  await torn.storage.close();
  // A flipped bit inside the first record, with valid records after it: corruption, not a torn tail.
  const bytes = await fsDisk.readFile(segment);
  await writeAt(segment, 12, Uint8Array.from([bytes[12]! ^ 0x10]));
  await assert.rejects(RegisterStorage.open(fsDisk, dir, members), /corrupt .*registers-wal.* at byte \d+/);
});

test("storage: another membership or another engine's data directory is refused with the reason", async () => {
  const dir = await tempDir();
  await (await RegisterStorage.open(fsDisk, dir, members)).storage.close();
  await assert.rejects(RegisterStorage.open(fsDisk, dir, { n1: 1, n2: 2 }), /written by members .* started with/);
  const raftDir = await tempDir();
  const file = await fsDisk.open(join(raftDir, "identity.json"), { create: true });
  await file.write(utf8("{}"), 0);
  await file.close();
  await assert.rejects(RegisterStorage.open(fsDisk, raftDir, members), /holds another engine's data/);
});
