import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8, utf8 } from "../util/bytes.js";
import { Pump } from "./pump.test.helper.js";

test("three members elect the most recent member, establish epoch 1 and commit proposals in order everywhere", () => {
  const pump = new Pump({ size: 3, seed: 7 });
  pump.runUntil(() => pump.members.every((id) => pump.node(id).softState().phase === "broadcast"));
  const leader = pump.leader()!;
  assert.equal(leader, 3, "with equal histories the highest id wins");
  assert.equal(pump.node(leader).status().epoch, 1);
  for (const id of pump.members) {
    const status = pump.node(id).status();
    assert.equal(status.acceptedEpoch, 1);
    assert.equal(status.currentEpoch, 1);
    assert.equal(status.phase, "broadcast");
  }
  const indexes = ["a", "b", "c"].map((v) => pump.propose(utf8(v)));
  assert.deepEqual(indexes, [1, 2, 3]);
  pump.runUntil(() => pump.allDelivered(3));
  for (const id of pump.members) {
    const delivered = pump.delivered.get(id)!;
    assert.deepEqual(
      delivered.map((e) => fromUtf8(e.data)),
      ["a", "b", "c"],
    );
    assert.deepEqual(
      delivered.map((e) => [e.zxid.epoch, e.zxid.counter]),
      [
        [1, 1],
        [1, 2],
        [1, 3],
      ],
    );
  }
});
