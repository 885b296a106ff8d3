import assert from "node:assert/strict";
import { test } from "node:test";
import { sweep } from "./sweep.js";
import { runSeed } from "./vopr.js";

// A short sweep for every npm test; `npm run sim -- --engine zab --seeds 5000` is the long one.
const SEEDS = Array.from({ length: 30 }, (_, k) => k + 1);

test("ZAB in the simulator: 30 seeds keep its own checks and the shared ones, and commit requests", async () => {
  const results = await sweep(SEEDS, { concurrency: 4, engine: "zab" });
  for (const result of results) {
    assert.deepEqual(
      result.violations,
      [],
      `seed ${result.seed}: reproduce with npm run sim -- --seed ${result.seed} --trace --engine zab`,
    );
  }
  const committing = results.filter((r) => r.requests.committed > 0).length;
  assert.ok(committing >= SEEDS.length - 2, `only ${committing} of ${SEEDS.length} seeds committed a request`);
  assert.ok(
    results.some((r) => r.operations > 0),
    "the KV workload's histories were checked",
  );
});

test("a ZAB seed replays exactly", async () => {
  const [a, b] = await Promise.all([runSeed(11, undefined, "zab"), runSeed(11, undefined, "zab")]);
  assert.deepEqual(
    { steps: a.steps, messages: a.messages, virtualMs: a.virtualMs, requests: a.requests },
    { steps: b.steps, messages: b.messages, virtualMs: b.virtualMs, requests: b.requests },
  );
});
