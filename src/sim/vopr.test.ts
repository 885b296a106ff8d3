import assert from "node:assert/strict";
import { test } from "node:test";
import { runSeed } from "./vopr.js";

const SEEDS = [1, 2, 3, 17, 42, 1234, 99991];

test("agreement on an unreliable network with churn: fixed seeds keep every safety property and commit requests", async () => {
  for (const seed of SEEDS) {
    const result = await runSeed(seed);
    assert.deepEqual(result.violations, [], `seed ${seed}: reproduce with npm run sim -- --seed ${seed} --trace`);
    assert.ok(result.requests.committed > 0, `seed ${seed} committed no request: ${JSON.stringify(result.requests)}`);
    assert.ok(result.messages > 0 && result.steps > 0, `seed ${seed} did nothing`);
  }
});

test("a seed replays exactly: the same seed gives the same run, alone or beside others", async () => {
  const alone = await runSeed(7);
  const [beside] = await Promise.all([runSeed(7), runSeed(8), runSeed(9)]);
  const shape = (r: typeof alone): unknown => ({ steps: r.steps, messages: r.messages, virtualMs: r.virtualMs, requests: r.requests, operations: r.operations });
  assert.deepEqual(shape(beside!), shape(alone));
});
