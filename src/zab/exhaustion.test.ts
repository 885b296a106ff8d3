import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8, utf8 } from "../util/bytes.js";
import { Pump } from "./pump.test.helper.js";

/** Proposes `count` values one after another, retrying while no leader takes them. */
function proposeAll(pump: Pump, count: number): string[] {
  const refusals: string[] = [];
  for (let k = 0; k < count; k++) {
    for (let attempt = 0; ; attempt++) {
      assert.ok(attempt < 200, `value ${k} never found a leader`);
      const leader = pump.leader();
      const result = leader === undefined ? undefined : pump.node(leader).propose(utf8(`v${k}`));
      if (result?.ok === true) break;
      if (result !== undefined) refusals.push(result.error);
      pump.run(1);
    }
    pump.deliverAll();
  }
  return refusals;
}

for (const counterBits of [3, 1]) {
  test(`with a ${counterBits}-bit counter the leader moves to a new epoch when it runs out, and commits on`, () => {
    const pump = new Pump({ size: 3, seed: 31, zab: { counterBits } });
    pump.runUntil(() => pump.leader() !== undefined);
    const refusals = proposeAll(pump, 20);
    pump.runUntil(() => pump.allDelivered(20));
    assert.ok(refusals.includes("epochExhausted"), "an exhausted leader refuses before rolling over");
    const perEpoch = 2 ** counterBits - 1;
    for (const id of pump.members) {
      const delivered = pump.delivered.get(id)!;
      assert.deepEqual(
        delivered.map((e) => fromUtf8(e.data)),
        Array.from({ length: 20 }, (_, k) => `v${k}`),
        "one client's writes in its order",
      );
      assert.ok(delivered.every((e) => e.zxid.counter >= 1 && e.zxid.counter <= perEpoch));
      const epochs = new Set(delivered.map((e) => e.zxid.epoch));
      assert.ok(epochs.size >= Math.ceil(20 / perEpoch), `20 values over ${epochs.size} epochs`);
    }
  });
}
