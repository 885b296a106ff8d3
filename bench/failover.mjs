// Failover time, measured on real processes: start a 3-member cluster, then N times SIGKILL the
// leader and time until the first write succeeds through the surviving members; restart the
// killed member and wait until it has caught up before the next round.
// Usage: npm run build && node bench/failover.mjs [rounds=10]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const rounds = Number(process.argv[2] ?? 10);
const dir = mkdtempSync(join(tmpdir(), "raftkv-failover-"));
const base = 17100;
const members = [1, 2, 3].map((k) => ({
  name: `n${k}`,
  peer: `127.0.0.1:${base + k}`,
  client: `127.0.0.1:${base + 100 + k}`,
  child: undefined,
}));
const cluster = members.map((m) => `${m.name}=${m.peer}`).join(",");

function start(m) {
  m.child = spawn(
    process.execPath,
    [
      "dist/cli/main.js",
      "serve",
      "--id",
      m.name,
      "--data",
      join(dir, m.name),
      "--listen-peer",
      m.peer,
      "--listen-client",
      m.client,
      "--initial-cluster",
      cluster,
    ],
    { stdio: "ignore" },
  );
}

async function call(addr, method, path, body) {
  const r = await fetch(`http://${addr}${path}`, { method, body, signal: AbortSignal.timeout(1000) });
  return { status: r.status, json: await r.json() };
}

async function waitFor(what, probe, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // keep polling
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const leaderOf = () =>
  waitFor("a leader", async () => {
    for (const m of members) {
      if (m.child === undefined) continue;
      const s = (await call(m.client, "GET", "/v1/status")).json;
      if (s.role === "leader") return members.find((x) => x.name === s.id);
    }
    return undefined;
  });

members.forEach(start);
const times = [];
try {
  for (let round = 1; round <= rounds; round++) {
    const leader = await leaderOf();
    await waitFor("a write", async () =>
      (await call(leader.client, "PUT", "/v1/kv/warm", "x")).status === 200 ? true : undefined,
    );
    const survivors = members.filter((m) => m !== leader);
    const killedAt = performance.now();
    leader.child.kill("SIGKILL");
    leader.child = undefined;
    let i = 0;
    await waitFor("a write after the kill", async () => {
      const target = survivors[i++ % survivors.length];
      return (await call(target.client, "PUT", `/v1/kv/round${round}`, "ok")).status === 200 ? true : undefined;
    });
    const ms = performance.now() - killedAt;
    times.push(ms);
    console.log(`round ${round}: ${leader.name} killed, first write after ${ms.toFixed(0)} ms`);
    start(leader);
    await waitFor("the restarted member to catch up", async () => {
      const r = await call(leader.client, "GET", `/v1/kv/round${round}?consistency=serializable`);
      return r.status === 200 ? true : undefined;
    });
  }
} finally {
  for (const m of members) m.child?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(
  `failover over ${times.length} rounds: median ${median.toFixed(0)} ms, min ${times[0].toFixed(0)} ms, max ${times.at(-1).toFixed(0)} ms`,
);
