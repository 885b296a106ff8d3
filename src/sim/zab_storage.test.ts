import assert from "node:assert/strict";
import { test } from "node:test";
import { applyWrite, EMPTY_DURABLE_STATE, type ZabDurable, type ZabTypes } from "../engine/zab.js";
import { writeIdentity } from "../node/data_dir.js";
import { ZabStorage } from "../node/zab_storage.js";
import { Prng } from "../util/prng.js";
import { epoch, zxid, type Epochs, type HistoryWrite, type Txn } from "../zab/index.js";
import { SimDisk } from "./disk/sim_disk.js";

/** The part of a Ready that storage reads. */
const write = (history: HistoryWrite, epochs?: Epochs): ZabTypes["write"] =>
  ({ history, epochs, mustSync: true }) as unknown as ZabTypes["write"];
const epochs = (accepted: number, current: number): Epochs => ({
  acceptedEpoch: epoch(accepted),
  currentEpoch: epoch(current),
});
const txn = (e: number, counter: number): Txn => ({ zxid: zxid(e, counter), data: new Uint8Array([e, counter]) });
const append = (first: number, txns: readonly Txn[], truncateAfter?: number): HistoryWrite => ({
  truncateAfter,
  entries: txns.map((t, k) => ({ ...t, index: first + k })),
});

async function open(disk: SimDisk): Promise<ZabStorage> {
  const opened = await ZabStorage.open(disk, "/data");
  assert.ok(opened.ok, "opens");
  if (opened.value.identity === undefined) {
    const written = await opened.value.storage.writeIdentity({
      name: "n1",
      members: [{ name: "n1", peerAddr: "h:1" }],
    });
    assert.ok(written.ok, "writes its identity");
  }
  return opened.value.storage;
}

async function recovered(disk: SimDisk): Promise<ZabDurable> {
  const opened = await ZabStorage.open(disk, "/data");
  assert.ok(opened.ok, `reopens: ${opened.ok ? "" : opened.error.message}`);
  await opened.value.storage.close();
  return opened.value.durable;
}

test("zab storage: history writes (appends, a bare truncation, a replaced suffix) and epochs survive a crash", async () => {
  const disk = new SimDisk({ seed: 1, tornWriteProbability: 0 });
  const storage = await open(disk);
  const writes = [
    write(append(1, [txn(1, 1), txn(1, 2), txn(1, 3)]), epochs(1, 1)),
    // A follower of epoch 2 keeps (1,1) only: a truncation with nothing appended.
    write(append(0, [], 1), epochs(2, 1)),
    write(append(2, [txn(2, 1), txn(2, 2)]), epochs(2, 2)),
    // A later leader's history replaces (2,2).
    write(append(3, [txn(3, 1)], 2), epochs(3, 3)),
  ];
  let expected = EMPTY_DURABLE_STATE;
  for (const w of writes) {
    assert.ok((await storage.persist(w, true)).ok);
    expected = applyWrite(expected, w);
  }
  assert.ok((await storage.persist(write(append(0, [])), false)).ok, "nothing to write: nothing written");
  const durable = await recovered(disk.crash());
  assert.deepEqual(durable, expected);
  assert.deepEqual(
    durable.history.map((t) => t.zxid),
    [zxid(1, 1), zxid(2, 1), zxid(3, 1)],
  );
});

test("zab storage: a directory another engine wrote is refused", async () => {
  const disk = new SimDisk({ seed: 2, tornWriteProbability: 0 });
  await disk.mkdir("/data");
  assert.ok((await writeIdentity(disk, "/data", { name: "n1", members: [], engine: "multi-paxos" })).ok);
  const opened = await ZabStorage.open(disk, "/data");
  assert.ok(!opened.ok);
  assert.match(opened.error.message, /written by the multi-paxos engine, not zab/);
});

test("zab storage: with torn writes, a power loss recovers the state after some write no earlier than the last synced one", async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const prng = new Prng(seed);
    let disk = new SimDisk({ seed, tornWriteProbability: 0.5 });
    let storage = await open(disk);
    /** The durable state after each write issued in this life, from the last recovered one. */
    let states: ZabDurable[] = [await recovered(disk)];
    let synced = 0;
    for (let k = 1; k <= 30; k++) {
      const last = states.at(-1)!;
      const e = Math.max(1, last.acceptedEpoch + prng.int(0, 2));
      const keep = prng.chance(0.2) ? prng.int(0, last.history.length + 1) : last.history.length;
      const kept = last.history.slice(0, keep);
      const top = kept.at(-1)?.zxid;
      const counter = top !== undefined && top.epoch === e ? top.counter : 0;
      const txns = Array.from({ length: prng.int(0, 4) }, (_, j) => txn(e, counter + j + 1));
      const w = write(append(keep + 1, txns, keep < last.history.length ? keep : undefined), epochs(e, e));
      const pending = storage.persist(w, true);
      states.push(applyWrite(last, w));
      if (prng.chance(0.15)) {
        disk = disk.crash();
        const durable = await recovered(disk);
        const at = states.findIndex((s, i) => i >= synced && sameDurable(s, durable));
        assert.ok(at >= 0, `seed ${seed}: the recovered state is one after a write no earlier than the last synced`);
        storage = await open(disk);
        states = [durable];
        synced = 0;
        continue;
      }
      assert.ok((await pending).ok);
      synced = states.length - 1;
    }
    await storage.close();
  }
});

function sameDurable(a: ZabDurable, b: ZabDurable): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}
