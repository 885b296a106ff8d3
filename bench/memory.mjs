// Memory targets of issue 18: 1 000 000 keys of 16 bytes with 128-byte values loaded into a 3-member
// cluster in under 15 s, every member under 400 MB RSS, and a follower restoring that snapshot keeps
// answering (no event-loop stall over 50 ms).
//
// Loads the keys through the leader over HTTP (POST /v1/txn with --batch puts per request, or one PUT
// per key with --batch 1) from --clients keep-alive connections; prints each member's RSS (VmRSS, and
// the peak VmHWM), JS heap used, external and array-buffer memory (from /metrics) after loading and
// after an idle pause. Then stops one follower, writes until the leader's log is compacted past it,
// and starts it again, so the leader sends it the snapshot; while it catches up, a probe reads from
// it (serializable GET, one at a time) and the longest gap between answers is printed, with the
// member's own longest event-loop delay (nodejs_eventloop_lag_max_seconds, which each scrape resets)
// and its memory after. Times are the machine's too: on a busy machine they are noisy.
// Usage: npm run bench:memory [-- --keys 1000000 --members 3 --batch 100 --clients 32 --idle 10
//   --election-timeout-ms 1000 --snapshot-entries 10000 --keep --dist dist --node-flags "--trace-gc"]
// --node-flags go to each member's node (e.g. --trace-gc, to read the collector's pauses in the
// members' logs, which --keep keeps).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { openConns, sendAll, sleep } from "./lib/load.mjs";
import { freePorts, http, memoryOf, onExit, startProcess, stopProcess, waitFor } from "./lib/procs.mjs";

const { values: opts } = parseArgs({
  options: {
    keys: { type: "string", default: "1000000" },
    members: { type: "string", default: "3" },
    batch: { type: "string", default: "100" },
    clients: { type: "string", default: "32" },
    idle: { type: "string", default: "10" },
    // Above the server's default: on a busy shared machine a member's turn can wait long enough to
    // cost the leader its lease, and an election in the middle of loading measures the machine.
    "election-timeout-ms": { type: "string", default: "1000" },
    "snapshot-entries": { type: "string", default: "10000" },
    keep: { type: "boolean", default: false },
    "node-flags": { type: "string", default: "" },
    // Another build to measure (a checkout's dist, relative to this file's parent), e.g. the one before a change.
    dist: { type: "string", default: "dist" },
  },
});
const keyCount = Number(opts.keys);
const memberCount = Number(opts.members);
const batch = Number(opts.batch);
const clients = Number(opts.clients);
const idleSeconds = Number.parseFloat(opts.idle);
const limitMB = 400;
const loadLimitSeconds = 15;
const stallLimitMs = 50;

const keyOf = (i) => `key${String(i).padStart(13, "0")}`; // 16 bytes
const valueOf = (i) => (String(i).padStart(8, "0") + "abcdefghijklmnopqrstuvwxyz".repeat(5)).slice(0, 128);
const mb = (mib) => (mib * 2 ** 20) / 1e6;

function rawRequest(method, path, body) {
  return Buffer.from(
    `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function requestFor(first) {
  if (batch <= 1) return rawRequest("PUT", `/v1/kv/${keyOf(first)}`, valueOf(first));
  const success = [];
  for (let i = first; i < Math.min(first + batch, keyCount); i++)
    success.push({ put: { key: keyOf(i), value: valueOf(i) } });
  return rawRequest("POST", "/v1/txn", JSON.stringify({ success }));
}

const dir = mkdtempSync(join(tmpdir(), "raftkv-bench-memory-"));
onExit(() => {
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });
});
const ports = await freePorts(2 * memberCount);
const cli = fileURLToPath(new URL(`../${opts.dist}/cli/main.js`, import.meta.url));
const members = Array.from({ length: memberCount }, (_, i) => ({
  name: `n${i + 1}`,
  peerPort: ports[2 * i],
  clientPort: ports[2 * i + 1],
  base: `http://127.0.0.1:${ports[2 * i + 1]}`,
  child: undefined,
}));
const initialCluster = members.map((m) => `${m.name}=127.0.0.1:${m.peerPort}`).join(",");

function start(member) {
  member.child = startProcess(
    process.execPath,
    [
      ...opts["node-flags"].split(/\s+/).filter(Boolean),
      cli,
      "serve",
      ...["--id", member.name, "--data", join(dir, member.name)],
      ...["--listen-peer", `127.0.0.1:${member.peerPort}`, "--listen-client", `127.0.0.1:${member.clientPort}`],
      ...["--initial-cluster", initialCluster],
      ...["--election-timeout-ms", opts["election-timeout-ms"]],
      ...["--snapshot-entries", opts["snapshot-entries"]],
    ],
    join(dir, `${member.name}.log`),
  );
}

const statusOf = async (member) => (await http(`${member.base}/v1/status`)).json;

async function metricsOf(member) {
  const text = (await http(`${member.base}/metrics`, { timeoutMs: 10_000 })).text;
  const read = (name) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, "m").exec(text);
    return m === null ? NaN : Number(m[1]);
  };
  return {
    heapMiB: read("nodejs_heap_size_used_bytes") / 2 ** 20,
    externalMiB: read("nodejs_external_memory_bytes") / 2 ** 20,
    arrayBuffersMiB: read("raftkv_process_array_buffers_bytes") / 2 ** 20,
    lagMaxMs: read("nodejs_eventloop_lag_max_seconds") * 1000,
    installSeconds: read('raftkv_snapshot_duration_seconds_sum\\{kind="installed"\\}'),
  };
}

async function show(label, member) {
  const m = memoryOf(member.child.pid);
  const js = await metricsOf(member);
  const f = (x) => x.toFixed(0).padStart(4);
  console.log(
    `${`${label}, ${member.name}`.padEnd(28)} RSS ${f(m.rssMiB)} MiB (peak ${f(m.peakMiB)}), heap used ${f(js.heapMiB)}, external ${f(js.externalMiB)}, arrayBuffers ${f(js.arrayBuffersMiB)} MiB`,
  );
  return m;
}

/** Waits until every running member has applied what the leader had committed when this was called. */
async function allApplied(leader) {
  const { commitIndex } = await statusOf(leader);
  for (const member of members) {
    await waitFor(
      `${member.name} to apply through ${commitIndex}`,
      async () => ((await statusOf(member))?.appliedIndex >= commitIndex ? true : undefined),
      { child: member.child, timeoutMs: 120_000 },
    );
  }
}

members.forEach(start);
const leader = await waitFor(
  "a leader",
  async () => {
    for (const member of members) {
      if ((await statusOf(member))?.role === "leader") return member;
    }
    return undefined;
  },
  { timeoutMs: 30_000 },
);

console.log(
  `loading ${keyCount.toLocaleString("en-US")} keys (16 B keys, 128 B values) into ${memberCount} members through the leader ${leader.name}, ${batch <= 1 ? "one PUT per key" : `${batch} puts per txn`}, ${clients} connections, election timeout ${opts["election-timeout-ms"]} ms`,
);
for (const member of members) await show("empty", member);
const conns = await openConns(Array.from({ length: clients }, () => ({ host: "127.0.0.1", port: leader.clientPort })));
const step = Math.max(1, batch);
const milestones = [100_000, 250_000, 500_000, 750_000, 1_000_000, 2_000_000].filter((k) => k < keyCount);
let next = 0;
let loaded = 0;
let failures = 0;
const retries = [];
const failedStatuses = {};
const t0 = performance.now();
await Promise.all(
  conns.map(
    (conn) =>
      new Promise((resolve) => {
        const send = () => {
          if (next >= keyCount && retries.length === 0) return resolve();
          const first = retries.length > 0 ? retries.pop() : next;
          if (first === next) next += step;
          conn.send(requestFor(first), (status) => {
            if (status < 200 || status >= 300) {
              failures++;
              failedStatuses[status] = (failedStatuses[status] ?? 0) + 1;
              if (failures > 20_000) throw new Error(`too many failed loads: ${JSON.stringify(failedStatuses)}`);
              retries.push(first); // 503, 504 or a dropped connection: a put is idempotent
              // An election under load: give the cluster a moment rather than spinning on refusals.
              setTimeout(send, 50);
              return;
            } else {
              const before = loaded;
              loaded += Math.min(step, keyCount - first);
              const crossed = milestones.find((k) => before < k && loaded >= k);
              if (crossed !== undefined) {
                const rss = members.map((member) => memoryOf(member.child.pid).rssMiB.toFixed(0)).join(" / ");
                console.log(
                  `${`${crossed.toLocaleString("en-US")} keys`.padEnd(28)} RSS ${rss} MiB, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
                );
              }
            }
            send();
          });
        };
        send();
      }),
  ),
);
conns.forEach((c) => c.close());
const loadSeconds = (performance.now() - t0) / 1000;
console.log(
  `loaded ${loaded.toLocaleString("en-US")} keys in ${loadSeconds.toFixed(1)} s (${Math.round(loaded / loadSeconds).toLocaleString("en-US")} keys/s), ${failures} failed requests retried ${JSON.stringify(failedStatuses)}`,
);
for (const i of [0, Math.floor(keyCount / 2), keyCount - 1]) {
  const r = await http(`${leader.base}/v1/kv/${keyOf(i)}`);
  if (r.status !== 200 || r.json?.value !== valueOf(i))
    throw new Error(`key ${keyOf(i)} does not read back (${r.status})`);
}
await allApplied(leader);
const worstMiB = new Map(members.map((m) => [m.name, 0]));
const note = (member, m) => worstMiB.set(member.name, Math.max(worstMiB.get(member.name), m.rssMiB));
for (const member of members) note(member, await show("after loading", member));
await sleep(idleSeconds * 1000);
for (const member of members) note(member, await show(`after ${idleSeconds} s idle`, member));
const status = await statusOf(leader);
console.log(`leader's log: lastIndex ${status?.lastIndex}, snapshotIndex ${status?.snapshotIndex}`);

// The follower restoring the leader's snapshot: stopped while the leader writes past its next
// snapshot and compacts its log behind it (snapshotKeepEntries, 1000 by default), then started again.
const follower = members.find((m) => m !== leader);
let restore;
if (follower !== undefined) {
  const stoppedAt = (await statusOf(follower)).appliedIndex;
  await stopProcess(follower.child);
  const writes = Array.from({ length: Number(opts["snapshot-entries"]) + 1100 }, (_, i) =>
    rawRequest("PUT", `/v1/kv/${keyOf(i % keyCount)}`, valueOf(i % keyCount)),
  );
  const writers = await openConns(
    Array.from({ length: clients }, () => ({ host: "127.0.0.1", port: leader.clientPort })),
  );
  const { failed, statuses } = await sendAll(writers, writes);
  writers.forEach((c) => c.close());
  const compacted = await waitFor(
    `the leader to compact its log past index ${stoppedAt}`,
    async () => {
      const s = await statusOf(leader);
      return s.snapshotIndex - 1000 > stoppedAt ? s.snapshotIndex : undefined;
    },
    { child: leader.child, timeoutMs: 120_000 },
  );
  console.log(
    `${follower.name} stopped at index ${stoppedAt}; ${writes.length} single puts later (${failed.length} failed: ${JSON.stringify(statuses)}) the leader's snapshot is at ${compacted}`,
  );
  start(follower);
  await waitFor("the follower to answer again", async () => ((await statusOf(follower)) ? true : undefined), {
    child: follower.child,
    timeoutMs: 120_000,
  });
  await metricsOf(follower); // resets its event-loop delay maximum
  const probeKey = keyOf(keyCount - 1);
  await waitFor("the emptied follower to answer", async () => ((await statusOf(follower)) ? true : undefined), {
    child: follower.child,
  });
  const { commitIndex } = await statusOf(leader);
  let gapMaxMs = 0;
  let answers = 0;
  let last = performance.now();
  const tStart = last;
  for (;;) {
    const r = await http(`${follower.base}/v1/kv/${probeKey}?consistency=serializable`, { timeoutMs: 30_000 });
    const now = performance.now();
    gapMaxMs = Math.max(gapMaxMs, now - last);
    last = now;
    answers++;
    if (r.status === 200 && r.json?.value === valueOf(keyCount - 1)) {
      const s = await statusOf(follower);
      if (s.appliedIndex >= commitIndex) break;
    }
    if (now - tStart > 300_000) throw new Error(`${follower.name} did not catch up in 300 s`);
    await sleep(2);
  }
  const js = await metricsOf(follower);
  restore = { gapMaxMs, lagMaxMs: js.lagMaxMs, seconds: (last - tStart) / 1000, installSeconds: js.installSeconds };
  console.log(
    `${follower.name} restored the leader's snapshot in ${restore.seconds.toFixed(1)} s (install ${js.installSeconds.toFixed(2)} s): ${answers} serializable reads, longest gap between answers ${gapMaxMs.toFixed(0)} ms, longest event-loop delay ${js.lagMaxMs.toFixed(0)} ms`,
  );
  note(follower, await show("after restoring", follower));
  const terms = await Promise.all(members.map(async (m) => (await statusOf(m))?.term));
  console.log(`terms after the restore: ${terms.join(" / ")} (a stalled follower would have campaigned)`);
}

const worstMB = Math.max(...[...worstMiB.values()].map(mb));
console.log(
  `\n${keyCount.toLocaleString("en-US")} keys, ${memberCount} members: loaded in ${loadSeconds.toFixed(1)} s (target < ${loadLimitSeconds} s: ${loadSeconds < loadLimitSeconds ? "met" : "NOT met"}); RSS at most ${[...worstMiB.entries()].map(([name, mib]) => `${name} ${mb(mib).toFixed(0)} MB`).join(", ")} (target < ${limitMB} MB each: ${worstMB < limitMB ? "met" : "NOT met"})`,
);
if (restore !== undefined) {
  const stall = Math.max(restore.gapMaxMs, restore.lagMaxMs);
  console.log(
    `follower restore: longest stall ${stall.toFixed(0)} ms (target < ${stallLimitMs} ms: ${stall < stallLimitMs ? "met" : "NOT met"})`,
  );
}
await Promise.all(members.map((m) => stopProcess(m.child)));
if (opts.keep) console.log(`kept ${dir}`);
