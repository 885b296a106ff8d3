import { test } from "node:test";
import assert from "node:assert/strict";
import { IdAllocator } from "./id_allocator.js";
import { optionsFromSeed, runWithOptions, type RunOptions } from "./vopr.js";

/** Seeds with crashes, snapshots and followers that only a snapshot can catch up. */
function snapshotHeavy(seed: number, create: () => IdAllocator): RunOptions {
  const base = optionsFromSeed(seed);
  // Watches and leases need the KV store, which this run replaces.
  return {
    ...base,
    coordination: undefined,
    cluster: { ...base.cluster, snapshotEntries: 8, snapshotKeepEntries: 0, stateMachine: { create } },
  };
}

/** Snapshots a counter one behind its applied index: the bug "applied index not stored with the state". */
class ForgetfulAllocator extends IdAllocator {
  override snapshot(): Uint8Array {
    const bytes = super.snapshot();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    view.setFloat64(0, view.getFloat64(0) - 1);
    return bytes;
  }
}

const SEEDS = Array.from({ length: 30 }, (_, k) => k + 1);

test("the ID allocator never hands out an ID twice across crashes, restarts and snapshot installs", async () => {
  const results = await Promise.all(SEEDS.map((seed) => runWithOptions(snapshotHeavy(seed, () => new IdAllocator()))));
  for (const result of results) assert.deepEqual(result.violations, [], `npm run sim -- --seed ${result.seed} --trace`);
  assert.ok(results.reduce((sum, r) => sum + r.snapshotsInstalled, 0) > 0, "some follower was caught up by a snapshot");
});

test("a state machine that restores a state not matching its snapshot's index is caught", async () => {
  const results = await Promise.all(
    SEEDS.map((seed) => runWithOptions(snapshotHeavy(seed, () => new ForgetfulAllocator()))),
  );
  const caught = results.filter((r) => r.violations.some((v) => v.kind === "stateMachineSafety"));
  assert.ok(caught.length > 0, "the checker must catch the forgetful allocator on some seed");
});
