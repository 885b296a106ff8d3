import assert from "node:assert/strict";
import { test } from "node:test";
import type { NodeId } from "../raft/index.js";
import { electionTimeoutMs, steadyCluster } from "./steady_cluster.test.helper.js";
import { KvWorkload } from "./workload.js";

test("a leader waking from a stall serves no lease read before its overdue ticker runs (found by the sweep)", async () => {
  const { cluster, leader: old } = await steadyCluster({ seed: 3, raft: { checkQuorum: true, preVote: true } });
  const workload = new KvWorkload(cluster, cluster.prng.fork(), { keys: 2, readMode: "lease" });
  let written = false;
  void workload.writeOnce(old, "k0").then(() => (written = true));
  await cluster.runUntil(cluster.now + 1000, () => written);
  // Let heartbeats confirm the lease, then freeze the leader's process, cut off.
  await cluster.runUntil(cluster.now + 100);
  const stallMs = 4 * electionTimeoutMs;
  const wakeAt = cluster.now + stallMs;
  cluster.network.partition([[old], cluster.ids.filter((id) => id !== old)]);
  cluster.networkChanged();
  cluster.stall(old, stallMs);
  const successorOf = (): NodeId | undefined =>
    cluster.ids.find((id) => id !== old && cluster.node(id)?.raft.status().role === "leader");
  await cluster.runUntil(wakeAt - 50, () => successorOf() !== undefined);
  const successor = successorOf();
  assert.ok(successor !== undefined && successor !== old, "the others elected a leader while the old one slept");
  written = false;
  void workload.writeOnce(successor, "k1").then(() => (written = true));
  await cluster.runUntil(wakeAt - 20, () => written);
  assert.ok(written, "the new leader committed a write");
  // A second pause right after the first (a GC on waking, say): the timer that waited out the first
  // one now queues behind the reads that arrive meanwhile, which are handled first when it wakes.
  const secondWakeAt = wakeAt + 50;
  cluster.stall(old, secondWakeAt - cluster.now);
  workload.probe(old, secondWakeAt);
  await cluster.runUntil(secondWakeAt + 2 * electionTimeoutMs);
  assert.deepEqual(cluster.checker.violations, []);
  assert.notEqual(cluster.node(old)!.raft.status().role, "leader", "the old leader noticed it lost its quorum");
});
