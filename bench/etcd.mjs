// raftkv beside etcd on the same machine (issues 7 and 18).
//
// Starts a 3-member etcd and a 3-member raftkv on loopback, both durable (bench/lib/etcd_and_raftkv.mjs),
// and loads each through its interfaces from one closed-loop load generator in this process:
//   etcd-grpc    etcd's native gRPC API, every client on ONE shared HTTP/2 connection (as etcd's own
//                clients connect), via the repo's gRPC client and etcd codecs (bench/lib/grpc_load.mjs);
//   etcd-gw      etcd's JSON gateway (HTTP/1.1, a keep-alive connection per client; bench/lib/load.mjs);
//   raftkv-http  raftkv's HTTP API (HTTP/1.1, a keep-alive connection per client);
//   raftkv-grpc  raftkv's etcd-compatible gRPC API, with the same client as etcd-grpc;
//   bare         (optional) an in-memory node:http KV with no Raft and no disk: the HTTP/1.1 ceiling.
// 16-byte keys, 128-byte values, 10 000 keys preloaded. Each point is measured after a warm-up;
// runs alternate target by target within a point, round after round, so machine drift hits all
// alike. The machine's load average is printed before and after each run, and the load generator's
// CPU per call beside it, so a reader can see that it is not the bottleneck.
//
// Usage: npm run bench:etcd [-- --duration 3s --warmup 1s --rounds 3 --points put@1,...,get@256
//                                --targets etcd-grpc,etcd-gw,raftkv-http,raftkv-grpc --quick --out results.json --keep]
// Points: put@N and get@N (linearizable) send every request to the leader; put-spread@N spreads
// the clients over all members (followers forward). The defaults finish in about 9 minutes here.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startBare, startEtcd, startRaftkv } from "./lib/etcd_and_raftkv.mjs";
import { fmtPct, fmtUs, printTables, printTargets, summarize } from "./lib/etcd_report.mjs";
import { grpcGet, grpcPut, openSharedGrpc } from "./lib/grpc_load.mjs";
import { closedLoop, fmtMs, fmtOps, openConns, parseDuration, seededRandom, sendAll } from "./lib/load.mjs";
import {
  cpuSecondsOf,
  foreignLoad,
  http,
  machineBusySeconds,
  memoryOf,
  onExit,
  ourCpuSeconds,
  stopProcess,
  waitFor,
} from "./lib/procs.mjs";

const { values: opts } = parseArgs({
  options: {
    duration: { type: "string", default: "3s" },
    warmup: { type: "string", default: "1s" },
    rounds: { type: "string", default: "3" },
    points: { type: "string", default: "put@1,put@16,put@64,put@256,get@1,get@16,get@64,get@256" },
    targets: { type: "string", default: "etcd-grpc,etcd-gw,raftkv-http,raftkv-grpc" },
    keys: { type: "string", default: "10000" },
    quick: { type: "boolean", default: false },
    out: { type: "string" },
    keep: { type: "boolean", default: false },
    "etcd-bin": { type: "string" },
    // Another raftkv build (its dist/cli/main.js), loaded as the target raftkv-http-before: a change's
    // before and after in one interleaved run.
    "before-cli": { type: "string" },
    "idle-wait": { type: "string", default: "30s" },
    "max-other": { type: "string", default: "0.3" },
    "wait-budget": { type: "string", default: "1m" },
    help: { type: "boolean", default: false },
  },
});
if (opts.help) {
  console.log(
    "usage: npm run bench:etcd [-- --duration 3s --warmup 1s --rounds 3 --points put@1,...,get@256,put-spread@64\n" +
      "                             --targets etcd-grpc,etcd-gw,raftkv-http,raftkv-grpc,bare --keys 10000 --quick\n" +
      "                             --out FILE.json --keep --etcd-bin PATH --max-other 0.3 --idle-wait 30s --wait-budget 1m\n" +
      "                             --before-cli OTHER/dist/cli/main.js (with the target raftkv-http-before)]\n" +
      "On a shared machine, before each run wait up to --idle-wait for the CPU used by processes this benchmark did\n" +
      "not start to drop below --max-other cores, and redo (twice at most) a run during which it was above; all this\n" +
      "waiting and redoing stops once --wait-budget is spent. Runs still disturbed are counted in the tables.",
  );
  process.exit(0);
}
if (opts.quick) {
  opts.duration = "1s";
  opts.warmup = "500ms";
  opts.rounds = "1";
}

const durationMs = parseDuration(opts.duration);
const warmupMs = parseDuration(opts.warmup);
const idleWaitMs = parseDuration(opts["idle-wait"]);
const maxOther = Number(opts["max-other"]);
let waitBudgetMs = parseDuration(opts["wait-budget"]);
const rounds = Number(opts.rounds);
const keyCount = Number(opts.keys);
const targetNames = opts.targets.split(",");
const points = opts.points.split(",").map((text) => {
  const m = /^(put|get|put-spread)@(\d+)$/.exec(text);
  if (m === null) throw new Error(`bad point ${text} (use put@N, get@N or put-spread@N)`);
  return { name: text, op: m[1] === "get" ? "get" : "put", spread: m[1] === "put-spread", clients: Number(m[2]) };
});

// ---------------------------------------------------------------------------------------------
// Keys, values and requests (HTTP/1.1 ones pre-encoded as bytes; gRPC ones encoded per call by the
// client, as etcd's clients do).

const keyBytes = 16;
const valueBytes = 128;
const keyOf = (i) => `key${String(i).padStart(keyBytes - 3, "0")}`;
const valueOf = (i) => (String(i).padStart(8, "0") + "abcdefghijklmnopqrstuvwxyz".repeat(5)).slice(0, valueBytes);
const b64 = (s) => Buffer.from(s).toString("base64");

function rawRequest(method, path, body, contentType) {
  const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${contentType ? `Content-Type: ${contentType}\r\n` : ""}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return Buffer.from(head + body);
}

const httpPaths = {
  // etcd 3.4's grpc-gateway: JSON bodies, bytes as base64; a range is linearizable unless serializable:true.
  etcd: {
    put: (i) =>
      rawRequest(
        "POST",
        "/v3/kv/put",
        JSON.stringify({ key: b64(keyOf(i)), value: b64(valueOf(i)) }),
        "application/json",
      ),
    get: (i) => rawRequest("POST", "/v3/kv/range", JSON.stringify({ key: b64(keyOf(i)) }), "application/json"),
  },
  // raftkv (SPEC §2): PUT with the value bytes as body; GET is linearizable (ReadIndex) by default.
  raftkv: {
    put: (i) => rawRequest("PUT", `/v1/kv/${keyOf(i)}`, valueOf(i)),
    get: (i) => rawRequest("GET", `/v1/kv/${keyOf(i)}`, ""),
  },
};
const grpcCalls = { put: (i) => grpcPut(keyOf(i), valueOf(i)), get: (i) => grpcGet(keyOf(i)) };

/** Each target: the system it loads and how its clients connect and encode. */
const targetKinds = {
  "etcd-grpc": { system: "etcd", open: openSharedGrpc, encode: grpcCalls },
  "etcd-gw": { system: "etcd", open: openConns, encode: httpPaths.etcd },
  "raftkv-http": { system: "raftkv", open: openConns, encode: httpPaths.raftkv },
  "raftkv-grpc": { system: "raftkv", open: openSharedGrpc, encode: grpcCalls },
  bare: { system: "bare", open: openConns, encode: httpPaths.raftkv },
  "raftkv-http-before": { system: "raftkv-before", open: openConns, encode: httpPaths.raftkv },
};
for (const name of targetNames)
  if (targetKinds[name] === undefined)
    throw new Error(`unknown target ${name} (use ${Object.keys(targetKinds).join(", ")})`);
const systemNames = [...new Set(targetNames.map((name) => targetKinds[name].system))];
if (systemNames.includes("raftkv-before") && opts["before-cli"] === undefined)
  throw new Error("the target raftkv-http-before needs --before-cli PATH (an earlier build's dist/cli/main.js)");

function requestTable(target, op) {
  return Array.from({ length: keyCount }, (_, i) => targetKinds[target].encode[op](i));
}

// ---------------------------------------------------------------------------------------------
// One run: a point against a target.

const rng = seededRandom();

async function waitForQuiet() {
  const started = performance.now();
  const deadline = started + Math.min(idleWaitMs, waitBudgetMs);
  let load = await foreignLoad(300);
  while (load > maxOther && performance.now() < deadline) load = await foreignLoad(1000);
  waitBudgetMs -= performance.now() - started;
  return load;
}

/** A run, redone (twice at most, while the wait budget lasts) when other work disturbed it. */
async function runUndisturbed(target, point, requests) {
  for (let attempt = 1; ; attempt++) {
    const r = await runPoint(target, point, requests);
    r.disturbed = r.cpu.foreign > maxOther;
    r.attempt = attempt;
    if (!r.disturbed || attempt === 3 || waitBudgetMs <= 0) return r;
    waitBudgetMs -= r.runMs; // the waiting before it was counted in waitForQuiet
    console.log(`  (${target} ${point.name}: ${fmtPct(r.cpu.foreign)} of a core used by other processes; redoing)`);
  }
}

/** CPU counters of the run's processes and of the machine, to difference over the measured window. */
function cpuSampler(system, leader) {
  const pids = { leader: leader.child.pid, others: system.members.filter((m) => m !== leader).map((m) => m.child.pid) };
  return () => ({
    leader: cpuSecondsOf(pids.leader),
    others: pids.others.map(cpuSecondsOf).reduce((a, b) => a + b, 0),
    loadgen: process.cpuUsage(),
    ours: ourCpuSeconds(),
    busy: machineBusySeconds(),
    at: performance.now(),
  });
}

function cpuOver(from, to, calls) {
  const seconds = (to.at - from.at) / 1000;
  const loadgenUs = to.loadgen.user + to.loadgen.system - from.loadgen.user - from.loadgen.system;
  return {
    leader: (to.leader - from.leader) / seconds,
    others: (to.others - from.others) / seconds,
    loadgen: loadgenUs / 1e6 / seconds,
    loadgenUsPerCall: loadgenUs / calls,
    // Busy cores not used by our processes (other work on a shared machine), during the window.
    foreign: (to.busy - from.busy - (to.ours - from.ours)) / seconds,
  };
}

function diskOver(a, b) {
  if (a === undefined || b === undefined) return undefined;
  const fsyncs = b.fsyncs - a.fsyncs;
  return {
    fsyncs,
    entries: b.entries - a.entries,
    entriesPerFsync: (b.entries - a.entries) / fsyncs,
    fsyncMs: ((b.fsyncSeconds - a.fsyncSeconds) / fsyncs) * 1000,
  };
}

async function runPoint(target, point, requests) {
  const foreignBefore = await waitForQuiet();
  const loadBefore = loadavg()[0];
  const runStarted = performance.now();
  const system = systems[targetKinds[target].system];
  const leader = await waitFor(`${target} to have a leader`, () => system.leader());
  const addresses = Array.from(
    { length: point.clients },
    (_, i) => (point.spread ? system.members[i % system.members.length] : leader).client,
  );
  const conns = await targetKinds[target].open(addresses);
  const table = requests[target][point.op];
  const cpuNow = cpuSampler(system, leader);
  let cpuFrom, cpuTo, metricsFrom, metricsTo;
  const scrape = () =>
    system.fsyncCounters === undefined
      ? undefined
      : http(system.url(leader, system.metricsPath)).then(
          (r) => system.fsyncCounters(r.text),
          () => undefined, // a scrape that timed out on a busy machine costs the run its disk figures, not the run
        );
  const result = await closedLoop({
    conns,
    nextRequest: () => table[Math.floor(rng() * table.length)],
    warmupMs,
    durationMs,
    hooks: {
      warm: () => {
        cpuFrom = cpuNow();
        metricsFrom = scrape();
      },
      end: () => {
        cpuTo = cpuNow();
        metricsTo = scrape();
      },
    },
  });
  conns.forEach((c) => c.close());
  result.cpu = cpuOver(cpuFrom, cpuTo, result.ops + result.errors);
  result.disk = diskOver(...(await Promise.all([metricsFrom, metricsTo])));
  const leaderAfter = await system.leader().catch(() => undefined);
  result.leader = leader.name;
  result.foreignBefore = foreignBefore;
  result.loadavg = { before: loadBefore, after: loadavg()[0] };
  result.runMs = performance.now() - runStarted;
  if (leaderAfter !== leader) result.leaderChanged = `${leader.name} -> ${leaderAfter?.name ?? "none"}`;
  return result;
}

function printRun(round, point, target, r) {
  const disk =
    r.disk && r.disk.fsyncs > 0 && point.op === "put" ? `, ${r.disk.entriesPerFsync.toFixed(1)} entries/fsync` : "";
  const errs = r.errors > 0 ? `, ${r.errors} errors ${JSON.stringify(r.statuses)}` : "";
  console.log(
    `round ${round} ${point.name.padEnd(8)} ${target.padEnd(11)} ${fmtOps(r.opsPerSecond).padStart(7)} ops/s  p50 ${fmtMs(r.p50)} p99 ${fmtMs(r.p99)} p99.9 ${fmtMs(r.p999)} ms  cpu ${fmtPct(r.cpu.leader)}/${fmtPct(r.cpu.others)}/${fmtPct(r.cpu.loadgen)} loadgen ${fmtUs(r.cpu.loadgenUsPerCall)}/call  load ${r.loadavg.before.toFixed(2)}→${r.loadavg.after.toFixed(2)} other ${fmtPct(r.cpu.foreign)}${r.disturbed ? " DISTURBED" : ""}${disk}${errs}${r.leaderChanged ? `, leader ${r.leaderChanged}` : ""}`,
  );
}

/** Writes every key once through the system's HTTP interface, so gets find them on every target. */
async function preload(name) {
  const t0 = performance.now();
  let todo =
    requests[targetNames.find((t) => targetKinds[t].system === name && targetKinds[t].open === openConns)]?.put;
  if (todo === undefined) todo = Array.from({ length: keyCount }, (_, i) => httpPaths[name].put(i));
  let leader;
  for (let attempt = 1; todo.length > 0; attempt++) {
    leader = await waitFor(`${name} to have a leader`, () => systems[name].leader());
    const conns = await openConns(Array.from({ length: 64 }, () => leader.client));
    const { failed, statuses } = await sendAll(conns, todo);
    conns.forEach((c) => c.close());
    if (failed.length > 0)
      console.log(
        `${name}: ${failed.length} preload puts failed ${JSON.stringify(statuses)} (0 = connection failed); retrying them`,
      );
    if (failed.length > 0 && attempt === 5)
      throw new Error(`${name}: preload puts still fail after ${attempt} attempts`);
    todo = failed.map((i) => todo[i]);
  }
  await waitFor(
    `${name} to read a preloaded key back`,
    async () => ((await systems[name].check(keyOf(keyCount - 1))) ? true : undefined),
    { timeoutMs: 10_000 },
  );
  console.log(
    `${name}: preloaded ${keyCount} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s (leader ${leader.name})`,
  );
}

// ---------------------------------------------------------------------------------------------
// Main.

const startedAt = Date.now();
const dir = mkdtempSync(join(tmpdir(), "raftkv-bench-etcd-"));
onExit(() => {
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });
});
console.log(`# raftkv vs etcd, ${new Date().toISOString()}`);
console.log(
  `data under ${dir}; ${rounds} round(s) of ${points.length} point(s) × ${targetNames.join(", ")}; ${warmupMs / 1000} s warm-up + ${durationMs / 1000} s measured per run; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);

const systems = {};
const starters = {
  etcd: (d) => startEtcd(d, opts["etcd-bin"]),
  raftkv: startRaftkv,
  "raftkv-before": (d) => startRaftkv(d, undefined, opts["before-cli"]),
  bare: startBare,
};
for (const name of systemNames) {
  mkdirSync(join(dir, name));
  systems[name] = await starters[name](join(dir, name));
}
if (systems.etcd)
  console.log(
    `etcd: ${systems.etcd.version}, members ${systems.etcd.members.map((m) => `${m.name}@${m.client.port}`).join(" ")}`,
  );

const requests = {};
for (const name of targetNames) requests[name] = { put: requestTable(name, "put"), get: requestTable(name, "get") };
for (const name of systemNames) await preload(name);

const results = [];
for (let round = 1; round <= rounds; round++) {
  for (const point of points) {
    for (const target of targetNames) {
      const r = await runUndisturbed(target, point, requests);
      results.push({ round, point: point.name, target, ...r });
      printRun(round, point, target, r);
    }
  }
}

const summary = summarize(results, points, targetNames);
printTables(summary, points, targetNames, maxOther);

console.log("\n### Memory at the end (RSS now / peak)\n");
const memory = {};
for (const name of systemNames) {
  const leader = await systems[name].leader().catch(() => systems[name].members[0]);
  for (const m of systems[name].members) {
    const mem = memoryOf(m.child.pid);
    memory[`${name}/${m.name}`] = mem;
    console.log(
      `- ${name} ${m.name}${m === leader && name !== "bare" ? " (leader)" : ""}: ${mem.rssMiB.toFixed(0)} MiB (peak ${mem.peakMiB.toFixed(0)} MiB)`,
    );
  }
}
if (systems.etcd) {
  const s = (
    await http(systems.etcd.url(systems.etcd.members[0], "/v3/maintenance/status"), { method: "POST", body: "{}" })
  ).json;
  console.log(
    `- etcd backend db: ${(Number(s?.dbSize) / 2 ** 20).toFixed(0)} MiB (${(Number(s?.dbSizeInUse) / 2 ** 20).toFixed(0)} MiB in use), no compaction (etcd's default)`,
  );
}

printTargets(summary);
const disturbed = results.filter((r) => r.disturbed).length;
console.log(
  `\n${disturbed} of ${results.length} runs were disturbed by other processes (> ${fmtPct(maxOther)} of a core); ${results.filter((r) => r.attempt > 1).length} runs were redone.`,
);
const minutes = (Date.now() - startedAt) / 60_000;
console.log(`\nwhole run: ${minutes.toFixed(1)} min`);

if (opts.out !== undefined) {
  const config = {
    durationMs,
    warmupMs,
    rounds,
    keyCount,
    keyBytes,
    valueBytes,
    points: points.map((p) => p.name),
    targets: targetNames,
    etcdVersion: systems.etcd?.version,
    node: process.version,
  };
  writeFileSync(opts.out, JSON.stringify({ config, results, summary, memory, minutes }, null, 2));
  console.log(`raw results: ${opts.out}`);
}

await Promise.all(Object.values(systems).flatMap((s) => s.members.map((m) => stopProcess(m.child))));
if (opts.keep) console.log(`kept ${dir}`);
