// The same partitions, at the same virtual times, for each engine in the simulator: KV clients
// (the simulator's own workload: reads, puts, deletes and compare-and-sets at random members, with
// sessions and retries) run throughout; one partition lasts `faultMs`, then everything heals. Per
// scenario and engine, over `seeds` seeds: the fraction of operations invoked during the partition
// that were acknowledged, the time from the partition to the first acknowledged write invoked after
// it, and the checks: every step's safety checks, liveness after the heal, and the history's
// linearizability.
import { checkHistory } from "../../dist/check/index.js";
import { checkLiveness } from "../../dist/sim/liveness.js";
import { currentLeader } from "../../dist/sim/vopr.js";
import { KvWorkload } from "../../dist/sim/workload.js";
import { Prng } from "../../dist/util/prng.js";
import { simOptions, startSim } from "./sim_world.mjs";

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
  const during = history.filter((o) => o.invokedAt >= cutAt && o.invokedAt < healAt);
  const firstWrite = history
    .filter((o) => o.op.type !== "get" && o.outcome === "ok" && o.invokedAt >= cutAt)
    .reduce((t, o) => Math.min(t, o.completedAt), Infinity);
  return {
    ops: during.length,
    acked: during.filter((o) => o.outcome === "ok").length,
    firstWriteMs: firstWrite - cutAt,
    violations: cluster.checker.violations.map((v) => `${v.kind}: ${v.message}`),
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
      const r = await runScenario(engine, scenario, seed);
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
