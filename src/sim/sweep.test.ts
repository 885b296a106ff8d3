import assert from "node:assert/strict";
import { test } from "node:test";
import { runSeed, type RunResult } from "./vopr.js";

const FROM = 1;
const COUNT = 300;

test(`seed sweep: ${COUNT} seeded fault runs (3- and 5-node clusters) report no safety or liveness violation`, () => {
  const failed: RunResult[] = [];
  const nodeCounts = new Map<number, number>();
  let committed = 0;
  for (let seed = FROM; seed < FROM + COUNT; seed++) {
    const result = runSeed(seed);
    nodeCounts.set(result.nodeCount, (nodeCounts.get(result.nodeCount) ?? 0) + 1);
    committed += result.proposals.committed;
    if (result.violations.length > 0) failed.push(result);
  }
  const report = failed
    .map((r) => `seed ${r.seed}: ${r.violations.map((v) => `${v.kind}: ${v.message}`).join("; ")}\n  reproduce: npm run sim -- --seed ${r.seed} --trace`)
    .join("\n");
  assert.equal(failed.length, 0, `${failed.length} of ${COUNT} seeds failed:\n${report}`);
  assert.ok((nodeCounts.get(3) ?? 0) > 0, "no 3-node cluster was swept");
  assert.ok((nodeCounts.get(5) ?? 0) > 0, "no 5-node cluster was swept");
  assert.ok(committed > COUNT, `only ${committed} proposals committed across the sweep`);
});
