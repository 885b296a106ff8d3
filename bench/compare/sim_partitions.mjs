// The same partitions, at the same virtual times, for each engine in the simulator: KV clients
// (the simulator's own workload: reads, puts, deletes and compare-and-sets at random members, with
// sessions and retries) run throughout; one partition lasts `faultMs`, then everything heals. Per
// scenario and engine, over `seeds` seeds: the fraction of operations invoked during the partition
// that were acknowledged, the time from the partition to the first acknowledged write invoked after
// it, and the checks: every step's safety checks, liveness after the heal, and the history's
// linearizability. Basic Paxos runs the register service instead (RegisterSim): its clients
// compare-and-set and read four registers at random members, and n1, where no leader exists, takes
// the place each scenario gives the leader.
import { checkHistory } from "../../dist/check/index.js";
import { checkLiveness } from "../../dist/sim/liveness.js";
import { currentLeader } from "../../dist/sim/vopr.js";
import { KvWorkload } from "../../dist/sim/workload.js";
import { checkRegisterHistory } from "../../dist/paxos/basic/register_history.js";
import { utf8 } from "../../dist/util/bytes.js";
import { Prng } from "../../dist/util/prng.js";
import { simOptions, startSim } from "./sim_world.mjs";
import { RegisterSim } from "./sim_registers.mjs";
import { servesKv } from "./engines.mjs";

const faultAt = 1000;
const faultMs = 3000;
const endAt = faultAt + faultMs + 1000;
const clients = 4;

/** Each scenario cuts links given the current leader and the other two members (a and b). */
export const scenarios = [
  {
    name: "isolate leader",
    cut: (net, leader, [a, b]) => net.partition([[leader], [a, b]]),
  },
  {
    name: "isolate follower",
    cut: (net, leader, [a, b]) => net.partition([[a], [leader, b]]),
  },
  {
    name: "leader sends nothing (one-way)",
    cut: (net, leader, [a, b]) => {
      net.cutOneWay(leader, a);
      net.cutOneWay(leader, b);
    },
  },
  {
    name: "bridge: leader and one follower cut apart",
    cut: (net, leader, [a]) => net.partition([[leader], [a]]),
  },
];

async function runScenario(engine, scenario, seed) {
  const options = simOptions(engine, { seed, delayMs: 2, syncMs: 2 });
  const started = await startSim(options);
  if (started === undefined) return undefined;
  const { cluster } = started;
  const kv = new KvWorkload(cluster, new Prng(seed ^ 0xc0ffee), { keys: 4, readMode: "linearizable" });
  const from = cluster.now;
  kv.start(clients, from + endAt, 20);
  await cluster.runUntil(from + faultAt);
  const leader = currentLeader(cluster) ?? cluster.ids[0];
  scenario.cut(
    cluster.network,
    leader,
    cluster.ids.filter((id) => id !== leader),
  );
  cluster.networkChanged();
  const cutAt = cluster.now;
  await cluster.runUntil(cutAt + faultMs);
  cluster.network.heal();
  cluster.networkChanged();
  const healAt = cluster.now;
  await cluster.runUntil(from + endAt);
  if (cluster.checker.violations.length === 0)
    await checkLiveness(cluster, kv, {
      livenessMs: 40 * options.electionTimeoutMs,
      electionTimeoutMs: options.electionTimeoutMs,
    });
  const history = kv.recorder.history();
  if (cluster.checker.violations.length === 0) {
    const checked = checkHistory(history);
    if (!checked.ok) cluster.checker.fail("linearizability", `key ${checked.key}: ${checked.explanation}`);
  }
  return {
    ...windowFigures(history, cutAt, healAt, {
      acked: (o) => o.outcome === "ok",
      ackedWrite: (o) => o.op.type !== "get" && o.outcome === "ok",
      answeredAt: (o) => o.completedAt,
    }),
    violations: cluster.checker.violations.map((v) => `${v.kind}: ${v.message}`),
  };
}

/**
 * A partition's figures from a history, given how an engine's operations say they were
 * acknowledged, were acknowledged writes, and when they were answered: how many were invoked during
 * the partition and acknowledged, and how long after the cut the first write invoked from then on
 * was acknowledged.
 */
function windowFigures(history, cutAt, healAt, { acked, ackedWrite, answeredAt }) {
  const during = history.filter((o) => o.invokedAt >= cutAt && o.invokedAt < healAt);
  const firstWrite = history
    .filter((o) => ackedWrite(o) && o.invokedAt >= cutAt)
    .reduce((t, o) => Math.min(t, answeredAt(o)), Infinity);
  return { ops: during.length, acked: during.filter(acked).length, firstWriteMs: firstWrite - cutAt };
}

/** What one attempt of a register client may wait (virtual ms) before it tries another member. */
const registerTryMs = 1000;
const registerLivenessMs = 12_000;

/**
 * One call of a register client, as the KV clients make theirs: a write up to four attempts at random
 * members, a read one. Basic Paxos has no leader that steps down and fails a request early, so an
 * attempt ends at the client's own timeout (`registerTryMs`).
 */
async function registerCall(sim, prng, op) {
  let member = prng.pick(sim.ids);
  const attempts = op.cas === undefined ? 1 : 4;
  for (let tries = 0; tries < attempts; tries++) {
    const answer = await sim.request(member, op, registerTryMs);
    if (answer.type === "outcome") {
      op.answeredAt = sim.now;
      op.outcome = answer.outcome;
      return;
    }
    await sim.sleep(prng.int(10, 60));
    member = prng.pick(sim.ids);
  }
}

async function runRegisterScenario(scenario, seed) {
  const sim = new RegisterSim({ seed, delayMs: 2, syncMs: 2 });
  try {
    await sim.start();
    return await registerScenario(sim, scenario, seed);
  } finally {
    sim.stop();
  }
}

async function registerScenario(sim, scenario, seed) {
  const prng = new Prng(seed ^ 0xc0ffee);
  const registers = ["r0", "r1", "r2", "r3"];
  const history = [];
  const from = sim.now;
  let running = clients;
  let written = 0;
  const client = async (name) => {
    while (sim.now < from + endAt && sim.violations.length === 0) {
      const register = prng.pick(registers);
      // A writer expects the version a random member has learned, as a client that just read there would.
      const cas = prng.chance(0.4)
        ? undefined
        : { expected: sim.latestKnown(prng.pick(sim.ids), register), value: utf8(`${name}-${written++}`) };
      const op = { register, invokedAt: sim.now, answeredAt: undefined, cas, outcome: undefined };
      history.push(op);
      await registerCall(sim, prng, op);
      await sim.sleep(prng.int(1, 21));
    }
    running--;
  };
  for (let k = 0; k < clients; k++) void client(`c${k}`);
  await sim.runUntil(from + faultAt);
  const [n1, ...others] = sim.ids;
  scenario.cut(sim.network, n1, others);
  const cutAt = sim.now;
  await sim.runUntil(cutAt + faultMs);
  sim.network.heal();
  const healAt = sim.now;
  await sim.runUntil(from + endAt + 4 * (registerTryMs + 60), () => running === 0);
  // Liveness: after the heal, every member has a write of its own chosen.
  const unanswered = [];
  for (const id of sim.ids) {
    let answer;
    void sim
      .request(id, { register: `liveness-${id}`, cas: { expected: 0, value: utf8(`n${id}`) } })
      .then((a) => (answer = a));
    await sim.runUntil(sim.now + registerLivenessMs, () => answer !== undefined);
    if (answer?.type !== "outcome" || answer.outcome.type !== "written") unanswered.push(`n${id}`);
  }
  const violations = [...sim.violations];
  if (violations.length === 0 && unanswered.length > 0)
    violations.push(
      `liveness: no write chosen at ${unanswered.join(", ")} within ${registerLivenessMs} ms of the heal`,
    );
  if (violations.length === 0) violations.push(...checkRegisterHistory(history).slice(0, 1));
  return {
    // A conflict is an answer, and may come from the member alone (it knew of a later version); only
    // a chosen write shows a quorum was reached.
    ...windowFigures(history, cutAt, healAt, {
      acked: (o) => o.outcome !== undefined,
      ackedWrite: (o) => o.outcome?.type === "written",
      answeredAt: (o) => o.answeredAt,
    }),
    violations,
  };
}

/** Every scenario over `seeds` seeds for one engine; undefined when the simulator does not run it. */
export async function simPartitions(engine, { seeds }) {
  const results = [];
  for (const scenario of scenarios) {
    let ops = 0;
    let acked = 0;
    const firstWrites = [];
    const violations = [];
    for (let seed = 1; seed <= seeds; seed++) {
      const r = servesKv(engine)
        ? await runScenario(engine, scenario, seed)
        : await runRegisterScenario(scenario, seed);
      if (r === undefined) return undefined;
      ops += r.ops;
      acked += r.acked;
      firstWrites.push(r.firstWriteMs);
      violations.push(...r.violations.map((v) => `seed ${seed}: ${v}`));
    }
    firstWrites.sort((a, b) => a - b);
    results.push({
      scenario: scenario.name,
      seeds,
      availability: acked / Math.max(1, ops),
      firstWriteMedianMs: firstWrites[Math.floor(firstWrites.length / 2)],
      violations,
    });
  }
  return { faultMs, results };
}
