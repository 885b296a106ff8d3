// The comparison as Markdown tables, one column per engine; an engine that did not run says why.
import { fmtMs, fmtOps, median } from "../lib/load.mjs";
import { servesKv } from "./engines.mjs";

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");

function table(header, rows) {
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}

/** A cell for engine `name`'s result of `part`, through `show`, or why it has none. */
function cell(report, name, part, show) {
  const r = report.results[name][part];
  if (r === undefined) return "not run";
  if (r.available === false) return r.reason;
  return show(r);
}

/** Why Basic Paxos's column measures something else, under the tables it appears in. */
function registerNote(report, text) {
  const registers = report.engines.filter((name) => !servesKv(name));
  return registers.length > 0 ? `\n\n${registers.join(", ")}: ${text}` : "";
}

function simTable(report) {
  const names = report.engines;
  const sim = (show) => names.map((n) => cell(report, n, "sim", show));
  const any = names.map((n) => report.results[n].sim).find((r) => r !== undefined && r.available !== false);
  const delay = any === undefined ? "" : ` (one-way delay ${any.delayMs} ms, fsync ${any.syncMs} ms)`;
  return (
    `Simulator, 3 members, puts of 100-byte values proposed at the leader${delay}; ` +
    `"net" subtracts an idle stretch of the same length (heartbeats):\n\n` +
    table(
      ["per committed command", ...names],
      [
        [
          "messages, 1 client (net)",
          ...sim((r) => `${f2(r.single.messages)} (${f2(r.single.messages - r.single.idleMessages)})`),
        ],
        [
          "messages, 16 clients (net)",
          ...sim((r) => `${f2(r.batched.messages)} (${f2(r.batched.messages - r.batched.idleMessages)})`),
        ],
        [
          "fsyncs, all members (leader's), 1 client",
          ...sim((r) => `${f2(r.single.syncs)} (${f2(r.single.leaderSyncs)})`),
        ],
        [
          "fsyncs, all members (leader's), 16 clients",
          ...sim((r) => `${f2(r.batched.syncs)} (${f2(r.batched.leaderSyncs)})`),
        ],
        ["round trips before the leader applies (1 client)", ...sim((r) => f2(r.roundTrips))],
        ["fsyncs on that path", ...sim((r) => f2(r.syncsOnPath))],
        ["median latency, 1 client (virtual ms)", ...sim((r) => f1(r.single.medianLatencyMs))],
      ],
    ) +
    registerNote(
      report,
      "no leader and no log: each command is a write-once register named like the put's key (a compare-and-set " +
        "from version 0 of a fresh register, the same 100 bytes), proposed at member n1, in the leader's place; it " +
        "counts once n1 has learned the value chosen.",
    )
  );
}

function partitionTable(report) {
  const names = report.engines;
  const first = names.map((n) => report.results[n].partitions).find((r) => r !== undefined && r.available !== false);
  if (first === undefined)
    return table(["partitions", ...names], [["–", ...names.map((n) => cell(report, n, "partitions", () => ""))]]);
  const rows = first.results.map((s, i) => [
    `${s.scenario} (${s.seeds} seeds)`,
    ...names.map((n) =>
      cell(report, n, "partitions", (r) => {
        const x = r.results[i];
        const checks = x.violations.length === 0 ? "checks clean" : `**${x.violations.length} violations**`;
        return `${(100 * x.availability).toFixed(1)}% acked, first write ${f1(x.firstWriteMedianMs)} ms, ${checks}`;
      }),
    ),
  ]);
  return (
    `Simulator, the same partitions at the same virtual times, ${first.faultMs} ms each; KV clients at random members ` +
    `(reads, puts, deletes, compare-and-sets); "acked" is the share of operations invoked during the partition that were ` +
    `acknowledged; "first write" the median time from the partition to the first acknowledged write invoked after it; ` +
    `the checks are every step's safety checks, liveness after the heal and linearizability:\n\n` +
    table(["scenario", ...names], rows) +
    registerNote(
      report,
      "the register service's clients compare-and-set (60%) and read four registers at random members; n1 is " +
        'cut as "the leader"; a write tries up to four members and a read one, as the KV clients do, and an attempt ' +
        "ends after 1000 ms (no leader steps down to fail it sooner); every answer counts as acknowledged, a conflict " +
        'included, and "first write" counts chosen writes only; the checks are Basic Paxos\'s own (promises ' +
        "kept, one value per instance) on every Ready, a write chosen at every member after the heal, and the " +
        "history's linearizability.",
    )
  );
}

function loadTable(report) {
  const names = report.engines;
  const clients = report.settings.clients;
  const rows = clients.map((k) => [
    `${k} client${k === 1 ? "" : "s"}`,
    ...names.map((n) =>
      cell(report, n, "load", (runs) => {
        const mine = runs.filter((r) => r.clients === k);
        const errors = mine.reduce((s, r) => s + r.errors, 0);
        const changes = mine.reduce((sum, r) => sum + (Number.isFinite(r.leaderChanges) ? r.leaderChanges : 0), 0);
        return (
          `${fmtOps(median(mine.map((r) => r.opsPerSecond)))} ops/s, p50 ${fmtMs(median(mine.map((r) => r.p50)))} ms, ` +
          `p99 ${fmtMs(median(mine.map((r) => r.p99)))} ms${errors > 0 ? `, ${errors} errors` : ""}` +
          (changes > 0 ? `, ${changes} leader changes` : "")
        );
      }),
    ),
  ]);
  return (
    `Real processes, 3 members each, puts of 100-byte values at 1,000 keys, every client on the leader, median of ` +
    `${report.settings.loadRounds} interleaved run(s) of ${report.settings.durationMs / 1000} s:\n\n` +
    table(["clients", ...names], rows) +
    registerNote(report, "every client writes at n1, each request a write-once register of its own.")
  );
}

function faultTable(report) {
  const names = report.engines;
  const failover = (xs) => `median ${fmtMs(median(xs))} ms (${xs.map((x) => x.toFixed(0)).join(", ")})`;
  const catchUp = (name) => (servesKv(name) ? kvCatchUp : registerCatchUp);
  const registerCatchUp = (rs) =>
    `${f2(median(rs.map((r) => r.seconds - r.answeredSeconds)))} s after it answered until it read the last register back ` +
    `(${f2(median(rs.map((r) => r.answeredSeconds)))} s to start), ${(median(rs.map((r) => r.bytes)) / 1e6).toFixed(2)} MB; nothing fetched from the others`;
  const kvCatchUp = (rs) =>
    `${f2(median(rs.map((r) => r.seconds - r.answeredSeconds)))} s after it answered (${f2(median(rs.map((r) => r.answeredSeconds)))} s to start), ` +
    `${(median(rs.map((r) => r.bytes)) / 1e6).toFixed(2)} MB = ${fmtOps(median(rs.map((r) => r.bytesPerKey)))} B/key, ` +
    (rs.every((r) => Number.isFinite(r.snapshotsInstalled))
      ? `snapshots installed ${rs.map((r) => r.snapshotsInstalled).join(", ")}`
      : "snapshots installed not recorded");
  return (
    `Real processes: the time from the leader's SIGKILL to the next acknowledged write (${report.settings.failoverRounds} rounds), ` +
    `and a follower killed while ${report.settings.catchUpKeys.toLocaleString("en-US")} keys are written, then restarted: ` +
    `the time from its first answer to /v1/status until its applied index reaches the leader's commit index, and the bytes the others sent it from its restart on ` +
    `(median of ${report.settings.catchUpRounds}):\n\n` +
    table(
      ["", ...names],
      [
        ["leader SIGKILL → next acknowledged write", ...names.map((n) => cell(report, n, "failover", failover))],
        ["restarted follower up to date", ...names.map((n) => cell(report, n, "catchup", catchUp(n)))],
      ],
    ) +
    registerNote(
      report,
      "the member killed is n1, where the clients write; the probe then writes fresh registers at the others. A " +
        "restarted member has nothing to fetch from the others (a read is a quorum round): it is up to date once it reads back, at " +
        "version 1, the last register written while it was down.",
    )
  );
}

/** Why each engine without figures has none, once per engine and reason. */
function absences(report) {
  const lines = new Set();
  for (const name of report.engines)
    for (const r of Object.values(report.results[name]))
      if (r.available === false) lines.add(`- ${name}: ${r.reason}${r.detail === undefined ? "" : ` (${r.detail})`}`);
  return lines.size === 0 ? [] : [[...lines].join("\n")];
}

/** The whole report: when, how, the load it ran under, and the tables. */
export function renderReport(report) {
  const loads = report.loads.map((l) => l.load.split(" ")[0]).map(Number);
  const range = loads.length === 0 ? "–" : `${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`;
  return [
    `compare:engines ${report.quick ? "--quick " : ""}on ${report.date}; 1-minute load average over the run ${range}`,
    simTable(report),
    partitionTable(report),
    loadTable(report),
    faultTable(report),
    ...absences(report),
  ].join("\n\n");
}
