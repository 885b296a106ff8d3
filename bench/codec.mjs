// Peer codec throughput: encode + decode of a 64-entry AppendEntries with 128-byte entries (the
// shape the codec comparison in docs/testing.md uses). Usage: npm run build && node bench/codec.mjs
// Rounds alternate encode+decode with encode-only and decode-only; medians are printed, per CPU-second
// of this process (the unit docs/testing.md reports) and per wall-clock second.
import { performance } from "node:perf_hooks";
import { decodeMessage, encodeMessage } from "../dist/transport/index.js";

const entries = Array.from({ length: 64 }, (_, k) => ({
  index: 1001 + k,
  term: 7,
  kind: "normal",
  data: new Uint8Array(128).map((_, i) => (i * 31 + k) & 0xff),
}));
const message = {
  type: "appendEntries",
  from: 1,
  to: 2,
  term: 7,
  prevLogIndex: 1000,
  prevLogTerm: 7,
  entries,
  leaderCommit: 990,
};
const encoded = encodeMessage(message);
const check = decodeMessage(encoded);
if (!check.ok || check.message.entries.length !== 64) throw new Error("round trip failed");

const roundMs = 500;
const rounds = 7;
let sink = 0;

/** Messages per CPU-second (user + system time of this process): steadier than wall-clock on a busy machine. */
function measure(body) {
  let n = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - started < roundMs) {
    for (let k = 0; k < 256; k++) sink += body();
    n += 256;
  }
  const used = process.cpuUsage(cpu);
  const wallSeconds = (performance.now() - started) / 1000;
  return { cpu: n / ((used.user + used.system) / 1e6), wall: n / wallSeconds };
}

const cases = {
  "encode+decode": () => {
    const result = decodeMessage(encodeMessage(message));
    return result.ok ? result.message.entries.length : 0;
  },
  "encode only": () => encodeMessage(message).byteLength,
  "decode only": () => {
    const result = decodeMessage(encoded);
    return result.ok ? result.message.entries.length : 0;
  },
};

for (const body of Object.values(cases)) measure(body); // warm-up
const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let r = 0; r < rounds; r++) for (const [name, body] of Object.entries(cases)) samples[name].push(measure(body));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const format = (n) => Math.round(n).toLocaleString("en-US").padStart(10);
console.log(
  `AppendEntries, 64 entries × 128 B = ${encoded.byteLength} B encoded; node ${process.version}; median of ${rounds} rounds`,
);
for (const [name, xs] of Object.entries(samples)) {
  const cpu = median(xs.map((x) => x.cpu));
  const wall = median(xs.map((x) => x.wall));
  console.log(
    `${name.padEnd(14)} ${format(cpu)} msgs per CPU-second (${((cpu * encoded.byteLength) / 1e6).toFixed(0)} MB/s)   ${format(wall)} msgs/s wall-clock`,
  );
}
if (sink === 0) console.log("");
