import assert from "node:assert/strict";
import { test } from "node:test";
import { Pump } from "./pump.test.helper.js";

/*
 * Discovery and synchronization wait on disks: a follower's ACKEPOCH and its Ack of NEWLEADER
 * leave only once what they promise is durable, and until then it has nothing else to send. So a
 * new leader bounds that wait by initTicks (ZooKeeper's initLimit) and applies the quorum check of
 * broadcast (a quorum heard from in every election timeout) only once it is in broadcast. On real
 * processes (the fault run, 150 ms election timeout) leaders gave up in discovery and
 * synchronization this way, each time costing a new election and epoch.
 */

test("a new leader whose followers' disks take three election timeouts to sync still establishes its epoch", () => {
  const electionTicks = 10;
  const pump = new Pump({ size: 3, seed: 41, zab: { electionTicks, initTicks: 10 * electionTicks } });
  pump.slowDisks = true;
  // The election writes nothing; choosing an epoch is the first write, and it is held.
  pump.runUntil(() => pump.members.some((id) => pump.node(id).softState().epoch > 0));
  const chosen = pump.members.map((id) => pump.node(id).softState().epoch).find((e) => e > 0)!;
  pump.run(3 * electionTicks);
  assert.ok(pump.writing().length > 0, "the writes are still in flight");
  pump.stopFaults();
  pump.runUntil(() => pump.leader() !== undefined);
  assert.equal(pump.node(pump.leader()!).softState().epoch, chosen, "the leader kept the epoch it chose");
});
