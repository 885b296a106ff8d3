import assert from "node:assert/strict";
import { test } from "node:test";
import { runSeed } from "./vopr.js";

const SEEDS = [1, 2, 3, 17, 42, 1234, 99991];

test("agreement on an unreliable network with churn: fixed seeds keep every safety property and commit requests", async () => {
  const results = await Promise.all(SEEDS.map((seed) => runSeed(seed)));
  for (const result of results) {
    assert.deepEqual(
      result.violations,
      [],
      `seed ${result.seed}: reproduce with npm run sim -- --seed ${result.seed} --trace`,
    );
    assert.ok(result.messages > 0 && result.steps > 0, `seed ${result.seed} did nothing`);
  }
  // Under the heaviest faults a seed may commit nothing before the heal; most commit plenty.
  const committing = results.filter((r) => r.requests.committed > 0).length;
  assert.ok(committing >= SEEDS.length - 2, `only ${committing} of ${SEEDS.length} seeds committed a request`);
});

test("a seed replays exactly: the same seed gives the same run, alone or beside others", async () => {
  const alone = await runSeed(7);
  const [beside] = await Promise.all([runSeed(7), runSeed(8), runSeed(9)]);
  const shape = (r: typeof alone): unknown => ({
    steps: r.steps,
    messages: r.messages,
    virtualMs: r.virtualMs,
    requests: r.requests,
    operations: r.operations,
    coordination: r.coordination,
  });
  assert.deepEqual(shape(beside), shape(alone));
});
