// Coordination figures (docs/coordination.md): how fast a watch event reaches its watcher, what idle
// watchers cost in memory, and what lease keepalives cost the leader in CPU. Real `raftkv serve`
// processes on loopback; this process is the load and must not be the bottleneck, so it speaks
// plain node:http and counts only what it needs.
// Usage: npm run bench:coord [-- --part all|delivery|idle|leases --watchers 1000 --rate 1000
//        --seconds 10 --idle 10000 --idle-streams 10 --leases 10000 --keepalive-batch 100]
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { percentile, sleep } from "./lib/load.mjs";
import { cpuSecondsOf, freePorts, http, memoryOf, onExit, startProcess, stopProcess, waitFor } from "./lib/procs.mjs";

const { values: opts } = parseArgs({
  options: {
    part: { type: "string", default: "all" },
    watchers: { type: "string", default: "1000" },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    idle: { type: "string", default: "10000" },
    "idle-streams": { type: "string", default: "10" },
    leases: { type: "string", default: "10000" },
    "keepalive-batch": { type: "string", default: "100" },
  },
});
const seconds = Number(opts.seconds);
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "raftkv-bench-coord-"));
onExit(() => rmSync(dir, { recursive: true, force: true }));
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Starts `size` members; resolves with their client URLs and processes once one of them leads. */
async function startCluster(size, tag) {
  const ports = await freePorts(2 * size);
  const names = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const initial = names.map((n, i) => `${n}=127.0.0.1:${ports[2 * i]}`).join(",");
  const members = names.map((name, i) => {
    const args = [cli, "serve", "--id", name, "--data", join(dir, `${tag}-${name}`)];
    args.push("--listen-peer", `127.0.0.1:${ports[2 * i]}`, "--listen-client", `127.0.0.1:${ports[2 * i + 1]}`);
    args.push("--initial-cluster", initial);
    const child = startProcess(process.execPath, args, join(dir, `${tag}-${name}.log`));
    return { name, child, url: `http://127.0.0.1:${ports[2 * i + 1]}` };
  });
  const leader = await waitFor(
    "a leader that accepts writes",
    async () => {
      for (const m of members) {
        const status = (await http(`${m.url}/v1/status`)).json;
        if (
          status?.role === "leader" &&
          (await http(`${m.url}/v1/kv/ready`, { method: "PUT", body: "1" })).status === 200
        )
          return m;
      }
      return undefined;
    },
    { child: members[0].child },
  );
  return { members, leader, stop: () => Promise.all(members.map((m) => stopProcess(m.child))) };
}

/** One HTTP call on the shared keep-alive agent; resolves with the status and parsed JSON body. */
function call(url, method, body) {
  return new Promise((resolve) => {
    const req = request(url, { method, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode, json: text.startsWith("{") ? JSON.parse(text) : undefined }),
      );
    });
    req.on("error", () => resolve({ status: 0 }));
    req.end(body);
  });
}

/**
 * Opens a watch stream (its own socket, as a separate client would); `onMessage` gets each parsed
 * line. Resolves with the request and the stream's first message once that arrived (`created`, or
 * the stream's id when it opens empty).
 */
function openStream(url, query, onMessage) {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/watch?${query}`, { agent: false }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`watch answered ${res.statusCode}`));
      let pending = "";
      let first = true;
      res.setEncoding("utf8");
      res.on("data", (chunk) => {
        pending += chunk;
        let newline;
        while ((newline = pending.indexOf("\n")) >= 0) {
          const message = JSON.parse(pending.slice(0, newline));
          pending = pending.slice(newline + 1);
          if (first) resolve({ req, first: message });
          else onMessage(message);
          first = false;
        }
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** A one-watch stream (the request), once its `created` arrived. */
async function openWatch(url, query, onMessage) {
  return (await openStream(url, query, onMessage)).req;
}

/** Runs `count` tasks with at most `width` in flight. */
async function pool(count, width, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

function machine() {
  const [one] = loadavg();
  return `load average ${one.toFixed(2)} (1 min) on this machine`;
}

async function delivery() {
  const watcherCount = Number(opts.watchers);
  const rate = Number(opts.rate);
  const cluster = await startCluster(3, "delivery");
  const watched = cluster.members.find((m) => m !== cluster.leader);
  const sent = new Map();
  const acked = new Map();
  const fromSend = [];
  const fromAck = [];
  let early = 0;
  const streams = [];
  for (let i = 0; i < watcherCount; i++) {
    streams.push(
      await openWatch(watched.url, `key=bench/${i}`, (message) => {
        const now = performance.now();
        for (const event of message.events ?? []) {
          const seq = Number(event.kv.value);
          fromSend.push(now - sent.get(seq));
          const ack = acked.get(seq);
          if (ack === undefined) early++;
          fromAck.push(ack === undefined ? 0 : now - ack);
        }
      }),
    );
  }
  // Open loop: the rate is held whatever the latency, in ticks of 10 ms.
  let seq = 0;
  const started = performance.now();
  const cpu0 = cpuSecondsOf(watched.child.pid);
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    for (; seq < due; seq++) {
      const mine = seq;
      sent.set(mine, performance.now());
      void call(`${cluster.leader.url}/v1/kv/bench/${mine % watcherCount}`, "PUT", String(mine)).then(() =>
        acked.set(mine, performance.now()),
      );
    }
    await sleep(10);
  }
  await sleep(2000);
  const cpu = (cpuSecondsOf(watched.child.pid) - cpu0) / ((performance.now() - started) / 1000);
  for (const s of streams) s.destroy();
  await cluster.stop();
  const a = fromSend.sort((x, y) => x - y);
  const b = fromAck.sort((x, y) => x - y);
  const ms = (v) => v.toFixed(2);
  console.log(
    `delivery: ${watcherCount} watchers on one follower, each on its own key; ${rate} puts/s for ${seconds} s`,
  );
  console.log(
    `  events delivered ${a.length} of ${seq} puts sent; ${early} arrived before the writer's acknowledgement`,
  );
  console.log(`  put sent -> event at watcher: p50 ${ms(percentile(a, 0.5))} ms, p99 ${ms(percentile(a, 0.99))} ms`);
  console.log(
    `  put acknowledged -> event (0 if the event came first): p50 ${ms(percentile(b, 0.5))} ms, p99 ${ms(percentile(b, 0.99))} ms`,
  );
  console.log(`  the watched follower used ${(cpu * 100).toFixed(0)} % of a core`);
}

/**
 * Starts a member, lets `open(url)` open its idle watchers, and prints what they added to the
 * member's RSS. `open` resolves with what `close` must destroy afterwards.
 */
async function idleShape(description, count, tag, open) {
  const cluster = await startCluster(1, tag);
  const m = cluster.members[0];
  await sleep(2000);
  const before = memoryOf(m.child.pid).rssMiB;
  const opened = await open(m.url);
  await sleep(3000);
  const after = memoryOf(m.child.pid).rssMiB;
  console.log(`idle watchers: ${description}`);
  console.log(
    `  RSS ${before.toFixed(0)} MiB before, ${after.toFixed(0)} MiB after: ${(after - before).toFixed(1)} MiB extra, ${(((after - before) * 1024 * 1024) / count).toFixed(0)} bytes per watcher`,
  );
  for (const req of opened) req.destroy();
  await cluster.stop();
}

async function idle() {
  const count = Number(opts.idle);
  const streamCount = Math.min(Number(opts["idle-streams"]), count);
  await idleShape(`${count} watch streams, each on its own key and connection`, count, "idle", async (url) => {
    const streams = [];
    await pool(count, 200, async (i) => streams.push(await openWatch(url, `key=idle/${i}`, () => undefined)));
    return streams;
  });
  // The watches are added over the shared agent's keep-alive connections (at most 64), as a client's
  // short requests would be; those connections stay open through the measurement.
  const description = `${count} watches, each on its own key, multiplexed on ${streamCount} streams`;
  await idleShape(description, count, "idle-mux", async (url) => {
    const streams = [];
    for (let s = 0; s < streamCount; s++) streams.push(await openStream(url, "stream=true", () => undefined));
    await pool(count, 64, async (i) => {
      const body = JSON.stringify({ key: `idle/${i}` });
      const added = await call(
        `${url}/v1/watch/streams/${streams[i % streamCount].first.stream}/watches`,
        "POST",
        body,
      );
      if (added.status !== 200) throw new Error(`adding a watch answered ${added.status}`);
    });
    return streams.map((s) => s.req);
  });
}

async function leases() {
  const count = Number(opts.leases);
  const batch = Number(opts["keepalive-batch"]);
  const cluster = await startCluster(3, "leases");
  const leader = cluster.leader;
  const ids = [];
  await pool(count, 64, async () => {
    const granted = await call(`${leader.url}/v1/lease/grant`, "POST", JSON.stringify({ ttl: 30 }));
    if (granted.status !== 200) throw new Error(`grant answered ${granted.status}`);
    ids.push(granted.json.id);
  });
  // The leader's own cost with the leases granted and nobody renewing: heartbeats, the expiry check.
  const idle0 = cpuSecondsOf(leader.child.pid);
  await sleep(3000);
  const idleCpu = (cpuSecondsOf(leader.child.pid) - idle0) / 3;
  // Every lease renewed once a second, spread evenly over the second, `batch` ids per request.
  const requestsPerSecond = Math.ceil(count / batch);
  let failures = 0;
  const cpu0 = cpuSecondsOf(leader.child.pid);
  const started = performance.now();
  for (let second = 0; second < seconds; second++) {
    const secondStart = performance.now();
    const inFlight = [];
    for (let r = 0; r < requestsPerSecond; r++) {
      const slice = ids.slice(r * batch, (r + 1) * batch);
      const body = JSON.stringify({ ids: slice });
      inFlight.push(
        call(`${leader.url}/v1/lease/keepalive`, "POST", body).then((res) => res.status === 200 || failures++),
      );
      const next = secondStart + ((r + 1) * 1000) / requestsPerSecond;
      if (next > performance.now()) await sleep(next - performance.now());
    }
    await Promise.all(inFlight);
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = (cpuSecondsOf(leader.child.pid) - cpu0) / elapsed;
  console.log(`leases: ${count} leases on a 3-member cluster, each kept alive once a second (${batch} per request)`);
  console.log(
    `  leader CPU ${(cpu * 100).toFixed(1)} % of a core over ${elapsed.toFixed(1)} s (${(idleCpu * 100).toFixed(1)} % in the 3 s before the keepalives began); ${failures} keepalive requests failed`,
  );
  await cluster.stop();
}

console.log(machine());
if (opts.part === "all" || opts.part === "delivery") await delivery();
if (opts.part === "all" || opts.part === "idle") await idle();
if (opts.part === "all" || opts.part === "leases") await leases();
console.log(machine());
agent.destroy();
