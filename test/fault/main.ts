/**
 * `npm run fault -- --time 300 --seed S [--workers 10] [--keys 8] [--snapshot-entries 2000] [--keep] [--secure] [--grpc]`: a fault run against real
 * processes; prints the faults as they happen, then the report (--keep keeps logs, data and history; --secure runs with TLS on both ports and auth on;
 * --grpc makes the workers speak etcd's v3 gRPC API). Exits 1 on a linearizability violation or a cluster that did not
 * recover, 2 on bad arguments, 130 on Ctrl-C (members killed, data removed).
 */
import { randomInt } from "node:crypto";
import { parseArgs } from "node:util";
import { formatReport, passed } from "./report.js";
import { runFault } from "./runner.js";

function count(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    console.error(`--${flag} must be a positive integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
}

// `node --test dist/` runs every file under a test/ folder as a test file, this one included: there
// it must not start a run of random seed and length (test/fault.test.ts is the run in npm test).
if (process.env.NODE_TEST_CONTEXT !== undefined) process.exit(0);

const { values } = parseArgs({
  options: {
    time: { type: "string" },
    seed: { type: "string" },
    workers: { type: "string" },
    keys: { type: "string" },
    "snapshot-entries": { type: "string" },
    keep: { type: "boolean" },
    secure: { type: "boolean" },
    grpc: { type: "boolean" },
  },
  strict: true,
});
const seed = count("seed", values.seed, randomInt(1, 2 ** 31));
const seconds = count("time", values.time, 60);
const workers = count("workers", values.workers, 10);
const keys = count("keys", values.keys, 8);
const snapshotEntries = count("snapshot-entries", values["snapshot-entries"], 2_000);
// The runner's exit hook kills the members and removes their data.
process.once("SIGINT", () => process.exit(130));
const secure = values.secure === true;
const grpc = values.grpc === true;
const replay = `npm run fault -- --time ${seconds} --seed ${seed} --workers ${workers} --keys ${keys} --snapshot-entries ${snapshotEntries}${secure ? " --secure" : ""}${grpc ? " --grpc" : ""}`;
console.log(`fault run: seed ${seed}, ${seconds} s (replay: ${replay})`);
try {
  const report = await runFault({
    seed,
    seconds,
    workers,
    keys,
    snapshotEntries,
    log: (line) => console.log(line),
    keep: values.keep === true,
    secure,
    grpc,
  });
  console.log(formatReport(report));
  process.exitCode = passed(report) ? 0 : 1;
} catch (error) {
  console.log(`seed ${seed}: the run failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
