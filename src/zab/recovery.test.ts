import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8, utf8 } from "../util/bytes.js";
import { nodeId, type NodeId } from "../util/ids.js";
import type { NewLeader, ZabMessage } from "./messages.js";
import { Pump } from "./pump.test.helper.js";
import { formatZxid } from "./types.js";

const values = (pump: Pump, id: NodeId): string[] => pump.delivered.get(id)!.map((e) => fromUtf8(e.data));

/** A five-member ensemble whose leader proposed "x" and got it only to `holder` before crashing. */
function uncommittedOnOneFollower(seed: number): { pump: Pump; oldLeader: NodeId; holder: NodeId; index: number } {
  const pump = new Pump({ size: 5, seed });
  pump.runUntil(() => pump.leader() !== undefined);
  const oldLeader = pump.leader()!;
  pump.propose(utf8("committed"));
  pump.runUntil(() => pump.allDelivered(1));
  const holder = pump.members.find((id) => id !== oldLeader)!;
  const index = pump.propose(utf8("x"));
  pump.inFlight = pump.inFlight.filter((m) => m.type !== "proposal" || m.to === holder);
  pump.deliverAll();
  assert.equal(pump.node(holder).status().lastIndex, index, "the holder accepted x");
  assert.equal(pump.node(oldLeader).status().committedIndex, 1, "x has 2 of the 3 acknowledgements it needs");
  pump.crash(oldLeader);
  return { pump, oldLeader, holder, index };
}

test("a new epoch whose quorum includes the follower holding an uncommitted proposal commits it everywhere", () => {
  const { pump, oldLeader, holder, index } = uncommittedOnOneFollower(3);
  pump.runUntil(() => pump.leader() !== undefined && pump.allDelivered(index));
  assert.equal(pump.leader(), holder, "the most recent member wins the election");
  assert.equal(pump.node(holder).status().epoch, 2);
  pump.restart(oldLeader);
  pump.runUntil(() => pump.allDelivered(index));
  for (const id of pump.members) assert.deepEqual(values(pump, id), ["committed", "x"]);
});

test("a new epoch without the follower holding an uncommitted proposal truncates it there when it returns", () => {
  const { pump, oldLeader, holder, index } = uncommittedOnOneFollower(4);
  pump.crash(holder);
  pump.runUntil(() => pump.leader() !== undefined);
  assert.equal(pump.propose(utf8("y")), index, "y takes the index x had");
  pump.runUntil(() => pump.allDelivered(index));
  pump.restart(holder);
  pump.restart(oldLeader);
  pump.runUntil(() => pump.allDelivered(index));
  for (const id of pump.members) assert.deepEqual(values(pump, id), ["committed", "y"]);
  const disk = pump.disks.get(holder)!.history.map((t) => formatZxid(t.zxid));
  assert.deepEqual(disk, ["1.1", "2.1"], "x is gone from the holder's disk, not only from what it delivered");
});

test("a follower that restarts lagging is synchronized with a diff of what it lacks, not the whole history", () => {
  const pump = new Pump({ size: 3, seed: 11 });
  pump.runUntil(() => pump.leader() !== undefined);
  const leader = pump.leader()!;
  const lagging = pump.members.find((id) => id !== leader)!;
  for (let k = 0; k < 5; k++) pump.propose(utf8(`early ${k}`));
  pump.runUntil(() => pump.allDelivered(5));
  pump.crash(lagging);
  for (let k = 0; k < 20; k++) pump.propose(utf8(`late ${k}`));
  pump.runUntil(() => pump.allDelivered(25));
  const syncs: NewLeader[] = [];
  pump.watch = (m: ZabMessage) => {
    if (m.type === "newLeader" && m.to === lagging) syncs.push(m);
  };
  pump.restart(lagging);
  pump.runUntil(() => pump.allDelivered(25));
  assert.ok(syncs.length >= 1);
  assert.equal(formatZxid(syncs[0]!.prevZxid), "1.5", "the diff starts after what the follower held");
  assert.equal(syncs[0]!.txns.length, 20);
  assert.deepEqual(values(pump, lagging).slice(20), ["late 15", "late 16", "late 17", "late 18", "late 19"]);
  assert.equal(pump.node(leader).status().epoch, 1, "a restarted follower rejoins the running epoch");
});

test("followers re-elect when the leader's pings stop, and a leader without a quorum steps down", () => {
  const pump = new Pump({ size: 5, seed: 5 });
  pump.runUntil(() => pump.leader() !== undefined);
  const old = pump.leader()!;
  pump.propose(utf8("before"));
  pump.runUntil(() => pump.allDelivered(1));
  const rest = pump.members.filter((id) => id !== old);
  pump.partition([old], rest);
  pump.runUntil(() => pump.leader() !== undefined && pump.leader() !== old, 100);
  const fresh = pump.leader()!;
  assert.ok(
    pump.node(fresh).status().epoch > pump.node(old).status().epoch || pump.node(old).status().role !== "leading",
  );
  pump.runUntil(() => pump.node(old).status().role === "looking", 30);
  pump.propose(utf8("after"));
  pump.runUntil(() => rest.every((id) => values(pump, id).length === 2));
  pump.heal();
  pump.runUntil(() => pump.allDelivered(2));
  assert.deepEqual(values(pump, old), ["before", "after"]);
  assert.equal(pump.node(old).status().leader, fresh, "the deposed leader follows the new one");
});

test("a single-member ensemble leads itself and commits once its own writes are durable", () => {
  const pump = new Pump({ size: 1 });
  pump.runUntil(() => pump.leader() !== undefined, 5);
  pump.propose(utf8("alone"));
  pump.runUntil(() => pump.allDelivered(1), 5);
  assert.deepEqual(values(pump, nodeId(1)), ["alone"]);
  pump.crash(nodeId(1));
  pump.restart(nodeId(1));
  pump.runUntil(() => pump.allDelivered(1), 5);
  assert.equal(pump.node(nodeId(1)).status().epoch, 2);
});
