import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeId, type NodeId } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { epoch, zxid } from "../zab/index.js";
import type { EngineCore } from "./engine.js";
import { pump } from "./pump.test.helper.js";
import { EMPTY_DURABLE_STATE, zabEngine, zxidOfTag, zxidTag, type ZabTypes } from "./zab.js";
import { decodeZabJournalEntry, encodeZabJournalEntry, replayZabJournalEntry } from "./zab_journal.js";

function cluster(): Map<NodeId, EngineCore<ZabTypes>> {
  const ids = [nodeId(1), nodeId(2), nodeId(3)];
  return new Map(
    ids.map((id) => [
      id,
      zabEngine({ members: ids }).create(
        { id, random: new Prng(id), electionTicks: 10, heartbeatTicks: 1, checkInvariants: true },
        EMPTY_DURABLE_STATE,
      ),
    ]),
  );
}

test("ZAB runs behind the engine seam: a leader's proposal is applied everywhere, tagged by its zxid; a follower's goes to the leader; a follower's sync read comes back", () => {
  const cores = cluster();
  const applied = new Map([...cores.keys()].map((id) => [id, [] as Uint8Array[]]));
  const run = (): void => {
    for (const core of cores.values()) core.tick();
    pump(cores, (m) => m.to, applied);
  };
  for (let t = 0; t < 200 && [...cores.values()].every((c) => c.status().role !== "leader"); t++) run();
  const leader = [...cores.values()].find((c) => c.status().role === "leader");
  assert.ok(leader !== undefined, "a leader in broadcast within 200 ticks");
  for (let t = 0; t < 10; t++) run();
  const follower = [...cores.values()].find((c) => c !== leader)!;
  assert.equal(follower.status().leader, leader.id, "the follower knows its leader");
  assert.equal(follower.status().role, "follower");
  const command = new Uint8Array([7, 7, 7]);
  const proposed = leader.propose(command);
  assert.ok(proposed.ok && proposed.outcome === "appended");
  assert.deepEqual(zxidOfTag(proposed.tag as number), zxid(leader.status().reign, 1), "the epoch's first zxid");
  for (let t = 0; t < 10; t++) run();
  for (const [id, entries] of applied) assert.deepEqual(entries, [command], `member ${id} applied the proposal`);
  const fromFollower = new Uint8Array([1]);
  assert.deepEqual(follower.propose(fromFollower), { ok: true, outcome: "forwarded" });
  for (let t = 0; t < 10; t++) run();
  for (const [id, entries] of applied)
    assert.deepEqual(
      entries,
      [command, fromFollower],
      `member ${id} applied the follower's proposal after the leader's`,
    );
  assert.ok(follower.read(new Uint8Array([9]), "lease").ok, "a lease read is a sync on ZAB");
  let readAt: number | undefined;
  for (let t = 0; t < 10 && readAt === undefined; t++) {
    for (const core of cores.values()) core.tick();
    for (let round = 0; round < 100; round++) {
      let busy = false;
      for (const [id, core] of cores) {
        if (!core.hasReady()) continue;
        busy = true;
        const ready = core.ready();
        for (const entry of ready.committed) applied.get(id)!.push(entry.data);
        if (core === follower && ready.readStates.length > 0) readAt = ready.readStates[0]!.index;
        core.advance(ready);
        for (const m of [...ready.messages, ...ready.messagesAfterPersist]) cores.get(m.to)?.step(m);
      }
      if (!busy) break;
    }
  }
  assert.equal(readAt, proposed.index + 1, "the sync read point covers the writes committed before it");
  assert.equal(leader.membership, undefined, "a fixed ensemble");
  assert.equal(leader.capabilities.snapshots, false, "no snapshots");
});

test("a zxid tag orders as the zxid and reads back", () => {
  for (const z of [zxid(1, 1), zxid(3, 2 ** 32 - 1), zxid(70_000, 5)]) assert.deepEqual(zxidOfTag(zxidTag(z)), z);
  assert.ok(zxidTag(zxid(2, 1)) > zxidTag(zxid(1, 2 ** 32 - 1)));
});

test("zab journal entries round-trip and replay; a damaged or impossible one is refused with a reason", () => {
  const entry = {
    epochs: { acceptedEpoch: epoch(2), currentEpoch: epoch(2) },
    truncateAfter: 1,
    first: 2,
    txns: [{ zxid: zxid(2, 1), data: new Uint8Array([1, 2]) }],
  };
  const bytes = encodeZabJournalEntry(entry);
  assert.deepEqual(decodeZabJournalEntry(bytes), { ok: true, entry });
  const bare = { epochs: undefined, truncateAfter: 0, first: 0, txns: [] };
  assert.deepEqual(decodeZabJournalEntry(encodeZabJournalEntry(bare)), { ok: true, entry: bare });
  for (const bad of [new Uint8Array(0), new Uint8Array([2, 0, 0, 0]), bytes.subarray(0, bytes.length - 1)]) {
    const decoded = decodeZabJournalEntry(bad);
    assert.ok(!decoded.ok && decoded.error.length > 0);
  }
  const state = {
    acceptedEpoch: epoch(1),
    currentEpoch: epoch(1),
    history: [
      { zxid: zxid(1, 1), data: new Uint8Array([1]) },
      { zxid: zxid(1, 2), data: new Uint8Array([2]) },
    ],
  };
  assert.equal(replayZabJournalEntry(state, entry), undefined);
  assert.deepEqual(
    state.history.map((t) => t.zxid),
    [zxid(1, 1), zxid(2, 1)],
  );
  assert.match(replayZabJournalEntry(state, { ...bare, truncateAfter: 5 }) ?? "", /beyond the 2 stored/);
  assert.match(replayZabJournalEntry(state, { ...entry, truncateAfter: undefined, first: 3 }) ?? "", /2\.1 after 2\.1/);
  assert.match(
    replayZabJournalEntry(state, {
      ...bare,
      truncateAfter: undefined,
      epochs: { acceptedEpoch: epoch(1), currentEpoch: epoch(1) },
    }) ?? "",
    /epochs 1\/1 after 2\/2/,
  );
});
