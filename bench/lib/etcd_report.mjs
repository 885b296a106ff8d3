// The tables bench/etcd.mjs prints: per point, every target's medians (min–max over the rounds),
// the load generator's CPU per call, the machine's load; then raftkv over each of its protocols
// against etcd over native gRPC on one shared connection (etcd's fastest interface, and the way
// its own clients connect), with etcd's JSON gateway beside it, labelled.
import { cpus } from "node:os";
import { fmtMs, fmtOps, median } from "./load.mjs";

/** The yardstick: etcd as its users run it. */
export const baseline = "etcd-grpc";
/** What each target is, in the tables. */
export const targetLabels = {
  "etcd-grpc": "etcd, native gRPC (one shared HTTP/2 connection)",
  "etcd-gw": "etcd, JSON gateway (HTTP/1.1, a connection per client)",
  "raftkv-http": "raftkv, its HTTP API (HTTP/1.1, a connection per client)",
  "raftkv-grpc": "raftkv, etcd's gRPC API (one shared HTTP/2 connection)",
  bare: "bare in-memory node:http KV (no Raft, no disk): the HTTP/1.1 ceiling",
  "raftkv-http-before": "raftkv, the build given by --before-cli, its HTTP API",
};
const contenders = ["raftkv-http", "raftkv-grpc", "raftkv-http-before"];

const stat = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
export const fmtRatio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : "–");
export const fmtPct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : "–");
export const fmtUs = (x) => (Number.isFinite(x) ? `${Math.round(x)} µs` : "–");
const fmtLoad = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const range = (s, f) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

function summarizeRuns(runs, op) {
  const disk = runs.filter((r) => r.disk !== undefined && r.disk.fsyncs > 0 && op === "put");
  return {
    runs: runs.length,
    opsPerSecond: stat(runs.map((r) => r.opsPerSecond)),
    p50: stat(runs.map((r) => r.p50)),
    p99: stat(runs.map((r) => r.p99)),
    p999: stat(runs.map((r) => r.p999)),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    statuses: runs.map((r) => r.statuses).filter((s) => Object.keys(s).length > 0),
    cpu: {
      leader: median(runs.map((r) => r.cpu.leader)),
      others: median(runs.map((r) => r.cpu.others)),
      loadgen: median(runs.map((r) => r.cpu.loadgen)),
      loadgenUsPerCall: median(runs.map((r) => r.cpu.loadgenUsPerCall)),
      foreign: median(runs.map((r) => r.cpu.foreign)),
    },
    loadavg: { before: median(runs.map((r) => r.loadavg.before)), after: median(runs.map((r) => r.loadavg.after)) },
    entriesPerFsync: disk.length > 0 ? stat(disk.map((r) => r.disk.entriesPerFsync)) : undefined,
    fsyncMs: disk.length > 0 ? median(disk.map((r) => r.disk.fsyncMs)) : undefined,
    disturbed: runs.filter((r) => r.disturbed).length,
    leaderChanges: runs.filter((r) => r.leaderChanged !== undefined).map((r) => r.leaderChanged),
  };
}

/** summary[point][target]: medians over the rounds. */
export function summarize(results, points, targetNames) {
  const summary = {};
  for (const point of points) {
    summary[point.name] = {};
    for (const name of targetNames) {
      const runs = results.filter((r) => r.point === point.name && r.target === name);
      if (runs.length > 0) summary[point.name][name] = summarizeRuns(runs, point.op);
    }
  }
  return summary;
}

function printPoint(point, s, targetNames) {
  const where = point.spread ? "clients spread over all members" : "to the leader";
  const what = point.op === "get" ? "linearizable gets" : "puts";
  console.log(`\n### ${point.name}: ${what}, ${point.clients} client${point.clients === 1 ? "" : "s"}, ${where}\n`);
  console.log(
    "| target | ops/s median (min–max) | p50 ms | p99 ms | p99.9 ms | errors | CPU leader / others / loadgen | loadgen CPU per call | load avg before → after | not ours |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const name of targetNames) {
    const t = s[name];
    if (t === undefined) continue;
    const others = name === "bare" ? "–" : fmtPct(t.cpu.others);
    const disturbed = t.disturbed > 0 ? ` (${t.disturbed} of ${t.runs} runs disturbed)` : "";
    console.log(
      `| ${name} | ${range(t.opsPerSecond, fmtOps)} | ${range(t.p50, fmtMs)} | ${range(t.p99, fmtMs)} | ${range(t.p999, fmtMs)} | ${t.errors} | ${fmtPct(t.cpu.leader)} / ${others} / ${fmtPct(t.cpu.loadgen)} | ${fmtUs(t.cpu.loadgenUsPerCall)} | ${fmtLoad(t.loadavg.before)} → ${fmtLoad(t.loadavg.after)} | ${fmtPct(t.cpu.foreign)}${disturbed} |`,
    );
  }
  const base = s[baseline];
  for (const name of contenders) {
    const t = s[name];
    if (base === undefined || t === undefined) continue;
    console.log(
      `| **${name} / ${baseline}** | **${fmtRatio(t.opsPerSecond.median / base.opsPerSecond.median)}** | ${fmtRatio(t.p50.median / base.p50.median)} | ${fmtRatio(t.p99.median / base.p99.median)} | ${fmtRatio(t.p999.median / base.p999.median)} | | | | | |`,
    );
  }
  for (const name of targetNames) {
    const t = s[name];
    if (t?.leaderChanges.length > 0)
      console.log(`\n${name}: leader changed during ${t.leaderChanges.length} run(s): ${t.leaderChanges.join(", ")}`);
    if (t?.statuses.length > 0)
      console.log(
        `\n${name}: failed calls ${JSON.stringify(t.statuses)} (0 = connection failed; grpc:N = gRPC status N)`,
      );
  }
}

function printSummary(summary, points, targetNames) {
  console.log("\n### Summary (medians; ratios against etcd over native gRPC)\n");
  const shown = contenders.filter((n) => targetNames.includes(n));
  console.log(
    `| point | ${targetNames.map((n) => `${n} ops/s`).join(" | ")} | ${shown.map((n) => `${n}/${baseline} ops/s, p50, p99`).join(" | ")} |`,
  );
  console.log(`|---|${targetNames.map(() => "---|").join("")}${shown.map(() => "---|").join("")}`);
  for (const point of points) {
    const s = summary[point.name];
    const r = (name, k) => s[name]?.[k].median / s[baseline]?.[k].median;
    const ratios = shown.map(
      (n) => `${fmtRatio(r(n, "opsPerSecond"))}, ${fmtRatio(r(n, "p50"))}, ${fmtRatio(r(n, "p99"))}`,
    );
    console.log(
      `| ${point.name} | ${targetNames.map((n) => fmtOps(s[n]?.opsPerSecond.median)).join(" | ")} | ${ratios.join(" | ")} |`,
    );
  }
}

function printGroupCommit(summary, points, targetNames) {
  const withDisk = targetNames.filter((n) => n !== "bare");
  console.log("\n### Group commit on the leader (entries per fsync, fsync ms; over the measured window)\n");
  console.log(`| point | ${withDisk.join(" | ")} |`);
  console.log(`|---|${withDisk.map(() => "---|").join("")}`);
  for (const point of points.filter((p) => p.op === "put")) {
    const cells = withDisk.map((n) => {
      const t = summary[point.name][n];
      return t?.entriesPerFsync === undefined
        ? "–"
        : `${range(t.entriesPerFsync, (x) => x.toFixed(1))}, ${fmtMs(t.fsyncMs)} ms`;
    });
    console.log(`| ${point.name} | ${cells.join(" | ")} |`);
  }
}

export function printTables(summary, points, targetNames, maxOther) {
  console.log("\nTargets:");
  for (const name of targetNames) console.log(`- ${name}: ${targetLabels[name]}`);
  console.log(
    `\nCPU columns: % of one core over the measured window (this machine has ${cpus().length}): the leader (the bare server for bare), the other two members together, the load generator (this process; its CPU per completed call beside it, to show it is not the bottleneck); load avg: the machine's 1-minute load average just before and just after the runs; "not ours": busy CPU of processes this benchmark did not start (a run is disturbed above ${fmtPct(maxOther)}).`,
  );
  for (const point of points) printPoint(point, summary[point.name], targetNames);
  printSummary(summary, points, targetNames);
  printGroupCommit(summary, points, targetNames);
}

/** Issue 18's targets, for each raftkv protocol against etcd over gRPC: noted, never asserted. */
export function printTargets(summary) {
  const lines = [];
  const get = (p, t) => summary[p]?.[t];
  const check = (label, value, ok, shown) => {
    if (value === undefined || !Number.isFinite(value)) return;
    lines.push(`- ${ok(value) ? "met    " : "NOT met"}  ${label}: ${shown(value)}`);
  };
  for (const name of contenders) {
    const ratio = (p, k) => get(p, name)?.[k].median / get(p, baseline)?.[k].median;
    for (const p of ["put@64", "put@256"])
      check(`${name} ${p} throughput ≥ 1.5× etcd`, ratio(p, "opsPerSecond"), (v) => v >= 1.5, fmtRatio);
    for (const p of ["get@16", "get@64", "get@256"])
      check(`${name} ${p} throughput ≥ 2× etcd`, ratio(p, "opsPerSecond"), (v) => v >= 2, fmtRatio);
    check(
      `${name} put@1 p50 ≤ 0.6 ms`,
      get("put@1", name)?.p50.median,
      (v) => v <= 0.6,
      (v) => `${fmtMs(v)} ms`,
    );
    for (const p of ["put@64", "put@256"])
      check(`${name} ${p} p99 ≤ 0.5× etcd`, ratio(p, "p99"), (v) => v <= 0.5, fmtRatio);
  }
  if (lines.length > 0)
    console.log(
      `\n### Targets of issue 18 against ${baseline} (noted, not asserted; memory: npm run bench:memory)\n\n${lines.join("\n")}`,
    );
}
