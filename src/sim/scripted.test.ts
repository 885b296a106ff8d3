import { test } from "node:test";
import assert from "node:assert/strict";
import { ScriptedCluster } from "./scripted.js";

test("a campaign elects a leader whose proposals every node applies", () => {
  const c = new ScriptedCluster({ nodes: 3 });
  c.campaign(1);
  assert.equal(c.leader(), 1);
  const result = c.propose(1, new Uint8Array([42]));
  assert.equal(result.ok, true);
  c.tickAll(2);
  for (const id of [1, 2, 3]) {
    const data = c.applied(id).map((e) => [...e.data]);
    assert.deepEqual(data, [[], [42]], `node ${id}`);
  }
});
