// What TLS and authentication cost (docs/security.md): put and get throughput and latency of three
// 3-member raftkv clusters in one run on this machine: plain, TLS on both ports, and TLS with auth
// enabled. Runs alternate plain, tls, secure, plain ... so machine drift hits all alike; the load of
// other processes during each run is printed beside it.
//
// The secure cluster's clients authenticate as a user whose role grants readwrite on the benchmark's
// prefix (not root, which skips the permission check), and send the token on every request over
// TLS connections verified against the cluster's CA. 16-byte keys, 128-byte values, 10 000 keys
// preloaded; every request goes to the leader; gets are linearizable.
//
// Usage: npm run bench:secure [-- --duration 5s --warmup 2s --rounds 2 --points put@16,put@64,get@16,get@64 --keep]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createCertificateAuthority, issueCertificate } from "../dist/tls/index.js";
import { closedLoop, fmtMs, fmtOps, median, openConns, parseDuration, seededRandom, sendAll } from "./lib/load.mjs";
import { cpuSecondsOf, foreignLoad, freePorts, http, onExit, startProcess, waitFor } from "./lib/procs.mjs";

const { values: opts } = parseArgs({
  options: {
    duration: { type: "string", default: "5s" },
    warmup: { type: "string", default: "2s" },
    rounds: { type: "string", default: "2" },
    points: { type: "string", default: "put@16,put@64,get@16,get@64" },
    keep: { type: "boolean", default: false },
  },
});

const durationMs = parseDuration(opts.duration);
const warmupMs = parseDuration(opts.warmup);
const rounds = Number(opts.rounds);
const points = opts.points.split(",").map((text) => {
  const [op, clients] = text.split("@");
  if ((op !== "put" && op !== "get") || !(Number(clients) > 0))
    throw new Error(`bad point ${text}: use put@N or get@N`);
  return { name: text, op, clients: Number(clients) };
});

const cliPath = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "raftkv-bench-secure-"));
if (!opts.keep) onExit(() => rmSync(dir, { recursive: true, force: true }));

const keyCount = 10_000;
const keyOf = (i) => `bench/${String(i).padStart(10, "0")}`;
const value = "v".repeat(128);
const password = "bench-password";

// ---------------------------------------------------------------------------------------------
// The two clusters.

/** The TLS files of a secure cluster: one CA signs every member's client and peer certificate. */
function makeCertificates(tag, names) {
  // One directory per cluster: a member re-reads its files when they change.
  const tlsDir = join(dir, `tls-${tag}`);
  mkdirSync(tlsDir, { recursive: true });
  const ca = createCertificateAuthority({ commonName: "raftkv bench CA" });
  const caPath = join(tlsDir, "ca.pem");
  writeFileSync(caPath, ca.certPem);
  const args = new Map();
  for (const name of names) {
    const issued = issueCertificate(ca, { commonName: name, hosts: ["localhost", "127.0.0.1"] });
    const cert = join(tlsDir, `${name}.pem`);
    const key = join(tlsDir, `${name}-key.pem`);
    writeFileSync(cert, issued.certPem);
    writeFileSync(key, issued.keyPem);
    args.set(name, ["--cert", cert, "--key", key, "--ca", caPath, "--peer-cert", cert, "--peer-key", key]);
    args.get(name).push("--peer-ca", caPath);
  }
  return { ca: ca.certPem, args };
}

/** One https call verified against `ca`; the body parsed as JSON. */
function httpsJson(url, ca, { method = "GET", body, token } = {}) {
  return new Promise((resolve) => {
    const headers = { "content-type": "application/json" };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const req = request(url, { method, ca, headers, timeout: 2000 }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, json });
      });
    });
    req.on("error", () => resolve({ status: 0 }));
    req.on("timeout", () => req.destroy());
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** mode: "plain"; "tls" (both ports, auth off); "secure" (TLS and auth with a non-root user). */
async function startCluster(mode) {
  const tag = mode;
  const secure = mode !== "plain";
  const names = ["n1", "n2", "n3"];
  const ports = await freePorts(6);
  const tls = secure ? makeCertificates(tag, names) : undefined;
  const cluster = names.map((n, k) => `${n}=127.0.0.1:${ports[2 * k]}`).join(",");
  const members = names.map((name, k) => {
    const args = [cliPath, "serve", "--id", name, "--data", join(dir, `${tag}-${name}`)];
    args.push("--listen-peer", `127.0.0.1:${ports[2 * k]}`, "--listen-client", `127.0.0.1:${ports[2 * k + 1]}`);
    args.push("--initial-cluster", cluster, "--auth-token-ttl", "1h", ...(tls?.args.get(name) ?? []));
    const child = startProcess(process.execPath, args, join(dir, `${tag}-${name}.log`));
    return { name, child, client: { host: "127.0.0.1", port: ports[2 * k + 1] } };
  });
  const scheme = secure ? "https" : "http";
  const call = (m, path, init = {}) =>
    secure
      ? httpsJson(`${scheme}://127.0.0.1:${m.client.port}${path}`, tls.ca, init)
      : http(`${scheme}://127.0.0.1:${m.client.port}${path}`, {
          ...init,
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
        });
  const leader = async () => {
    for (const m of members) {
      const s = (await call(m, "/v1/status", { token })).json;
      if (s?.role === "leader") return members.find((x) => x.name === s.id);
    }
    return undefined;
  };
  let token;
  const first = await waitFor(`the ${tag} cluster to elect a leader`, leader, { child: members[0].child });
  if (mode === "secure") token = await enableAuth(first, call);
  return { name: tag, members, leader, token, tls: secure ? { ca: tls.ca } : undefined };
}

/** Root, a `bench` user with readwrite on the benchmark's prefix, auth on; the bench user's token. */
async function enableAuth(leader, call) {
  const steps = [
    ["/v1/auth/users", { name: "root", password }],
    ["/v1/auth/roles", { name: "bench" }],
    ["/v1/auth/roles/bench/permissions", { type: "readwrite", prefix: "bench/" }],
    ["/v1/auth/users", { name: "bench", password }],
    ["/v1/auth/users/bench/roles", { role: "bench" }],
    ["/v1/auth/enable", {}],
  ];
  for (const [path, body] of steps) {
    await waitFor(`POST ${path}`, async () => {
      const r = await call(leader, path, { method: "POST", body });
      return r.status === 200 ? r : undefined;
    });
  }
  const login = await call(leader, "/v1/auth/authenticate", { method: "POST", body: { name: "bench", password } });
  if (login.status !== 200 || typeof login.json?.token !== "string")
    throw new Error(`authenticate answered ${login.status}`);
  return login.json.token;
}

// ---------------------------------------------------------------------------------------------
// Load.

function rawRequest(method, path, body, token) {
  const auth = token === undefined ? "" : `Authorization: Bearer ${token}\r\n`;
  return Buffer.from(
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function requestTables(system) {
  return {
    put: Array.from({ length: keyCount }, (_, i) => rawRequest("PUT", `/v1/kv/${keyOf(i)}`, value, system.token)),
    get: Array.from({ length: keyCount }, (_, i) => rawRequest("GET", `/v1/kv/${keyOf(i)}`, "", system.token)),
  };
}

const rng = seededRandom();

async function preload(system, tables) {
  const leader = await system.leader();
  const conns = await openConns(
    Array.from({ length: 32 }, () => leader.client),
    system.tls,
  );
  const { failed, statuses } = await sendAll(conns, tables.put);
  conns.forEach((c) => c.close());
  if (failed.length > 0)
    throw new Error(`${system.name}: ${failed.length} preload puts failed: ${JSON.stringify(statuses)}`);
}

async function runPoint(system, tables, point) {
  const leader = await system.leader();
  const conns = await openConns(
    Array.from({ length: point.clients }, () => leader.client),
    system.tls,
  );
  const table = tables[point.op];
  let cpuFrom;
  let cpuTo;
  const foreignBefore = await foreignLoad(300);
  const result = await closedLoop({
    conns,
    nextRequest: () => table[Math.floor(rng() * table.length)],
    warmupMs,
    durationMs,
    hooks: {
      warm: () => (cpuFrom = { leader: cpuSecondsOf(leader.child.pid), at: performance.now() }),
      end: () => (cpuTo = { leader: cpuSecondsOf(leader.child.pid), at: performance.now() }),
    },
  });
  conns.forEach((c) => c.close());
  result.leaderCpu = (cpuTo.leader - cpuFrom.leader) / ((cpuTo.at - cpuFrom.at) / 1000);
  result.foreignBefore = foreignBefore;
  result.load1 = loadavg()[0];
  return result;
}

// ---------------------------------------------------------------------------------------------
// Run and print.

console.log(
  `machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log(`data: ${dir}; ${rounds} rounds of ${opts.duration} (+${opts.warmup} warm-up) per point and cluster`);
const systems = [await startCluster("plain"), await startCluster("tls"), await startCluster("secure")];
const tables = new Map(systems.map((s) => [s.name, requestTables(s)]));
for (const s of systems) await preload(s, tables.get(s.name));
const results = new Map();
for (let round = 1; round <= rounds; round++) {
  for (const point of points) {
    for (const system of systems) {
      const r = await runPoint(system, tables.get(system.name), point);
      const key = `${point.name}/${system.name}`;
      results.set(key, [...(results.get(key) ?? []), r]);
      console.log(
        `round ${round} ${point.name.padEnd(7)} ${system.name.padEnd(6)} ${fmtOps(r.opsPerSecond).padStart(7)} ops/s` +
          `  p50 ${fmtMs(r.p50)} ms  p99 ${fmtMs(r.p99)} ms  errors ${r.errors}` +
          `  leader ${Math.round(r.leaderCpu * 100)}% of a core  other load ${r.foreignBefore.toFixed(2)} cores`,
      );
    }
  }
}

console.log(`\nMedians of ${rounds} runs (tls = TLS on both ports; secure = TLS + auth with a non-root user):`);
console.log("| point | ops/s plain / tls / secure | tls, secure vs plain | p50 ms | p99 ms | leader CPU |");
console.log("|---|---|---|---|---|---|");
for (const point of points) {
  const runs = systems.map((s) => results.get(`${point.name}/${s.name}`));
  const each = (f, fmt) => runs.map((rs) => fmt(median(rs.map(f)))).join(" / ");
  const ops = runs.map((rs) => median(rs.map((r) => r.opsPerSecond)));
  console.log(
    `| ${point.name} | ${ops.map(fmtOps).join(" / ")} | ${(ops[1] / ops[0]).toFixed(2)}×, ${(ops[2] / ops[0]).toFixed(2)}× | ` +
      `${each((r) => r.p50, fmtMs)} | ${each((r) => r.p99, fmtMs)} | ${each(
        (r) => r.leaderCpu,
        (x) => `${Math.round(x * 100)}%`,
      )} |`,
  );
}
console.log(
  `load average at the end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
process.exit(0);
