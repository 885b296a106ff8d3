// Memory target of issue 7: a single raftkv member holding 1 000 000 keys of 16 bytes with 128-byte
// values should stay under 400 MB RSS. Loads the keys over HTTP (POST /v1/txn with --batch puts per
// request, or one PUT per key with --batch 1) from --clients keep-alive connections, and prints the
// member's RSS (VmRSS, and the peak VmHWM) at milestones, after loading and after an idle pause.
// Usage: npm run bench:memory [-- --keys 1000000 --batch 100 --clients 32 --idle 10s --keep]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { openConns, sleep } from "./lib/load.mjs";
import { freePorts, http, memoryOf, onExit, startProcess, stopProcess, waitFor } from "./lib/procs.mjs";

const { values: opts } = parseArgs({
  options: {
    keys: { type: "string", default: "1000000" },
    batch: { type: "string", default: "100" },
    clients: { type: "string", default: "32" },
    idle: { type: "string", default: "10" },
    keep: { type: "boolean", default: false },
  },
});
const keyCount = Number(opts.keys);
const batch = Number(opts.batch);
const clients = Number(opts.clients);
const idleSeconds = Number.parseFloat(opts.idle);
const limitMB = 400;

const keyOf = (i) => `key${String(i).padStart(13, "0")}`; // 16 bytes
const valueOf = (i) => (String(i).padStart(8, "0") + "abcdefghijklmnopqrstuvwxyz".repeat(5)).slice(0, 128);

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
const [peerPort, clientPort] = await freePorts(2);
const cli = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
const child = startProcess(
  process.execPath,
  [
    cli,
    "serve",
    "--id",
    "n1",
    "--data",
    join(dir, "n1"),
    "--listen-peer",
    `127.0.0.1:${peerPort}`,
    "--listen-client",
    `127.0.0.1:${clientPort}`,
    "--initial-cluster",
    `n1=127.0.0.1:${peerPort}`,
  ],
  join(dir, "n1.log"),
);
const base = `http://127.0.0.1:${clientPort}`;
await waitFor(
  "raftkv to accept a write",
  async () => ((await http(`${base}/v1/kv/ready`, { method: "PUT", body: "1" })).status === 200 ? true : undefined),
  { child },
);

const mem = () => memoryOf(child.pid);
const heapMiB = async () => {
  const text = (await http(`${base}/metrics`)).text;
  const m = /^nodejs_heap_size_used_bytes ([0-9.e+]+)$/m.exec(text);
  return m === null ? NaN : Number(m[1]) / 2 ** 20;
};
const show = async (label) => {
  const m = mem();
  console.log(
    `${label.padEnd(28)} RSS ${m.rssMiB.toFixed(0).padStart(4)} MiB (peak ${m.peakMiB.toFixed(0)} MiB), JS heap used ${(await heapMiB()).toFixed(0)} MiB`,
  );
  return m;
};

console.log(
  `loading ${keyCount.toLocaleString("en-US")} keys (16 B keys, 128 B values) into one member, ${batch <= 1 ? "one PUT per key" : `${batch} puts per txn`}, ${clients} connections`,
);
await show("empty");
const conns = await openConns(Array.from({ length: clients }, () => ({ host: "127.0.0.1", port: clientPort })));
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
              if (failures > 100) throw new Error(`too many failed loads: ${JSON.stringify(failedStatuses)}`);
              retries.push(first); // 504 or a dropped connection: unknown outcome; a put is idempotent
            } else {
              const before = loaded;
              loaded += Math.min(step, keyCount - first);
              const crossed = milestones.find((k) => before < k && loaded >= k);
              if (crossed !== undefined) {
                const m = mem();
                console.log(
                  `${`${crossed.toLocaleString("en-US")} keys`.padEnd(28)} RSS ${m.rssMiB.toFixed(0).padStart(4)} MiB (peak ${m.peakMiB.toFixed(0)} MiB), ${((performance.now() - t0) / 1000).toFixed(0)} s`,
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
const seconds = (performance.now() - t0) / 1000;
console.log(
  `loaded ${loaded.toLocaleString("en-US")} keys in ${seconds.toFixed(1)} s (${Math.round(loaded / seconds).toLocaleString("en-US")} keys/s), ${failures} failed requests retried ${JSON.stringify(failedStatuses)}`,
);
for (const i of [0, Math.floor(keyCount / 2), keyCount - 1]) {
  const r = await http(`${base}/v1/kv/${keyOf(i)}`);
  if (r.status !== 200 || r.json?.value !== valueOf(i))
    throw new Error(`key ${keyOf(i)} does not read back (${r.status})`);
}
const after = await show("after loading");
await sleep(idleSeconds * 1000);
const idle = await show(`after ${idleSeconds} s idle`);
const status = (await http(`${base}/v1/status`)).json;
console.log(`log: lastIndex ${status?.lastIndex}, snapshotIndex ${status?.snapshotIndex}`);
const worst = (Math.max(after.rssMiB, idle.rssMiB) * 2 ** 20) / 1e6;
console.log(
  `\n${keyCount.toLocaleString("en-US")} keys: RSS ${((idle.rssMiB * 2 ** 20) / 1e6).toFixed(0)} MB after idle, ${worst.toFixed(0)} MB at most after loading, peak ${((idle.peakMiB * 2 ** 20) / 1e6).toFixed(0)} MB during loading; target < ${limitMB} MB: ${worst < limitMB ? "met" : "NOT met"}`,
);
await stopProcess(child);
if (opts.keep) console.log(`kept ${dir}`);
