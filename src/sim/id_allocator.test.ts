import { test } from "node:test";
import assert from "node:assert/strict";
import { IdAllocator } from "./id_allocator.js";
import { optionsFromSeed, runWithOptions, type RunOptions } from "./vopr.js";

/** Seeds with crashes, snapshots and followers that only a snapshot can catch up. */
function snapshotHeavy(seed: number, createStateMachine: () => IdAllocator): RunOptions {
  const base = optionsFromSeed(seed);
  return { ...base, cluster: { ...base.cluster, snapshotEntries: 8, snapshotKeepEntries: 0, createStateMachine } };
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

test("the ID allocator never hands out an ID twice across crashes, restarts and snapshot installs", () => {
  let installs = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const result = runWithOptions(snapshotHeavy(seed, () => new IdAllocator()));
    assert.deepEqual(result.violations, [], `npm run sim -- --seed ${seed} --trace`);
    installs += result.snapshotsInstalled;
  }
  assert.ok(installs > 0, "some follower was caught up by a snapshot");
});

test("a state machine that restores a state not matching its snapshot's index is caught handing out an ID twice", () => {
  const caught = [];
  for (let seed = 1; seed <= 30; seed++) {
    const result = runWithOptions(snapshotHeavy(seed, () => new ForgetfulAllocator()));
    if (result.violations.some((v) => v.kind === "stateMachineSafety")) caught.push(seed);
  }
  assert.ok(caught.length > 0, "the checker must catch the forgetful allocator on some seed");
});
