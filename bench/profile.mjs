// Where the leader's CPU goes under load: starts a 3-member raftkv with `node --cpu-prof`, drives
// puts (or linearizable gets) at the leader with the benchmark's load generator, stops the members
// cleanly so V8 writes the profiles, and prints the leader's top functions by self and total time.
// The .cpuprofile files stay in the printed directory for a flame graph (e.g. Chrome DevTools).
//
// Usage: npm run bench:profile [-- --op put --clients 64 --duration 10s --top 20 --cli dist/cli/main.js]
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { closedLoop, openConns } from "./lib/load.mjs";
import { cpuSecondsOf, freePorts, http, onExit, startProcess, stopProcess, waitFor } from "./lib/procs.mjs";

const { values: opts } = parseArgs({
  options: {
    op: { type: "string", default: "put" },
    clients: { type: "string", default: "64" },
    duration: { type: "string", default: "10s" },
    top: { type: "string", default: "20" },
    cli: { type: "string", default: fileURLToPath(new URL("../dist/cli/main.js", import.meta.url)) },
  },
});
const durationMs = Number.parseFloat(opts.duration) * (opts.duration.endsWith("ms") ? 1 : 1000);
const clients = Number(opts.clients);
const dir = mkdtempSync(join(tmpdir(), "raftkv-profile-"));

const ports = await freePorts(6);
const members = [0, 1, 2].map((k) => ({ name: `n${k + 1}`, peerPort: ports[2 * k], clientPort: ports[2 * k + 1] }));
const cluster = members.map((m) => `${m.name}=127.0.0.1:${m.peerPort}`).join(",");
for (const m of members) {
  m.profiles = join(dir, `prof-${m.name}`);
  const args = [
    "--cpu-prof",
    "--cpu-prof-dir",
    m.profiles,
    resolve(opts.cli),
    "serve",
    "--id",
    m.name,
    "--data",
    join(dir, m.name),
  ];
  args.push(
    "--listen-peer",
    `127.0.0.1:${m.peerPort}`,
    "--listen-client",
    `127.0.0.1:${m.clientPort}`,
    "--initial-cluster",
    cluster,
  );
  m.child = startProcess(process.execPath, args, join(dir, `${m.name}.log`));
}
onExit(() => Promise.all(members.map((m) => stopProcess(m.child))));
const base = (m) => `http://127.0.0.1:${m.clientPort}`;
const leader = await waitFor("a leader", async () => {
  for (const m of members) if ((await http(`${base(m)}/v1/status`)).json?.role === "leader") return m;
  return undefined;
});
const value = "v".repeat(128);
const keyOf = (i) => `key-${String(i % 10_000).padStart(12, "0")}`;
for (let i = 0; i < 100; i++) await http(`${base(leader)}/v1/kv/${keyOf(i)}`, { method: "PUT", body: value });

const conns = await openConns(Array.from({ length: clients }, () => ({ host: "127.0.0.1", port: leader.clientPort })));
let n = 0;
const request = (i) =>
  opts.op === "get"
    ? Buffer.from(`GET /v1/kv/${keyOf(i % 100)} HTTP/1.1\r\nHost: x\r\n\r\n`)
    : Buffer.from(`PUT /v1/kv/${keyOf(i)} HTTP/1.1\r\nHost: x\r\nContent-Length: ${value.length}\r\n\r\n${value}`);
const counters = async () => {
  const text = (await http(`${base(leader)}/metrics`)).text ?? "";
  const sum = (series) =>
    [...text.matchAll(new RegExp(`^${series}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, "gm"))].reduce(
      (total, m) => total + Number(m[1]),
      0,
    );
  return {
    rounds: sum("raftkv_server_read_index_rounds_total"),
    fsyncs: sum("raftkv_disk_wal_fsync_duration_seconds_count"),
    sent: sum("raftkv_network_peer_sent_messages_total"),
  };
};
let before;
let leaderCpuBefore = 0;
let leaderCpu = 0;
const result = await closedLoop({
  conns,
  nextRequest: () => request(n++),
  warmupMs: 1000,
  durationMs,
  hooks: {
    warm: () => {
      leaderCpuBefore = cpuSecondsOf(leader.child.pid);
      void counters().then((c) => (before = c));
    },
    end: () => (leaderCpu = cpuSecondsOf(leader.child.pid) - leaderCpuBefore),
  },
});
const after = await counters();
const perSecond = (key) => ((after[key] - before[key]) / result.seconds).toFixed(0);
console.log(
  `${opts.op} × ${clients} clients at ${leader.name}: ${result.opsPerSecond.toFixed(0)} ops/s, p50 ${result.p50?.toFixed(2)} ms, p99 ${result.p99?.toFixed(2)} ms, ${result.errors} errors`,
);
console.log(
  `leader, per second: ${perSecond("rounds")} ReadIndex rounds, ${perSecond("fsyncs")} fsyncs, ${perSecond("sent")} peer messages sent`,
);
// The profiler's sampling costs the leader too, so this is an upper bound of a put's CPU without it.
console.log(
  `leader CPU: ${((100 * leaderCpu) / result.seconds).toFixed(0)}% of a core, ${((1e6 * leaderCpu) / result.ops).toFixed(0)} µs per ${opts.op} (profiler on)`,
);
await Promise.all(members.map((m) => stopProcess(m.child)));

const [file] = readdirSync(leader.profiles);
const profile = JSON.parse(readFileSync(join(leader.profiles, file), "utf8"));
printTop(profile, Number(opts.top));
console.log(`profiles: ${dir}/prof-*`);

/** Self and total (inclusive) time per function, as shares of the profile's whole time. */
function printTop(prof, top) {
  const byId = new Map(prof.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of prof.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const name = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}${url ? `:${lineNumber + 1}` : ""}`;
  };
  const timeById = new Map();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    timeById.set(id, (timeById.get(id) ?? 0) + dt);
    total += dt;
  });
  const self = new Map();
  const inclusive = new Map();
  for (const [id, dt] of timeById) {
    self.set(name(byId.get(id)), (self.get(name(byId.get(id))) ?? 0) + dt);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const key = name(byId.get(at));
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  }
  const show = (title, map) => {
    console.log(`\n${title} (% of ${(total / 1e6).toFixed(1)} s)`);
    for (const [key, dt] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`${((100 * dt) / total).toFixed(1).padStart(6)}  ${key}`);
  };
  show("leader, self time", self);
  show("leader, total time", inclusive);
}
