import assert from "node:assert/strict";
import { test } from "node:test";
import { electionTimeoutMs, steadyCluster } from "./steady_cluster.test.helper.js";
import { KvWorkload } from "./workload.js";

test("a leader whose fdatasync takes longer than an election timeout keeps its term while it writes snapshots (found by the sweep)", async () => {
  const { cluster, leader } = await steadyCluster({ seed: 1, snapshotEntries: 5 });
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
