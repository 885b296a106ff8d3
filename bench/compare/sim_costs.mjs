// Messages, syncs and round trips per committed command, counted in the simulator: the real node of
// each engine on simulated disks and a simulated network, with the same seed, the same delays and
// the same commands. Each command is proposed at the leader (so no forwarding hop is counted) by
// `clients` closed-loop clients; a command counts once the leader's propose resolved (applied there).
import { counters, putCommand, simOptions, startSim } from "./sim_world.mjs";

const delayMs = 10;
const syncMs = 4;

/** Runs `commands` puts through the leader with `clients` at a time; per-command costs, or undefined. */
async function run(engine, { seed, commands, clients, syncLatencyMs }) {
  const started = await startSim(simOptions(engine, { seed, delayMs, syncMs: syncLatencyMs }));
  if (started === undefined) return undefined;
  const { cluster, leader } = started;
  // Let the election's own traffic settle before counting.
  await cluster.runUntil(cluster.now + 500);
  const before = counters(cluster);
  const leaderSyncsBefore = cluster.member(leader).disk.stats.syncs;
  const from = cluster.now;
  let next = 0;
  let done = 0;
  let failed = 0;
  const latencies = [];
  const client = async () => {
    while (next < commands) {
      const command = putCommand(next++);
      const t0 = cluster.now;
      const ok = await cluster.request(leader, (node) =>
        node.raft.propose(command).then(
          () => true,
          () => false,
        ),
      );
      if (ok === true) latencies.push(cluster.now - t0);
      else failed++;
      done++;
    }
  };
  for (let k = 0; k < clients; k++) void client();
  await cluster.runUntil(from + 600_000, () => done === commands);
  const busyMs = cluster.now - from;
  const after = counters(cluster);
  const leaderSyncs = cluster.member(leader).disk.stats.syncs - leaderSyncsBefore;
  // The same stretch of virtual time with no commands: heartbeats and the like, to subtract.
  await cluster.runUntil(cluster.now + 100);
  const idleFrom = counters(cluster);
  const idleAt = cluster.now;
  await cluster.runUntil(idleAt + busyMs);
  const idle = counters(cluster);
  if (cluster.checker.violations.length > 0)
    throw new Error(`${engine}: simulator violation: ${cluster.checker.violations[0].message}`);
  const committed = latencies.length;
  latencies.sort((a, b) => a - b);
  return {
    committed,
    failed,
    messages: (after.messages - before.messages) / committed,
    idleMessages: (idle.messages - idleFrom.messages) / committed,
    syncs: (after.syncs - before.syncs) / committed,
    leaderSyncs: leaderSyncs / committed,
    idleSyncs: (idle.syncs - idleFrom.syncs) / committed,
    medianLatencyMs: latencies[Math.floor(latencies.length / 2)],
  };
}

/**
 * Per engine: costs with one client (no batching) and with 16 (batching), and round trips from the
 * latency of one client's commands with instant disks (latency ÷ (2 × one-way delay)), plus the
 * fsyncs on a command's critical path ((latency with syncs − latency without) ÷ sync time).
 */
export async function simCosts(engine, { seed, commands }) {
  const single = await run(engine, { seed, commands, clients: 1, syncLatencyMs: syncMs });
  if (single === undefined) return undefined;
  const batched = await run(engine, { seed, commands: commands * 4, clients: 16, syncLatencyMs: syncMs });
  const instant = await run(engine, { seed, commands, clients: 1, syncLatencyMs: 0 });
  return {
    delayMs,
    syncMs,
    single,
    batched,
    roundTrips: instant.medianLatencyMs / (2 * delayMs),
    syncsOnPath: (single.medianLatencyMs - instant.medianLatencyMs) / syncMs,
  };
}
