// Messages, syncs and round trips per committed command, counted in the simulator: the real node of
// each engine on simulated disks and a simulated network, with the same seed, the same delays and
// the same commands. Each command is proposed at the leader (so no forwarding hop is counted) by
// `clients` closed-loop clients; a command counts once the leader's propose resolved (applied there).
// Basic Paxos has no leader and no log: its command is a write-once register named like the put's key
// (a compare-and-set from version 0 of a fresh register, the same 100 bytes), proposed at member n1,
// and it counts once n1 has learned it chosen.
import { counters, putCommand, simOptions, simValueBytes, startSim } from "./sim_world.mjs";
import { RegisterSim } from "./sim_registers.mjs";
import { servesKv } from "./engines.mjs";
import { utf8 } from "../../dist/util/bytes.js";

const delayMs = 10;
const syncMs = 4;

/** The KV engines: puts proposed at the leader of a SimCluster. */
async function kvWorld(engine, { seed, syncLatencyMs }) {
  const started = await startSim(simOptions(engine, { seed, delayMs, syncMs: syncLatencyMs }));
  if (started === undefined) return undefined;
  const { cluster, leader } = started;
  return {
    now: () => cluster.now,
    runUntil: (until, stop) => cluster.runUntil(until, stop),
    counters: () => counters(cluster),
    proposerSyncs: () => cluster.member(leader).disk.stats.syncs,
    violation: () => cluster.checker.violations[0]?.message,
    propose: (n) =>
      cluster.request(leader, (node) =>
        node.raft.propose(putCommand(n)).then(
          () => true,
          () => false,
        ),
      ),
    stop: () => {},
  };
}

/** Basic Paxos: write-once registers proposed at n1 of a RegisterSim. */
async function registerWorld({ seed, syncLatencyMs }) {
  const sim = new RegisterSim({ seed, delayMs, syncMs: syncLatencyMs });
  await sim.start();
  const proposer = sim.ids[0];
  const value = utf8("v".repeat(simValueBytes));
  return {
    now: () => sim.now,
    runUntil: (until, stop) => sim.runUntil(until, stop),
    counters: () => ({ messages: sim.messagesDelivered, syncs: sim.syncs() }),
    proposerSyncs: () => sim.syncsOf(proposer),
    violation: () => sim.violations[0],
    propose: async (n) => {
      const answer = await sim.request(proposer, { register: `k${n}`, cas: { expected: 0, value } });
      return answer.type === "outcome" && answer.outcome.type === "written";
    },
    stop: () => sim.stop(),
  };
}

function startWorld(engine, options) {
  return servesKv(engine) ? kvWorld(engine, options) : registerWorld(options);
}

/**
 * Runs `commands` commands through the leader (Basic Paxos: n1) with `clients` at a time;
 * per-command costs, or undefined.
 */
async function run(engine, options) {
  const world = await startWorld(engine, options);
  if (world === undefined) return undefined;
  try {
    return await measure(engine, world, options);
  } finally {
    world.stop();
  }
}

async function measure(engine, world, { commands, clients }) {
  // Let the election's own traffic settle before counting.
  await world.runUntil(world.now() + 500);
  const before = world.counters();
  const leaderSyncsBefore = world.proposerSyncs();
  const from = world.now();
  let next = 0;
  let done = 0;
  let failed = 0;
  const latencies = [];
  const client = async () => {
    while (next < commands) {
      const t0 = world.now();
      const ok = await world.propose(next++);
      if (ok === true) latencies.push(world.now() - t0);
      else failed++;
      done++;
    }
  };
  for (let k = 0; k < clients; k++) void client();
  await world.runUntil(from + 600_000, () => done === commands);
  const busyMs = world.now() - from;
  const after = world.counters();
  const leaderSyncs = world.proposerSyncs() - leaderSyncsBefore;
  // The same stretch of virtual time with no commands: heartbeats and the like, to subtract.
  await world.runUntil(world.now() + 100);
  const idleFrom = world.counters();
  const idleAt = world.now();
  await world.runUntil(idleAt + busyMs);
  const idle = world.counters();
  const violation = world.violation();
  if (violation !== undefined) throw new Error(`${engine}: simulator violation: ${violation}`);
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
