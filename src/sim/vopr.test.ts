import assert from "node:assert/strict";
import { test } from "node:test";
import { runSeed } from "./vopr.js";

const SEEDS = [1, 2, 3, 17, 42, 1234, 99991];

test("agreement on an unreliable network with churn: fixed seeds keep every safety property and commit proposals", () => {
  for (const seed of SEEDS) {
    const result = runSeed(seed);
    assert.deepEqual(result.violations, [], `seed ${seed}: reproduce with npm run sim -- --seed ${seed} --trace`);
    assert.ok(result.proposals.committed > 0, `seed ${seed} committed no proposal: ${JSON.stringify(result.proposals)}`);
    assert.ok(result.messages > 0 && result.steps > 0, `seed ${seed} did nothing`);
  }
});

test("a seed replays exactly: the same seed gives the same run", () => {
  const a = runSeed(7);
  const b = runSeed(7);
  assert.deepEqual(
    { steps: b.steps, messages: b.messages, virtualMs: b.virtualMs, proposals: b.proposals },
    { steps: a.steps, messages: a.messages, virtualMs: a.virtualMs, proposals: a.proposals },
  );
});
