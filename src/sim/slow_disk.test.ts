import assert from "node:assert/strict";
import { test } from "node:test";
import { HEALTHY_NETWORK } from "./network.js";
import { SimCluster } from "./cluster.js";
import { currentLeader } from "./vopr.js";
import { KvWorkload } from "./workload.js";

test("a leader whose fdatasync takes longer than an election timeout keeps its term while it writes snapshots (found by the sweep)", async () => {
  const electionTimeoutMs = 150;
  const cluster = new SimCluster({
    seed: 1,
    nodeCount: 3,
    spareNodes: 0,
    electionTimeoutMs,
    heartbeatMs: 50,
    readiesInFlightMax: 2,
    raft: {},
    disk: {
      syncLatencyMinMs: 1,
      syncLatencyMaxMs: 2,
      slowSyncRate: 0,
      slowSyncMaxMs: 0,
      tornWriteProbability: 0,
      corruptionRate: 0,
    },
    network: HEALTHY_NETWORK,
    snapshotEntries: 5,
    snapshotKeepEntries: 0,
    stateMachine: "kv",
    clockDrift: 0,
    proposalTimeoutMs: 5000,
  });
  cluster.start();
  await cluster.runUntil(2000, () => currentLeader(cluster) !== undefined);
  const leader = currentLeader(cluster);
  assert.ok(leader !== undefined, "a leader was elected");
  const term = cluster.node(leader)!.raft.status().term;
  // From now on every fdatasync of the leader's disk takes 1.5 election timeouts.
  cluster.slowDisk(leader, 1.5 * electionTimeoutMs);
  const workload = new KvWorkload(cluster, cluster.prng.fork(), { keys: 3, readMode: "linearizable" });
  workload.start(3, cluster.now + 3000, 20);
  await cluster.runUntil(cluster.now + 3000);
  assert.deepEqual(cluster.checker.violations, []);
  const status = cluster.node(leader)!.raft.status();
  assert.ok(cluster.snapshotsTaken > 3, `the leader wrote snapshots (${cluster.snapshotsTaken})`);
  assert.deepEqual(
    { role: status.role, term: status.term },
    { role: "leader", term },
    "its heartbeats never waited for a snapshot's fdatasync",
  );
});
