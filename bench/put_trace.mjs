// Where a put's latency goes (issue 18): a 3-member raftkv with the write trace on
// (RAFTKV_TRACE_WRITES=1, src/server/write_trace.ts), N puts from --clients keep-alive connections to
// the leader (each sends its next put when the last is answered), then the members stop, log their
// stamps, and this prints the median, p90 and p99 of each gap along the write's path: the leader's
// steps, each follower's, and the wire between them (with many clients, the tail of each step). `--no-trace` runs the same puts with the trace off, to show what it costs;
// `--data-root /dev/shm` puts the members' data on tmpfs, where fdatasync costs next to nothing, to
// show what a put costs besides the disk.
//
// Usage: npm run bench:put-trace [-- --puts 1000 --warmup 200 --clients 1 --no-trace --data-root DIR --keep]
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startRaftkv } from "./lib/etcd_and_raftkv.mjs";
import { fmtMs, openConns, percentile } from "./lib/load.mjs";
import { onExit, stopProcess } from "./lib/procs.mjs";

const { values: opts } = parseArgs({
  options: {
    puts: { type: "string", default: "1000" },
    warmup: { type: "string", default: "200" },
    clients: { type: "string", default: "1" },
    "no-trace": { type: "boolean", default: false },
    "data-root": { type: "string", default: tmpdir() },
    keep: { type: "boolean", default: false },
  },
});
const puts = Number(opts.puts);
const warmup = Number(opts.warmup);
const clients = Number(opts.clients);
const tracing = !opts["no-trace"];

const dir = mkdtempSync(join(opts["data-root"], "raftkv-put-trace-"));
onExit(() => {
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });
});
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
console.log(
  `# ${puts} puts from ${clients} client(s), each put after the last one's answer (after ${warmup} unmeasured), 16-byte keys, 128-byte values; trace ${tracing ? "on" : "off"}; data under ${dir}; load average ${load()}`,
);

const system = await startRaftkv(dir, tracing ? { RAFTKV_TRACE_WRITES: "1" } : undefined);
const leader = await system.leader();
const conns = await openConns(Array.from({ length: clients }, () => leader.client));
const value = "v".repeat(128);
const request = (i) => {
  const body = `${String(i).padStart(8, "0")}${value}`.slice(0, 128);
  return Buffer.from(
    `PUT /v1/kv/key${String(i % 10000).padStart(13, "0")} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
};
/** Sends puts `from` up to `to` (exclusive) over every connection at once; resolves with their latencies. */
async function putAll(from, to) {
  let next = from;
  const latencies = [];
  await Promise.all(
    conns.map(async (conn) => {
      while (next < to) {
        const i = next++;
        const started = performance.now();
        const status = await new Promise((resolve) => conn.send(request(i), resolve));
        if (status !== 200) throw new Error(`put ${i} answered ${status}`);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies;
}
await putAll(0, warmup);
const measuredFrom = performance.timeOrigin + performance.now();
const latencies = await putAll(warmup, warmup + puts);
for (const conn of conns) conn.close();
const loadAfter = load();
const leaderAfter = await system.leader().catch(() => undefined);
await Promise.all(system.members.map((m) => stopProcess(m.child)));

const sorted = (xs) => Float64Array.from(xs.filter(Number.isFinite)).sort();
const row = (label, xs) => {
  const s = sorted(xs);
  return `| ${label} | ${fmtMs(percentile(s, 0.5))} | ${fmtMs(percentile(s, 0.9))} | ${fmtMs(percentile(s, 0.99))} | ${s.length} |`;
};
const changed =
  leaderAfter === leader
    ? ""
    : ` (leader after the puts: ${leaderAfter?.name ?? "none"}: an election, the trace is partial)`;
console.log(`\nleader ${leader.name}${changed}; load average after: ${loadAfter}\n`);
console.log("| measured by the client | p50 ms | p90 ms | p99 ms | puts |\n|---|---|---|---|---|");
console.log(row("put round trip", latencies));
if (tracing) printGaps();

function traceOf(member) {
  const lines = readFileSync(member.child.logPath, "utf8").split("\n");
  const line = lines.find((l) => l.includes('"write trace"'));
  if (line === undefined) throw new Error(`no write trace in ${member.child.logPath}`);
  return new Map(JSON.parse(line).writeTrace.map((r) => [r.index, r]));
}

function printGaps() {
  const leaderTrace = traceOf(leader);
  const followers = system.members.filter((m) => m !== leader).map((m) => ({ name: m.name, trace: traceOf(m) }));
  const writes = [...leaderTrace.values()].filter((r) => r.received >= measuredFrom);
  const gap = (from, to) => writes.map((r) => to(r) - from(r));
  const at = (step) => (r) => r[step];
  // The follower whose acknowledgement arrived first: the one the commit waited for.
  const first = (r) =>
    followers
      .map((f) => f.trace.get(r.index))
      .filter((x) => x?.persisted !== undefined)
      .sort((a, b) => a.persisted - b.persisted)[0] ?? {};
  const f = (step) => (r) => first(r)[step];
  console.log(
    "\n| step of the put (over the measured puts) | p50 ms | p90 ms | p99 ms | puts |\n|---|---|---|---|---|",
  );
  const rows = [
    ["leader: request arrived → proposed (body read, checks, encode)", gap(at("received"), at("proposed"))],
    ["leader: proposed → its Ready taken (waiting for the loop's turn)", gap(at("proposed"), at("readyStarted"))],
    ["leader: Ready taken → WAL durable (write + fdatasync)", gap(at("readyStarted"), at("persisted"))],
    ["wire: appends handed to the link → first follower has them", gap(at("readyStarted"), f("appendReceived"))],
    ["follower: append arrived → its Ready taken", gap(f("appendReceived"), f("readyStarted"))],
    ["follower: Ready taken → WAL durable, ack sent", gap(f("readyStarted"), f("persisted"))],
    ["wire: follower's ack sent → leader has it", gap(f("persisted"), at("ack1"))],
    [
      "leader: WAL durable and first ack in → commit Ready taken",
      gap((r) => Math.max(r.ack1, r.persisted), at("committed")),
    ],
    ["leader: commit Ready taken → applied", gap(at("committed"), at("applied"))],
    ["leader: applied → answer written", gap(at("applied"), at("replied"))],
    ["leader: request arrived → answer written", gap(at("received"), at("replied"))],
    ["(leader WAL durable − first ack in; > 0: the leader's disk was last)", gap(at("ack1"), at("persisted"))],
    ["(second follower's ack, after the first)", gap(at("ack1"), at("ack2"))],
  ];
  for (const [label, xs] of rows) console.log(row(label, xs));
}
if (opts.keep) console.log(`\nkept ${dir}`);
