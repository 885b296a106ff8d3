#!/usr/bin/env node
/**
 * `npm run sim:basic-paxos -- --seeds N [--from S] [--workers W] [--stop-at-first]` sweeps the Basic
 * Paxos register simulation (src/paxos/basic/sweep.ts) over seeds S..S+N-1, printing one line per
 * failed seed (`seed N: check: message`), then the totals. `--duel [--seeds N]` instead measures
 * duelling proposers without and with randomized backoff (src/paxos/basic/duel.ts).
 * Exits non-zero on any violation.
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { adversarialDuel, duel, histogram } from "../paxos/basic/duel.js";
import { runSeed } from "../paxos/basic/sweep.js";

interface SeedLine {
  readonly seed: number;
  readonly failures: readonly string[];
  readonly operations: number;
  readonly versions: number;
}

function sweepSeeds(seeds: readonly number[], stopAtFirst: boolean, report: (line: SeedLine) => void): void {
  for (const seed of seeds) {
    const result = runSeed(seed);
    const failures = result.violations.map((v) => `seed ${seed}: ${v.check}: ${v.message}`);
    report({ seed, failures, operations: result.operations, versions: result.versions });
    if (stopAtFirst && failures.length > 0) return;
  }
}

function count(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
}

function duels(seeds: number): void {
  for (const backoff of [0, 4]) {
    const run = adversarialDuel(backoff, 1000);
    console.log(
      `adversarial network (Prepares overtake Accepts), backoff ${backoff === 0 ? "off" : "[4, 8) ticks"}: ${run.rounds} prepare rounds, ${run.chosen ? "chosen" : "nothing chosen (livelock, stopped)"}, ${run.ticks} ticks`,
    );
  }
  for (const [label, backoff] of [
    ["backoff off (retry at once)", 0],
    ["randomized backoff in [4, 8) ticks", 4],
  ] as const) {
    const runs = Array.from({ length: seeds }, (_, i) => duel(i + 1, backoff));
    const preemptions = runs.map((r) => r.preemptions.length);
    const total = preemptions.reduce((a, b) => a + b, 0);
    console.log(`${label}, seeds 1..${seeds}:`);
    console.log(
      `  pre-emptions per run (count:runs) ${histogram(preemptions)}; total ${total}, max ${Math.max(...preemptions)}`,
    );
    console.log(`  prepare rounds per run ${histogram(runs.map((r) => r.rounds))}`);
    console.log(`  ticks to decide, max ${Math.max(...runs.map((r) => r.ticks))}`);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: "string" },
      from: { type: "string" },
      workers: { type: "string" },
      "stop-at-first": { type: "boolean" },
      duel: { type: "boolean" },
    },
    strict: true,
  });
  if (values.duel === true) {
    duels(count(values.seeds, "seeds", 300));
    return;
  }
  const total = count(values.seeds, "seeds", 1000);
  const from = count(values.from, "from", 1);
  const workers = Math.min(count(values.workers, "workers", Math.min(availableParallelism(), 4)), total);
  const stopAtFirst = values["stop-at-first"] === true;
  const started = performance.now();
  let [done, failed, operations, versions] = [0, 0, 0, 0];
  const onLine = (line: SeedLine): void => {
    done++;
    operations += line.operations;
    versions += line.versions;
    if (line.failures.length > 0) failed++;
    for (const failure of line.failures) console.log(failure);
  };
  const seeds = Array.from({ length: total }, (_, i) => from + i);
  const pool = Array.from({ length: workers }, (_, w) => {
    const share = seeds.filter((_, i) => i % workers === w);
    return new Worker(fileURLToPath(import.meta.url), { workerData: { seeds: share, stopAtFirst } });
  });
  await Promise.all(
    pool.map((worker) => {
      worker.on("message", (line: SeedLine) => {
        onLine(line);
        if (stopAtFirst && line.failures.length > 0) for (const other of pool) void other.terminate();
      });
      return new Promise<void>((resolve, reject) => {
        worker.on("error", reject);
        worker.on("exit", () => resolve());
      });
    }),
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `basic-paxos: ${done} seeds (${from}..${from + total - 1}) in ${seconds} s, ${operations} register operations, ${versions} versions chosen, ${failed} seeds with violations`,
  );
  if (failed > 0) process.exitCode = 1;
}

if (isMainThread) {
  await main();
} else {
  const { seeds, stopAtFirst } = workerData as { seeds: number[]; stopAtFirst: boolean };
  sweepSeeds(seeds, stopAtFirst, (line) => parentPort!.postMessage(line));
}
