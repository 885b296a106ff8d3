// The consensus engines compared on one workload (issue 19; docs/engines-compared.md): messages,
// syncs and round trips per committed command and the partition scenarios in the simulator; then,
// on real 3-member `raftkv serve --engine <name>` clusters, throughput and p50/p99 at 1, 16 and 64
// clients, the time from the leader's SIGKILL to the next acknowledged write, and what bringing a
// restarted follower up to date costs. Engines are interleaved wherever they run on real processes,
// and the machine's load average is printed before and after each engine's part. Basic Paxos serves
// registers: its column measures write-once registers where the others measure puts (compare/*.mjs).
// Usage: npm run compare:engines [-- --quick] [--engines raft,multi-paxos] [--parts sim,partitions,load,failover,catchup]
//        [--catchup-keys 12000] [--catchup-rounds 2] [--json results.json]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseDuration } from "./lib/load.mjs";
import { onExit } from "./lib/procs.mjs";
import { notInBuild, selectEngines, unavailable } from "./compare/engines.mjs";
import { simCosts } from "./compare/sim_costs.mjs";
import { simulatorRuns } from "./compare/sim_world.mjs";
import { simPartitions } from "./compare/sim_partitions.mjs";
import { startCluster, stopCluster } from "./compare/cluster.mjs";
import { throughput } from "./compare/real_load.mjs";
import { catchUp, failoverOnce } from "./compare/real_faults.mjs";
import { renderReport } from "./compare/report.mjs";

const allParts = ["sim", "partitions", "load", "failover", "catchup"];
const { values: opts } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    engines: { type: "string" },
    parts: { type: "string", default: allParts.join(",") },
    json: { type: "string" },
    "catchup-keys": { type: "string" },
    "catchup-rounds": { type: "string" },
  },
});
const quick = opts.quick;
const settings = {
  commands: quick ? 100 : 500,
  seeds: quick ? 2 : 10,
  clients: [1, 16, 64],
  warmupMs: parseDuration(quick ? "1s" : "2s"),
  durationMs: parseDuration(quick ? "3s" : "10s"),
  loadRounds: quick ? 1 : 3,
  failoverRounds: quick ? 2 : 6,
  catchUpKeys: Number(opts["catchup-keys"] ?? (quick ? 2000 : 12_000)),
  catchUpRounds: Number(opts["catchup-rounds"] ?? (quick ? 1 : 2)),
};
const parts = opts.parts.split(",").map((p) => p.trim());
for (const p of parts) if (!allParts.includes(p)) throw new Error(`unknown part ${p}; parts: ${allParts.join(", ")}`);
const engines = selectEngines(opts.engines);
const dir = mkdtempSync(join(tmpdir(), "raftkv-compare-"));
onExit(() => rmSync(dir, { recursive: true, force: true }));

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
const loads = [];
function noteLoad(part, engine, when) {
  const entry = { part, engine, when, load: load() };
  loads.push(entry);
  console.log(`  load average ${when} ${engine} ${part}: ${entry.load}`);
}

const results = Object.fromEntries(engines.map((e) => [e.name, {}]));

async function simulatorPart(part, measure) {
  for (const engine of engines) {
    // The register service runs in its own simulator (compare/sim_registers.mjs), not the KV one.
    if (engine.kv && !simulatorRuns(engine.name))
      results[engine.name][part] = unavailable(notInBuild, `the simulator refuses --engine ${engine.name}`);
    else {
      noteLoad(part, engine.name, "before");
      results[engine.name][part] =
        (await measure(engine.name)) ??
        unavailable(notInBuild, `the simulator ran another engine under the name ${engine.name}`);
      noteLoad(part, engine.name, "after");
    }
    console.log(`${part} ${engine.name}: ${JSON.stringify(results[engine.name][part])}`);
  }
}

if (parts.includes("sim"))
  await simulatorPart("sim", (name) => simCosts(name, { seed: 1, commands: settings.commands }));
if (parts.includes("partitions"))
  await simulatorPart("partitions", (name) => simPartitions(name, { seeds: settings.seeds }));

const realParts = parts.filter((p) => ["load", "failover", "catchup"].includes(p));
if (realParts.length > 0) {
  // Every engine's cluster runs at once, so each measurement below can alternate between engines.
  const clusters = [];
  for (const engine of engines) {
    const cluster = await startCluster(engine.name, dir);
    const reason = unavailable(notInBuild, `raftkv serve refuses --engine ${engine.name}`);
    if (cluster === undefined) for (const p of realParts) results[engine.name][p] = reason;
    else clusters.push(cluster);
  }
  /**
   * Runs one measurement of `part` on cluster `c`; a failure (a cluster with no writable leader for
   * long, say) marks that engine's part failed, with why, and the run goes on with the others.
   */
  const measure = async (c, part, label, run, show) => {
    if (results[c.engine][part]?.available === false) return;
    noteLoad(label, c.engine, "before");
    try {
      const r = await run();
      (results[c.engine][part] ??= []).push(r);
      console.log(`${label} ${c.engine}: ${show(r)}`);
    } catch (error) {
      results[c.engine][part] = unavailable("failed", error instanceof Error ? error.message : String(error));
      console.log(`${label} ${c.engine}: failed: ${results[c.engine][part].detail}`);
    }
    noteLoad(label, c.engine, "after");
  };
  try {
    if (realParts.includes("load"))
      for (let round = 1; round <= settings.loadRounds; round++)
        for (const clients of settings.clients)
          for (const c of clusters)
            await measure(
              c,
              "load",
              `load round ${round}, ${clients} clients`,
              async () => ({
                round,
                clients,
                ...(await throughput(c, { clients, warmupMs: settings.warmupMs, durationMs: settings.durationMs })),
              }),
              (r) =>
                `${r.opsPerSecond.toFixed(0)} ops/s p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms, ` +
                `errors ${r.errors} ${JSON.stringify(r.statuses)}` +
                (r.leaderChanges === undefined ? "" : `, leader changes ${r.leaderChanges}`),
            );
    if (realParts.includes("failover"))
      for (let round = 1; round <= settings.failoverRounds; round++)
        for (const c of clusters)
          await measure(
            c,
            "failover",
            `failover round ${round}`,
            () => failoverOnce(c, round),
            (ms) => `first acknowledged write ${ms.toFixed(0)} ms after SIGKILL`,
          );
    if (realParts.includes("catchup"))
      for (let round = 1; round <= settings.catchUpRounds; round++)
        for (const c of clusters)
          await measure(
            c,
            "catchup",
            `catch-up round ${round}`,
            () => catchUp(c, { keys: settings.catchUpKeys }),
            (r) => JSON.stringify(r),
          );
  } finally {
    for (const c of clusters) await stopCluster(c);
  }
}

const report = { date: new Date().toISOString(), quick, settings, engines: engines.map((e) => e.name), results, loads };
if (opts.json !== undefined) writeFileSync(opts.json, JSON.stringify(report, null, 2));
console.log("\n" + renderReport(report));
