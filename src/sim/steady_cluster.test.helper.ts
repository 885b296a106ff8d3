import assert from "node:assert/strict";
import type { NodeId } from "../raft/index.js";
import { SimCluster, type ClusterOptions } from "./cluster.js";
import { HEALTHY_NETWORK } from "./network.js";
import { currentLeader } from "./vopr.js";

export const electionTimeoutMs = 150;

/**
 * A simulated cluster on a healthy network and steady, fast disks, for regression tests that plant
 * one fault by hand; `overrides` changes what the test is about, and `prepare` sees the cluster
 * before it starts. Resolves once a leader is elected.
 */
export async function steadyCluster(
  overrides: Partial<ClusterOptions> & { seed: number },
  prepare?: (cluster: SimCluster) => void,
): Promise<{ cluster: SimCluster; leader: NodeId }> {
  const cluster = new SimCluster({
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
    snapshotEntries: 100_000,
    snapshotKeepEntries: 0,
    stateMachine: "kv",
    clockDrift: 0,
    proposalTimeoutMs: 5000,
    ...overrides,
  });
  prepare?.(cluster);
  cluster.start();
  await cluster.runUntil(3000, () => currentLeader(cluster) !== undefined);
  const leader = currentLeader(cluster);
  assert.ok(leader !== undefined, "a leader was elected");
  return { cluster, leader };
}
