// A simulated 3-member cluster on steady disks and a network with one fixed delay, for the
// simulator's measurements: the same seed and options for every engine, so the schedules differ only
// by what the engines themselves do.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SimCluster } from "../../dist/sim/cluster.js";
import { currentLeader } from "../../dist/sim/vopr.js";
import { encodeCommand } from "../../dist/kv/index.js";
import { utf8 } from "../../dist/util/bytes.js";

export const simValueBytes = 100;

/** A network that loses, duplicates and reorders nothing, every message taking `delayMs`. */
export function steadyNetwork(delayMs) {
  return {
    lossRate: 0,
    duplicateRate: 0,
    delayMinMs: delayMs,
    delayMaxMs: delayMs,
    longDelayRate: 0,
    longDelayMaxMs: 0,
    staleAppendRate: 0,
  };
}

/** Cluster options shared by every simulator measurement; `delayMs` and `syncMs` are fixed, not drawn. */
export function simOptions(engine, { seed, delayMs, syncMs }) {
  return {
    seed,
    engine,
    nodeCount: 3,
    spareNodes: 0,
    electionTimeoutMs: 300,
    heartbeatMs: 50,
    readiesInFlightMax: 2,
    raft: { preVote: true, checkQuorum: true },
    disk: {
      syncLatencyMinMs: syncMs,
      syncLatencyMaxMs: syncMs,
      slowSyncRate: 0,
      slowSyncMaxMs: 0,
      tornWriteProbability: 0,
      corruptionRate: 0,
    },
    network: steadyNetwork(delayMs),
    snapshotEntries: 100_000,
    snapshotKeepEntries: 0,
    stateMachine: "kv",
    clockDrift: 0,
    proposalTimeoutMs: 5000,
  };
}

/**
 * Starts a simulated cluster of `engine` and runs it until a leader holds; undefined when the
 * simulator does not run that engine (it would otherwise run Raft under the name).
 */
export async function startSim(options) {
  const cluster = new SimCluster(options);
  cluster.start();
  await cluster.runUntil(5000, () => currentLeader(cluster) !== undefined);
  const leader = currentLeader(cluster);
  if (leader === undefined) throw new Error(`${options.engine}: no leader in the simulator after 5 s virtual`);
  const ran = cluster.node(leader).raft.capabilities.name;
  return ran === options.engine ? { cluster, leader } : undefined;
}

/** A put of `simValueBytes` at key `k<n>`, with no session (the simulator's client is the test). */
export function putCommand(n) {
  return encodeCommand({ type: "put", key: utf8(`k${n}`), value: utf8("v".repeat(simValueBytes)) });
}

/** Messages delivered and syncs made so far, over the whole cluster. */
export function counters(cluster) {
  return {
    messages: cluster.messagesDelivered,
    syncs: cluster.members.reduce((sum, m) => sum + m.disk.stats.syncs, 0),
  };
}

/** Whether the simulator runs `engine` at all: its CLI refuses a name it does not know (exit 2). */
export function simulatorRuns(engine) {
  const cli = fileURLToPath(new URL("../../dist/sim/cli.js", import.meta.url));
  const probe = spawnSync(process.execPath, [cli, "--engine", engine, "--seeds", "0", "--workers", "1"]);
  return probe.status === 0;
}
