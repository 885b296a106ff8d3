import assert from "node:assert/strict";
import { test } from "node:test";
import type { Entry } from "../raft/index.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import { NodeStorage } from "../node/node_storage.js";
import { SimDisk } from "./disk/sim_disk.js";

const entry = (index: number): Entry => ({
  index: logIndex(index),
  term: term(1),
  kind: "normal",
  data: new Uint8Array([index]),
});
const hardState = (commit: number) => ({ term: term(1), vote: nodeId(1), commit: logIndex(commit) });

async function open(disk: SimDisk): Promise<NodeStorage> {
  const opened = await NodeStorage.open(disk, "/data");
  assert.ok(opened.ok, "opens");
  const written = await opened.value.storage.writeIdentity({
    name: "n1",
    members: [{ name: "n1", peerAddr: "127.0.0.1:7001" }],
  });
  assert.ok(written.ok, "writes its identity");
  return opened.value.storage;
}

async function durableCommit(disk: SimDisk): Promise<number> {
  const opened = await NodeStorage.open(disk, "/data");
  assert.ok(opened.ok, `reopens: ${opened.ok ? "" : JSON.stringify(opened.error)}`);
  await opened.value.storage.close();
  return opened.value.durable.hardState.commit;
}

test("node storage: a Ready that only moves the commit index costs no fdatasync, and the next durable write carries it", async () => {
  const disk = new SimDisk({ seed: 1, tornWriteProbability: 0 });
  const storage = await open(disk);
  const persist = (ready: { hardState?: ReturnType<typeof hardState>; entries?: Entry[]; mustSync: boolean }) =>
    storage.persist({
      snapshot: undefined,
      hardState: ready.hardState,
      entries: ready.entries ?? [],
      mustSync: ready.mustSync,
    });
  assert.ok((await persist({ hardState: hardState(0), entries: [entry(1), entry(2)], mustSync: true })).ok);
  const synced = disk.stats.ops;
  assert.ok((await persist({ hardState: hardState(2), mustSync: false })).ok);
  assert.equal(disk.stats.ops, synced, "no disk operation at all");
  assert.ok((await persist({ entries: [entry(3)], mustSync: true })).ok);
  assert.equal(await durableCommit(disk.crash()), 2, "the next synced write carried it");
});

test("node storage: a crash before the next durable write takes the commit index back", async () => {
  const disk = new SimDisk({ seed: 3, tornWriteProbability: 0 });
  const storage = await open(disk);
  assert.ok(
    (await storage.persist({ snapshot: undefined, hardState: hardState(0), entries: [entry(1)], mustSync: true })).ok,
  );
  assert.ok((await storage.persist({ snapshot: undefined, hardState: hardState(1), entries: [], mustSync: false })).ok);
  assert.equal(await durableCommit(disk.crash()), 0);
});

test("node storage: a clean close writes a deferred commit index", async () => {
  const disk = new SimDisk({ seed: 2, tornWriteProbability: 0 });
  const storage = await open(disk);
  assert.ok(
    (await storage.persist({ snapshot: undefined, hardState: hardState(0), entries: [entry(1)], mustSync: true })).ok,
  );
  assert.ok((await storage.persist({ snapshot: undefined, hardState: hardState(1), entries: [], mustSync: false })).ok);
  assert.ok((await storage.close()).ok);
  assert.equal(await durableCommit(disk.crash()), 1);
});

test("node storage: a save asked for while a leader's snapshot is being written waits for its WAL marker", async () => {
  const disk = new SimDisk({ seed: 4, tornWriteProbability: 0 });
  const storage = await open(disk);
  assert.ok(
    (
      await storage.persist({
        snapshot: undefined,
        hardState: hardState(1),
        entries: [entry(1), entry(2)],
        mustSync: true,
      })
    ).ok,
  );
  const snapshot = {
    meta: { index: logIndex(10), term: term(1), voters: [nodeId(1)], votersOutgoing: [], learners: [] },
    data: new Uint8Array([7]),
  };
  const installing = storage.persist({ snapshot, hardState: hardState(10), entries: [], mustSync: true });
  const after = storage.persist({
    snapshot: undefined,
    hardState: undefined,
    entries: [entry(11), entry(12)],
    mustSync: true,
  });
  assert.ok((await installing).ok);
  assert.ok((await after).ok);
  await storage.close();
  const reopened = await NodeStorage.open(disk.crash(), "/data");
  assert.ok(reopened.ok);
  assert.equal(reopened.value.durable.snapshot?.meta.index, 10);
  assert.deepEqual(
    reopened.value.durable.entries.map((e) => e.index),
    [11, 12],
  );
  await reopened.value.storage.close();
});

test("node storage: a snapshot file beyond the log whose WAL marker a crash lost is adopted at open, and the log continues after it (found by the sweep)", async () => {
  const disk = new SimDisk({ seed: 5, tornWriteProbability: 0 });
  const storage = await open(disk);
  assert.ok(
    (
      await storage.persist({
        snapshot: undefined,
        hardState: hardState(1),
        entries: [entry(1), entry(2)],
        mustSync: true,
      })
    ).ok,
  );
  // A leader's snapshot: its file is durable, the marker that was to follow it never made it.
  const snapshot = {
    meta: { index: logIndex(10), term: term(1), voters: [nodeId(1)], votersOutgoing: [], learners: [] },
    data: new Uint8Array([7]),
  };
  const file = storage.beginSnapshot(snapshot.meta, undefined);
  assert.ok((await file.write(snapshot.data)).ok);
  assert.ok((await file.finish()).ok);
  const reopened = await NodeStorage.open(disk.crash(), "/data");
  assert.ok(reopened.ok, reopened.ok ? "" : JSON.stringify(reopened.error));
  assert.equal(reopened.value.durable.snapshot?.meta.index, 10);
  assert.deepEqual(reopened.value.durable.entries, [], "the log before the snapshot is gone");
  const next = await reopened.value.storage.persist({
    snapshot: undefined,
    hardState: hardState(11),
    entries: [entry(11)],
    mustSync: true,
  });
  assert.ok(next.ok, "entry 11 follows the snapshot");
  await reopened.value.storage.close();
  const again = await NodeStorage.open(disk.crash(), "/data");
  assert.ok(again.ok);
  assert.deepEqual(
    again.value.durable.entries.map((e) => e.index),
    [11],
  );
  await again.value.storage.close();
});
