// A smoke test of `npm run compare:engines` (bench/compare_engines.mjs) on its cheapest part: the
// simulator's per-command costs for every engine the simulator runs, over a few commands, and the
// report for every engine in the list (an engine this build lacks says so instead of a figure).
import assert from "node:assert/strict";
import { test } from "node:test";
import { engines, notInBuild, unavailable } from "../bench/compare/engines.mjs";
import { renderReport } from "../bench/compare/report.mjs";
import { simCosts } from "../bench/compare/sim_costs.mjs";
import { simulatorRuns } from "../bench/compare/sim_world.mjs";
import { simPartitions } from "../bench/compare/sim_partitions.mjs";

test("compare:engines measures each engine the simulator runs and reports the others as not available", async () => {
  const results = {};
  for (const engine of engines) {
    if (engine.kv && !simulatorRuns(engine.name)) {
      results[engine.name] = { sim: unavailable(notInBuild, "the simulator refuses it") };
      continue;
    }
    const costs = await simCosts(engine.name, { seed: 7, commands: 10 });
    assert.ok(costs !== undefined, `${engine.name}: the simulator ran another engine under its name`);
    // Three members, one client: every command is made durable on every member at least once, and
    // the leader hears back within one round trip on a healthy network.
    assert.equal(costs.single.committed, 10);
    assert.ok(costs.single.syncs >= 3, `${engine.name}: ${costs.single.syncs} fsyncs per command`);
    assert.ok(costs.single.messages >= 4, `${engine.name}: ${costs.single.messages} messages per command`);
    // A leader's log needs one round trip per command; a Basic Paxos write needs both phases.
    assert.equal(costs.roundTrips, engine.kv ? 1 : 2, `${engine.name}: ${costs.roundTrips} round trips`);
    results[engine.name] = { sim: costs };
  }
  assert.ok(results.raft.sim.available !== false, "Raft always runs");
  const report = {
    date: "2026-01-01T00:00:00Z",
    quick: true,
    settings: { clients: [1], loadRounds: 1, durationMs: 1000, failoverRounds: 1, catchUpKeys: 1, catchUpRounds: 1 },
    engines: engines.map((e) => e.name),
    results,
    loads: [],
  };
  const text = renderReport(report);
  for (const engine of engines) assert.match(text, new RegExp(`\\| ${engine.name} `));
  for (const [name, r] of Object.entries(results))
    if (r.sim.available === false) assert.match(text, /not available in this build/, name);
});

test("compare:engines runs the register service under the partitions, its checks clean and writes going on", async () => {
  const { results } = await simPartitions("basic-paxos", { seeds: 1 });
  for (const r of results) {
    assert.deepEqual(r.violations, [], r.scenario);
    // No leader to elect: a write at a member the cut spares is chosen within a few round trips.
    assert.ok(r.firstWriteMedianMs < 500, `${r.scenario}: first write ${r.firstWriteMedianMs} ms after the cut`);
    assert.ok(r.availability > 0.5, `${r.scenario}: ${r.availability} acknowledged`);
  }
});
