import assert from "node:assert/strict";
import { test } from "node:test";
import { noCoordination, type CoordinationCounts } from "./coordination_counts.js";
import { sweep } from "./sweep.js";

const FROM = 1;
const COUNT = 300;

test(`seed sweep: ${COUNT} seeded fault runs of the real node report no safety or liveness violation`, async () => {
  const results = await sweep(
    Array.from({ length: COUNT }, (_, k) => FROM + k),
    { concurrency: 1 },
  );
  const failed = results.filter((r) => r.violations.length > 0);
  const report = failed
    .map(
      (r) =>
        `seed ${r.seed}: ${r.violations.map((v) => `${v.kind}: ${v.message}`).join("; ")}\n  reproduce: npm run sim -- --seed ${r.seed} --trace`,
    )
    .join("\n");
  assert.equal(failed.length, 0, `${failed.length} of ${COUNT} seeds failed:\n${report}`);
  for (const members of [3, 5, 7])
    assert.ok(
      results.some((r) => r.nodeCount === members),
      `no ${members}-member cluster was swept`,
    );
  const committed = results.reduce((sum, r) => sum + r.requests.committed, 0);
  const operations = results.reduce((sum, r) => sum + r.operations, 0);
  assert.ok(committed > COUNT, `only ${committed} requests committed across the sweep`);
  assert.ok(operations > COUNT * 10, `only ${operations} operations in the checked histories`);
  // The watch and lease checks had work: every kind of activity they judge happened.
  for (const name of Object.keys(noCoordination()) as (keyof CoordinationCounts)[]) {
    const total = results.reduce((sum, r) => sum + r.coordination[name], 0);
    assert.ok(total > 0, `no ${name} across the sweep`);
  }
});
