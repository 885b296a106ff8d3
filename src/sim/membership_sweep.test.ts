/**
 * Seeded runs that change membership (random adds, promotions, removals and transfers under the
 * sweep's faults), checked for every violation, with every kind of change applied somewhere.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Tracer } from "./trace.js";
import { optionsFromSeed, runWithOptions, type RunResult } from "./vopr.js";

test("seed sweep of membership-change runs: at least 100 seeded runs with random adds, promotions, removals and transfers, no violation", async () => {
  const FROM = 10_001;
  const TO = 10_300;
  // The fault schedule traces each change it asks for ("promote n4: applied"); count the applied ones by kind.
  const accepted = new Map<string, number>();
  const tracer: Tracer = (_time, _node, text) => {
    const m = /^(add learner|promote|remove|transfer leadership) [^:]*?( \(the leader\))?: (applied|accepted)$/.exec(
      text,
    );
    if (m !== null) accepted.set(m[1]! + (m[2] ?? ""), (accepted.get(m[1]! + (m[2] ?? "")) ?? 0) + 1);
  };
  const seeds: number[] = [];
  for (let seed = FROM; seed < TO; seed++) if (optionsFromSeed(seed).membershipChanges) seeds.push(seed);
  // Membership alone: in the main sweep these KV runs also run watches and leases, whose faults and
  // timing change what the schedule draws; the coverage asserted below was found on this schedule.
  const run = (seed: number): Promise<RunResult> =>
    runWithOptions({ ...optionsFromSeed(seed, tracer), coordination: undefined });
  const results: RunResult[] = [];
  for (let k = 0; k < seeds.length; k += 16) results.push(...(await Promise.all(seeds.slice(k, k + 16).map(run))));
  const failed = results.filter((r) => r.violations.length > 0);
  const report = failed
    .map(
      (r) =>
        `seed ${r.seed}: ${r.violations.map((v) => `${v.kind}: ${v.message}`).join("; ")}\n  reproduce: runWithOptions({ ...optionsFromSeed(${r.seed}, tracer), coordination: undefined })`,
    )
    .join("\n");
  assert.equal(failed.length, 0, `${failed.length} of ${seeds.length} membership-change seeds failed:\n${report}`);
  assert.ok(seeds.length >= 100, `only ${seeds.length} membership-change runs in seeds [${FROM}, ${TO})`);
  for (const kind of ["add learner", "promote", "remove", "remove (the leader)", "transfer leadership"]) {
    assert.ok((accepted.get(kind) ?? 0) > 0, `no applied "${kind}" across the sweep: ${JSON.stringify([...accepted])}`);
  }
});
