// Where the tail of put latency comes from under load (issue 18's p99 target): runs a 3-member raftkv
// with each member under `node --trace-gc`, drives puts at the leader from a closed loop, and prints,
// next to the clients' p50/p99/p99.9, every member's garbage-collection pauses during the measured
// window (how many, their total and longest, by kind) and the leader's event-loop delay (p50, p99
// and max, from its /metrics). With --variants, each variant runs the cluster under other node
// flags (e.g. a larger young generation), interleaved round by round, so the effect of a flag on
// the tail is read against the same moment's baseline.
//
// Usage: npm run bench:tail [-- --clients 256 --duration 10s --rounds 3
//          --variants "default;--max-semi-space-size=64" --cli dist/cli/main.js]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { closedLoop, median, openConns, parseDuration } from "./lib/load.mjs";
import { freePorts, http, onExit, startProcess, stopProcess, waitFor } from "./lib/procs.mjs";

const { values: opts } = parseArgs({
  options: {
    clients: { type: "string", default: "256" },
    duration: { type: "string", default: "10s" },
    warmup: { type: "string", default: "3s" },
    rounds: { type: "string", default: "3" },
    variants: { type: "string", default: "default" },
    cli: { type: "string", default: fileURLToPath(new URL("../dist/cli/main.js", import.meta.url)) },
  },
});
const clients = Number(opts.clients);
const durationMs = parseDuration(opts.duration);
const warmupMs = parseDuration(opts.warmup);
const variants = opts.variants.split(";").map((v) => v.trim());
const flagsOf = (variant) => (variant === "default" ? [] : variant.split(/\s+/));
const dir = mkdtempSync(join(tmpdir(), "raftkv-tail-"));
onExit(() => rmSync(dir, { recursive: true, force: true }));
const value = "v".repeat(128);
const keyOf = (i) => `key-${String(i % 10_000).padStart(12, "0")}`;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

// `[pid:0x..:0]    12345 ms: Scavenge 40.1 (52.3) -> 30.2 (53.1) MB, 3.25 / 0.00 ms  ...`
const gcLine =
  /^\[\d+:0x[0-9a-f]+(?::\d+)?\]\s+(\d+) ms: ([A-Za-z-]+(?: \([a-z ]+\))?(?: [A-Za-z-]+)?) [\d.]+ \([\d.]+\) -> [\d.]+ \([\d.]+\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;

/** Every GC pause a member's log holds, with its time in ms since that process started. */
function gcPauses(logPath) {
  const pauses = [];
  for (const line of readFileSync(logPath, "utf8").split("\n")) {
    const m = gcLine.exec(line);
    if (m !== null) pauses.push({ at: Number(m[1]), kind: m[2].trim(), ms: Number(m[3]) });
  }
  return pauses;
}

async function startCluster(variant, round) {
  const ports = await freePorts(6);
  const members = [0, 1, 2].map((k) => ({ name: `n${k + 1}`, peerPort: ports[2 * k], clientPort: ports[2 * k + 1] }));
  const initial = members.map((m) => `${m.name}=127.0.0.1:${m.peerPort}`).join(",");
  for (const m of members) {
    const args = [...flagsOf(variant), "--trace-gc", resolve(opts.cli), "serve", "--id", m.name];
    args.push("--data", join(dir, `${round}-${variants.indexOf(variant)}-${m.name}`));
    args.push("--listen-peer", `127.0.0.1:${m.peerPort}`, "--listen-client", `127.0.0.1:${m.clientPort}`);
    args.push("--initial-cluster", initial);
    m.logPath = join(dir, `${round}-${variants.indexOf(variant)}-${m.name}.log`);
    m.spawnedAt = performance.now();
    m.child = startProcess(process.execPath, args, m.logPath);
    m.base = `http://127.0.0.1:${m.clientPort}`;
  }
  const leader = await waitFor("a leader", async () => {
    for (const m of members)
      if ((await http(`${m.base}/v1/status`).catch(() => undefined))?.json?.role === "leader") return m;
    return undefined;
  });
  return { members, leader };
}

/** The leader's event-loop delay since its last scrape (prom-client resets the histogram on each). */
async function eventLoopDelay(leader) {
  const text = (await http(`${leader.base}/metrics`)).text;
  const read = (name) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, "m").exec(text)?.[1] ?? NaN) * 1000;
  return {
    p50: read("nodejs_eventloop_lag_p50_seconds"),
    p99: read("nodejs_eventloop_lag_p99_seconds"),
    max: read("nodejs_eventloop_lag_max_seconds"),
  };
}

async function runOnce(variant, round) {
  const cluster = await startCluster(variant, round);
  const { leader, members } = cluster;
  try {
    for (let i = 0; i < 100; i++) await http(`${leader.base}/v1/kv/${keyOf(i)}`, { method: "PUT", body: value });
    const conns = await openConns(
      Array.from({ length: clients }, () => ({ host: "127.0.0.1", port: leader.clientPort })),
    );
    let n = 0;
    const request = (i) =>
      Buffer.from(`PUT /v1/kv/${keyOf(i)} HTTP/1.1\r\nHost: x\r\nContent-Length: ${value.length}\r\n\r\n${value}`);
    let window;
    const loadBefore = load();
    const result = await closedLoop({
      conns,
      nextRequest: () => request(n++),
      warmupMs,
      durationMs,
      hooks: {
        warm: () => {
          window = { from: performance.now() };
          // Only to reset the leader's histogram: a failed scrape leaves the warm-up in the figure.
          eventLoopDelay(leader).catch(() => undefined);
        },
        end: () => (window.to = performance.now()),
      },
    });
    for (const c of conns) c.close();
    const delay = await eventLoopDelay(leader);
    await Promise.all(members.map((m) => stopProcess(m.child)));
    // trace-gc stamps a pause in ms since its process started, a few ms after its spawn: the window's
    // edges are fuzzy by that much, against a window seconds long.
    const gc = members.map((m) => {
      const at = (p) => m.spawnedAt + p.at;
      const inWindow = gcPauses(m.logPath).filter((p) => at(p) >= window.from && at(p) <= window.to);
      return { name: m.name, leader: m === leader, pauses: inWindow };
    });
    return { variant, round, loadBefore, loadAfter: load(), result, delay, gc };
  } catch (error) {
    await Promise.all(members.map((m) => stopProcess(m.child)));
    throw error;
  }
}

function summarize(pauses) {
  const byKind = new Map();
  for (const p of pauses) {
    const k = byKind.get(p.kind) ?? { count: 0, ms: 0, max: 0 };
    k.count++;
    k.ms += p.ms;
    k.max = Math.max(k.max, p.ms);
    byKind.set(p.kind, k);
  }
  return [...byKind]
    .map(([kind, k]) => `${kind} ${k.count}× total ${k.ms.toFixed(0)} ms max ${k.max.toFixed(1)} ms`)
    .join("; ");
}

const runs = [];
for (let round = 1; round <= Number(opts.rounds); round++)
  for (const variant of variants) {
    const r = await runOnce(variant, round);
    runs.push(r);
    const { result, delay } = r;
    console.log(
      `round ${round} [${variant}] put × ${clients}: ${result.opsPerSecond.toFixed(0)} ops/s, p50 ${result.p50.toFixed(2)} ms, ` +
        `p99 ${result.p99.toFixed(2)} ms, p99.9 ${result.p999.toFixed(2)} ms, ${result.errors} errors; load ${r.loadBefore} → ${r.loadAfter}`,
    );
    console.log(
      `  leader event-loop delay: p50 ${delay.p50.toFixed(1)} ms, p99 ${delay.p99.toFixed(1)} ms, max ${delay.max.toFixed(1)} ms`,
    );
    for (const m of r.gc) {
      const total = m.pauses.reduce((s, p) => s + p.ms, 0);
      console.log(
        `  ${m.name}${m.leader ? " (leader)" : ""} GC: ${((100 * total) / durationMs).toFixed(1)}% of the window paused; ${summarize(m.pauses)}`,
      );
    }
  }
console.log("\nmedians per variant:");
for (const variant of variants) {
  const mine = runs.filter((r) => r.variant === variant);
  const med = (f) => median(mine.map(f));
  console.log(
    `[${variant}] ${med((r) => r.result.opsPerSecond).toFixed(0)} ops/s, p50 ${med((r) => r.result.p50).toFixed(2)} ms, ` +
      `p99 ${med((r) => r.result.p99).toFixed(2)} ms, p99.9 ${med((r) => r.result.p999).toFixed(2)} ms; leader loop delay p99 ` +
      `${med((r) => r.delay.p99).toFixed(1)} ms, max ${med((r) => r.delay.max).toFixed(1)} ms`,
  );
}
