import assert from "node:assert/strict";
import { test } from "node:test";
import { NO_NODE, Prng, RawNode, type Message, type NodeId, type Ready, type Status } from "../raft/index.js";
import { bytesEqual } from "../util/bytes.js";
import { nodeId } from "../util/ids.js";
import type { ConsensusCore, CoreReady, CoreStatus, RaftEngine } from "./engine.js";

/**
 * Runs members to quiescence through the seam alone, in no engine's vocabulary: each Ready is
 * taken as persisted at once, its messages are delivered in order, its committed entries recorded.
 */
function pump<M, R extends CoreReady<M>, S extends CoreStatus>(
  cores: ReadonlyMap<NodeId, ConsensusCore<M, R, S>>,
  to: (m: M) => NodeId,
  applied: ReadonlyMap<NodeId, Uint8Array[]>,
): void {
  for (let round = 0; round < 1000; round++) {
    let busy = false;
    for (const [id, core] of cores) {
      if (!core.hasReady()) continue;
      busy = true;
      const ready = core.ready();
      for (const entry of ready.committedEntries) applied.get(id)!.push(entry.data);
      core.advance(ready);
      for (const m of [...ready.messages, ...ready.messagesAfterPersist]) cores.get(to(m))?.step(m);
    }
    if (!busy) return;
  }
  assert.fail("no quiescence after 1000 rounds");
}

function tickAll<M, R extends CoreReady<M>, S extends CoreStatus>(
  cores: ReadonlyMap<NodeId, ConsensusCore<M, R, S>>,
  to: (m: M) => NodeId,
  applied: ReadonlyMap<NodeId, Uint8Array[]>,
): void {
  for (const core of cores.values()) core.tick();
  pump(cores, to, applied);
}

test("RawNode runs behind the engine seam: three members elect a leader and apply a proposal alike", () => {
  const ids = [nodeId(1), nodeId(2), nodeId(3)];
  const cores = new Map<NodeId, RaftEngine>(
    ids.map((id) => [id, new RawNode({ id, voters: ids, random: new Prng(id), checkInvariants: true })]),
  );
  const applied = new Map(ids.map((id) => [id, [] as Uint8Array[]]));
  const to = (m: Message): NodeId => m.to;
  const run = (): void => tickAll<Message, Ready, Status>(cores, to, applied);
  for (let t = 0; t < 100 && cores.get(ids[0]!)!.status().leader === NO_NODE; t++) run();
  const leaderId = cores.get(ids[0]!)!.status().leader;
  assert.notEqual(leaderId, NO_NODE, "a leader within 100 ticks");
  const command = new Uint8Array([7, 7, 7]);
  const proposed = cores.get(leaderId)!.propose(command);
  assert.ok(proposed.ok && proposed.outcome === "appended");
  // Followers learn the commit with the next append or heartbeat.
  for (let t = 0; t < 10; t++) run();
  const leaderApplied = applied.get(leaderId)!.length;
  for (const [id, entries] of applied) {
    assert.ok(
      entries.some((data) => bytesEqual(data, command)),
      `member ${id} applied the proposal`,
    );
    assert.equal(entries.length, leaderApplied, `member ${id} applied as much as the leader`);
    assert.equal(cores.get(id)!.status().appliedIndex, leaderApplied, `member ${id} acknowledged what it applied`);
  }
});
