#!/usr/bin/env node
/**
 * `npm run sim -- --seeds N [--from S]` sweeps seeds; `npm run sim -- --seed S --trace` replays one.
 * Exits non-zero on any violation and prints the command that reproduces it.
 */
import { parseArgs } from "node:util";
import { consoleTracer } from "./trace.js";
import { runSeed, type RunResult } from "./vopr.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    seeds: { type: "string" },
    from: { type: "string" },
    trace: { type: "boolean", default: false },
  },
  strict: true,
});

function parseCount(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
}

function reportFailure(result: RunResult): void {
  for (const v of result.violations) console.error(`seed ${result.seed}: ${v.kind}: ${v.message}`);
  console.error(`reproduce: npm run sim -- --seed ${result.seed} --trace`);
}

if (values.seed !== undefined) {
  const seed = parseCount(values.seed, "seed", 0);
  const tracer = values.trace ? consoleTracer((line) => console.log(line)) : undefined;
  const result = runSeed(seed, tracer);
  console.log(
    `seed ${seed}: ${result.nodeCount} nodes, ${result.steps} steps, ${result.messages} messages, ${result.virtualMs} virtual ms, ` +
      `proposals ${JSON.stringify(result.proposals)}, snapshots installed ${result.snapshotsInstalled}, violations ${result.violations.length}`,
  );
  if (result.violations.length > 0) {
    reportFailure(result);
    process.exit(1);
  }
} else {
  const count = parseCount(values.seeds, "seeds", 100);
  const from = parseCount(values.from, "from", 1);
  const started = performance.now();
  let steps = 0;
  let messages = 0;
  let snapshots = 0;
  const failed: RunResult[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const result = runSeed(seed);
    steps += result.steps;
    messages += result.messages;
    snapshots += result.snapshotsInstalled;
    if (result.violations.length > 0) {
      failed.push(result);
      reportFailure(result);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `runs ${count}, steps ${steps}, messages ${messages}, snapshots installed ${snapshots}, violations ${failed.length}, ` +
      `${seconds.toFixed(1)} s, ${(count / seconds).toFixed(1)} seeds/s`,
  );
  if (failed.length > 0) process.exit(1);
}
