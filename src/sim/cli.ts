#!/usr/bin/env node
/**
 * `npm run sim -- --seeds N [--from S] [--workers W] [--concurrency C] [--stop-at-first] [--engine E]`
 * sweeps seeds; `npm run sim -- --seed S --trace` replays one with a trace of everything that
 * happened. `--engine multi-paxos` or `--engine zab` runs that engine instead of Raft (the default).
 * Exits non-zero on any violation and prints the command that reproduces it.
 */
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import type { EngineName } from "../engine/engine.js";
import { sweep } from "./sweep.js";
import { consoleTracer } from "./trace.js";
import { noCoordination, type CoordinationCounts } from "./coordination_counts.js";
import { runSeed, type RunResult } from "./vopr.js";

interface Range {
  readonly seeds: readonly number[];
  readonly concurrency: number;
  readonly engine: EngineName;
}

function parseEngine(text: string | undefined): EngineName {
  if (text === undefined || text === "raft" || text === "multi-paxos" || text === "zab") return text ?? "raft";
  console.error(`--engine must be raft, multi-paxos or zab, got ${JSON.stringify(text)}`);
  process.exit(2);
}

function parseCount(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
}

function reportFailure(result: RunResult, engine: EngineName): void {
  for (const v of result.violations) console.error(`seed ${result.seed}: ${v.kind}: ${v.message}`);
  const flag = engine === "raft" ? "" : ` --engine ${engine}`;
  console.error(`reproduce: npm run sim -- --seed ${result.seed} --trace${flag}`);
}

function describe(result: RunResult): string {
  return (
    `seed ${result.seed}: ${result.nodeCount} members, ${result.steps} steps, ${result.messages} messages, ${result.virtualMs.toFixed(0)} virtual ms, ` +
    `requests ${JSON.stringify(result.requests)}, history ${result.operations} operations, snapshots installed ${result.snapshotsInstalled}, ` +
    `${describeCoordination(result.coordination)}, violations ${result.violations.length}`
  );
}

function describeCoordination(c: CoordinationCounts): string {
  return (
    `watch messages ${c.watchMessages} (resumes ${c.resumes}, slow ${c.slowCancels}), compactions ${c.compactions}, ` +
    `leases granted ${c.leasesGranted} (expired ${c.leasesExpired}, revoked ${c.leasesRevoked}), keepalives acknowledged ${c.keepalivesAcked}`
  );
}

async function replay(seed: number, trace: boolean, engine: EngineName): Promise<void> {
  const result = await runSeed(seed, trace ? consoleTracer((line) => console.log(line)) : undefined, engine);
  console.log(describe(result));
  if (result.violations.length > 0) {
    reportFailure(result, engine);
    process.exitCode = 1;
  }
}

/**
 * Splits the seeds over worker threads (one per core by default), each running `concurrency` seeds
 * at a time; with `stopAtFirst`, stops them all at the first violation.
 */
async function sweepAll(options: {
  from: number;
  count: number;
  workers: number;
  concurrency: number;
  stopAtFirst: boolean;
  engine: EngineName;
}): Promise<void> {
  const { from, count, workers, concurrency, stopAtFirst, engine } = options;
  const threads: Worker[] = [];
  const started = performance.now();
  const totals = { steps: 0, messages: 0, snapshots: 0, operations: 0 };
  const coordination = noCoordination();
  const failed: RunResult[] = [];
  const onResult = (result: RunResult): void => {
    totals.steps += result.steps;
    totals.messages += result.messages;
    totals.snapshots += result.snapshotsInstalled;
    totals.operations += result.operations;
    for (const key of Object.keys(coordination) as (keyof CoordinationCounts)[])
      coordination[key] += result.coordination[key];
    if (result.violations.length > 0) {
      failed.push(result);
      reportFailure(result, engine);
      if (stopAtFirst) for (const thread of threads) void thread.terminate();
    }
  };
  const ranges: Range[] = Array.from({ length: workers }, (_, w) => ({
    seeds: Array.from({ length: count }, (_, k) => from + k).filter((_, k) => k % workers === w),
    concurrency,
    engine,
  }));
  await Promise.all(
    ranges.map(
      (range) =>
        new Promise<void>((resolve, reject) => {
          const worker = new Worker(fileURLToPath(import.meta.url), { workerData: range });
          threads.push(worker);
          worker.on("message", (result: RunResult) => onResult(result));
          worker.on("error", reject);
          worker.on("exit", (code) =>
            code === 0 || failed.length > 0 ? resolve() : reject(new Error(`a sweep worker exited with ${code}`)),
          );
        }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const runs = stopAtFirst && failed.length > 0 ? "stopped at the first violation:" : `runs ${count},`;
  console.log(
    `${runs} steps ${totals.steps}, messages ${totals.messages}, history operations ${totals.operations}, snapshots installed ${totals.snapshots}, ` +
      `${describeCoordination(coordination)}, violations ${failed.length}, ${seconds.toFixed(1)} s, ${(count / seconds).toFixed(1)} seeds/s (${workers} workers × ${concurrency} at a time)`,
  );
  if (failed.length > 0) process.exitCode = 1;
}

const usage = `usage: npm run sim -- --seeds N [--from S] [--workers W] [--concurrency C] [--stop-at-first] [--engine E]
       npm run sim -- --seed S [--trace] [--engine E]      (E: raft, the default, multi-paxos or zab)`;

function parseCli(): ReturnType<typeof parseOptions> | undefined {
  try {
    return parseOptions();
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    process.exitCode = 2;
    return undefined;
  }
}

function parseOptions() {
  return parseArgs({
    options: {
      seed: { type: "string" },
      seeds: { type: "string" },
      from: { type: "string" },
      workers: { type: "string" },
      concurrency: { type: "string" },
      trace: { type: "boolean", default: false },
      engine: { type: "string" },
      "stop-at-first": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
}

const parsed = isMainThread ? parseCli() : undefined;
if (parsed?.values.help === true) {
  console.log(usage);
} else if (parsed !== undefined) {
  const { values } = parsed;
  if (values.seed !== undefined) {
    await replay(parseCount(values.seed, "seed", 0), values.trace, parseEngine(values.engine));
  } else {
    const workers = Math.max(1, parseCount(values.workers, "workers", availableParallelism()));
    await sweepAll({
      from: parseCount(values.from, "from", 1),
      count: parseCount(values.seeds, "seeds", 100),
      workers,
      concurrency: Math.max(1, parseCount(values.concurrency, "concurrency", 1)),
      stopAtFirst: values["stop-at-first"],
      engine: parseEngine(values.engine),
    });
  }
} else if (!isMainThread) {
  // A sweep reports violations by message, and a failing seed replays with full stacks; the
  // workers do not pay for capturing one with every error the clients see (no leader, timeout).
  Error.stackTraceLimit = 0;
  const range = workerData as Range;
  await sweep(range.seeds, {
    concurrency: range.concurrency,
    engine: range.engine,
    onResult: (result) => parentPort!.postMessage(result),
  });
}
