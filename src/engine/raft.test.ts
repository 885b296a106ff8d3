import assert from "node:assert/strict";
import { test } from "node:test";
import { NO_NODE, Prng, type Message, type NodeId } from "../raft/index.js";
import { bytesEqual } from "../util/bytes.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import type { EngineCore } from "./engine.js";
import { pump } from "./pump.test.helper.js";
import { raftEngine, type RaftTypes } from "./raft.js";

test("Raft runs behind the engine seam: three members elect a leader and apply a proposal alike", () => {
  const ids = [nodeId(1), nodeId(2), nodeId(3)];
  const cores = new Map<NodeId, EngineCore<RaftTypes>>(
    ids.map((id) => [
      id,
      raftEngine({ voters: ids }).create(
        { id, random: new Prng(id), electionTicks: 10, heartbeatTicks: 1, checkInvariants: true },
        { hardState: { term: term(0), vote: nodeId(0), commit: logIndex(0) }, entries: [], snapshot: undefined },
      ),
    ]),
  );
  const applied = new Map(ids.map((id) => [id, [] as Uint8Array[]]));
  const to = (m: Message): NodeId => m.to;
  const run = (): void => {
    for (const core of cores.values()) core.tick();
    pump(cores, to, applied);
  };
  for (let t = 0; t < 100 && cores.get(ids[0]!)!.status().leader === NO_NODE; t++) run();
  const leaderId = cores.get(ids[0]!)!.status().leader;
  assert.notEqual(leaderId, NO_NODE, "a leader within 100 ticks");
  const command = new Uint8Array([7, 7, 7]);
  const proposed = cores.get(leaderId)!.propose(command);
  assert.ok(proposed.ok && proposed.outcome === "appended");
  assert.equal(proposed.tag, cores.get(leaderId)!.status().reign, "a Raft proposal is tagged with its term");
  // Followers learn the commit with the next append or heartbeat.
  for (let t = 0; t < 10; t++) run();
  for (const [id, entries] of applied) {
    assert.ok(
      entries.some((data) => bytesEqual(data, command)),
      `member ${id} applied the proposal`,
    );
    assert.equal(entries.length, applied.get(leaderId)!.length, `member ${id} applied as much as the leader`);
  }
});
