import assert from "node:assert/strict";
import { test } from "node:test";
import { NO_NODE, type NodeId } from "../util/ids.js";
import { logIndex, nodeId } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import type { EngineCore } from "./engine.js";
import { multiPaxosEngine, ZERO_BALLOT, type MultiPaxosTypes } from "./multi_paxos.js";
import { decodeJournalEntry, encodeJournalEntry } from "./paxos_journal.js";
import { pump } from "./pump.test.helper.js";

test("Multi-Paxos runs behind the engine seam: a leader's proposal is applied everywhere, tagged by its bytes, and a follower's goes to the leader", () => {
  const ids = [nodeId(1), nodeId(2), nodeId(3)];
  const cores = new Map<NodeId, EngineCore<MultiPaxosTypes>>(
    ids.map((id) => [
      id,
      multiPaxosEngine({ members: ids }).create(
        { id, random: new Prng(id), electionTicks: 10, heartbeatTicks: 1, checkInvariants: true },
        { hardState: { promised: ZERO_BALLOT }, accepted: [] },
      ),
    ]),
  );
  const applied = new Map(ids.map((id) => [id, [] as Uint8Array[]]));
  const run = (): void => {
    for (const core of cores.values()) core.tick();
    pump(cores, (m) => m.to, applied);
  };
  for (let t = 0; t < 100 && [...cores.values()].every((c) => c.status().role !== "leader"); t++) run();
  const leader = [...cores.values()].find((c) => c.status().role === "leader");
  assert.ok(leader !== undefined, "a leader within 100 ticks");
  const follower = [...cores.values()].find((c) => c !== leader)!;
  assert.equal(follower.status().leader, leader.id, "the follower knows its leader");
  const command = new Uint8Array([7, 7, 7]);
  const proposed = leader.propose(command);
  assert.ok(proposed.ok && proposed.outcome === "appended");
  assert.deepEqual(proposed.tag, command, "a Multi-Paxos proposal is tagged with its bytes");
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
  assert.equal(leader.membership, undefined, "a fixed ensemble");
  assert.deepEqual([...leader.config().incoming].sort(), ids);
  assert.notEqual(follower.status().leader, NO_NODE);
});

test("paxos journal entries round-trip, and anything else is refused with a reason", () => {
  const entry = {
    hardState: { promised: { counter: 3, node: nodeId(5) } },
    accepted: [
      {
        slot: logIndex(4),
        ballot: { counter: 3, node: nodeId(5) },
        value: { kind: "command" as const, data: new Uint8Array([1, 2]) },
      },
      {
        slot: logIndex(2),
        ballot: { counter: 1, node: nodeId(1) },
        value: { kind: "noop" as const, data: new Uint8Array(0) },
      },
    ],
  };
  const bytes = encodeJournalEntry(entry);
  assert.deepEqual(decodeJournalEntry(bytes), { ok: true, entry });
  assert.deepEqual(decodeJournalEntry(encodeJournalEntry({ hardState: undefined, accepted: [] })), {
    ok: true,
    entry: { hardState: undefined, accepted: [] },
  });
  for (const bad of [new Uint8Array(0), new Uint8Array([2, 0, 0, 0, 0, 0]), bytes.subarray(0, bytes.length - 1)]) {
    const decoded = decodeJournalEntry(bad);
    assert.ok(!decoded.ok && decoded.error.length > 0);
  }
});
