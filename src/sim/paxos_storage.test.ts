import assert from "node:assert/strict";
import { test } from "node:test";
import type { AcceptedRecord, Ballot, MultiPaxosTypes } from "../engine/multi_paxos.js";
import { PaxosStorage } from "../node/paxos_storage.js";
import { Prng } from "../util/prng.js";
import { logIndex, nodeId } from "../util/ids.js";
import { SimDisk } from "./disk/sim_disk.js";

const ballot = (counter: number, node = 1): Ballot => ({ counter, node: nodeId(node) });
const record = (slot: number, b: Ballot, byte: number): AcceptedRecord => ({
  slot: logIndex(slot),
  ballot: b,
  value: { kind: "command", data: new Uint8Array([byte]) },
});
const write = (w: Partial<MultiPaxosTypes["write"]>): MultiPaxosTypes["write"] =>
  ({ hardState: undefined, accepted: [], snapshot: undefined, ...w }) as MultiPaxosTypes["write"];

async function open(disk: SimDisk): Promise<PaxosStorage> {
  const opened = await PaxosStorage.open(disk, "/data");
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

async function recovered(disk: SimDisk) {
  const opened = await PaxosStorage.open(disk, "/data");
  assert.ok(opened.ok, `reopens: ${opened.ok ? "" : opened.error.message}`);
  await opened.value.storage.close();
  return opened.value.durable;
}

test("paxos storage: the latest promise and the latest record per slot survive a crash, whatever the slots' order", async () => {
  const disk = new SimDisk({ seed: 1, tornWriteProbability: 0 });
  const storage = await open(disk);
  assert.ok(
    (
      await storage.persist(
        write({ hardState: { promised: ballot(1) }, accepted: [record(1, ballot(1), 1), record(3, ballot(1), 3)] }),
        true,
      )
    ).ok,
  );
  // A new leader's ballot: slot 2 is filled late, slot 1 accepted again with another value.
  assert.ok(
    (
      await storage.persist(
        write({
          hardState: { promised: ballot(2, 3) },
          accepted: [record(2, ballot(2, 3), 2), record(1, ballot(2, 3), 9)],
        }),
        true,
      )
    ).ok,
  );
  const durable = await recovered(disk.crash());
  assert.deepEqual(durable.hardState.promised, ballot(2, 3));
  assert.deepEqual(durable.accepted, [record(1, ballot(2, 3), 9), record(2, ballot(2, 3), 2), record(3, ballot(1), 3)]);
  assert.equal(durable.snapshot, undefined);
});

test("paxos storage: a snapshot drops the records it covers; the checkpoint keeps the promise and the rest across compaction", async () => {
  const disk = new SimDisk({ seed: 2, tornWriteProbability: 0 });
  const storage = await open(disk);
  for (let slot = 1; slot <= 30; slot++)
    assert.ok(
      (
        await storage.persist(
          write({
            hardState: slot === 1 ? { promised: ballot(4, 2) } : undefined,
            accepted: [record(slot, ballot(4, 2), slot)],
          }),
          true,
        )
      ).ok,
    );
  const data = new Uint8Array([7, 7]);
  const file = storage.beginSnapshot({ index: logIndex(25), store: undefined, compactThrough: logIndex(25) });
  assert.ok((await file.write(data)).ok);
  assert.ok((await file.finish()).ok);
  assert.ok((await storage.persist(write({ accepted: [record(31, ballot(4, 2), 31)] }), true)).ok);
  await storage.close();
  const durable = await recovered(disk.restart());
  assert.deepEqual(durable.snapshot, { index: 25, data });
  assert.deepEqual(durable.hardState.promised, ballot(4, 2), "the promise outlives the entries compacted away");
  assert.deepEqual(
    durable.accepted.map((r) => r.slot),
    [26, 27, 28, 29, 30, 31],
  );
});

test("paxos storage: a power loss anywhere in a leader's snapshot write never keeps its records without the snapshot", async () => {
  const snapshot = { index: logIndex(40), data: new Uint8Array([4, 0]) };
  const rec = record(41, ballot(5, 3), 41);
  let recordsKept = 0;
  for (let seed = 1; seed <= 12; seed++)
    for (let ops = 0; ops <= 24; ops++) {
      const disk = new SimDisk({ seed, tornWriteProbability: 0.5 });
      const storage = await open(disk);
      disk.crashAfterOps(ops);
      const persisted = await storage.persist(
        write({ snapshot, hardState: { promised: ballot(5, 3) }, accepted: [rec] }),
        true,
      );
      const durable = await recovered(disk.crash());
      const where = `seed ${seed}, crash after ${ops} ops`;
      if (persisted.ok) assert.deepEqual(durable.snapshot, snapshot, `a resolved write is durable (${where})`);
      if (durable.accepted.length > 0) {
        recordsKept++;
        assert.deepEqual(durable.accepted, [rec], where);
        assert.deepEqual(durable.snapshot, snapshot, `records survived without the snapshot below them (${where})`);
      }
    }
  assert.ok(recordsKept > 0, "some crash came after the records were durable");
});

test("paxos storage: with torn writes, a power loss never loses a synced write nor invents one", async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const prng = new Prng(seed);
    let disk = new SimDisk({ seed, tornWriteProbability: 0.5 });
    let storage = await open(disk);
    /** Slot → the byte of the last value whose write resolved. */
    const synced = new Map<number, number>();
    let promised = 0;
    for (let k = 1; k <= 20; k++) {
      const slot = prng.int(1, 8);
      const counter = promised + prng.int(0, 2);
      const pending = storage.persist(
        write({
          hardState: counter > promised ? { promised: ballot(counter) } : undefined,
          accepted: [record(slot, ballot(Math.max(counter, 1)), k)],
        }),
        true,
      );
      if (prng.chance(0.15)) {
        disk = disk.crash();
        const durable = await recovered(disk);
        for (const [s, byte] of synced) {
          const found = durable.accepted.find((r) => r.slot === s);
          assert.ok(
            found !== undefined && (found.value.data[0] === byte || found.value.data[0]! > byte),
            `seed ${seed}: slot ${s} kept`,
          );
        }
        assert.ok(durable.hardState.promised.counter >= promised, `seed ${seed}: the promise never goes back`);
        storage = await open(disk);
        continue;
      }
      assert.ok((await pending).ok);
      synced.set(slot, k);
      promised = Math.max(promised, counter);
    }
    await storage.close();
  }
});
