import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node } from "../node/index.js";
import { nodeIdOf } from "../node/names.js";
import type { NodeId } from "../raft/index.js";
import { Activity, sumRates } from "./dashboard_state.js";

function fakeNode(leader: string | undefined, term = 4): Node {
  const ids = new Map(["n1", "n2", "n3"].map((n) => [nodeIdOf(n) as number, n]));
  return {
    nameOf: (id: NodeId) => ids.get(id) ?? String(id),
    raft: { status: () => ({ term, leader: leader === undefined ? 0 : nodeIdOf(leader) }) },
  } as unknown as Node;
}

test("request rates: one sample per whole second of the window, counted where requests enter", () => {
  let now = 1_000_000_500;
  const activity = new Activity({ now: () => now, rateSeconds: 10 });
  activity.served("write");
  activity.served("read");
  activity.served("read");
  now += 1000;
  activity.served("write");
  now += 1000;
  const rates = activity.rates();
  assert.equal(rates.length, 9, "the current, incomplete second is left out");
  assert.deepEqual(rates.slice(-2), [
    { t: 1_000_000, reads: 2, writes: 1 },
    { t: 1_000_001, reads: 0, writes: 1 },
  ]);
  assert.ok(rates.slice(0, -2).every((r) => r.reads === 0 && r.writes === 0));
  // A slot reused after the window has gone round starts from zero.
  now += 10_000;
  activity.served("read");
  now += 1000;
  assert.deepEqual(activity.rates().at(-1), { t: 1_000_012, reads: 1, writes: 0 });
  assert.ok(
    activity
      .rates()
      .slice(0, -1)
      .every((r) => r.reads === 0 && r.writes === 0),
    "old counts are gone",
  );
});

test("leader and membership histories are bounded and say when the current leader took over", () => {
  let now = 5_000;
  const activity = new Activity({ now: () => now, changesMax: 3 });
  let node = fakeNode("n1", 2);
  activity.attach(node);
  const observer = activity.observer();
  assert.equal(activity.leaderSince(), undefined);
  observer.leaderChanged?.(nodeIdOf("n1"));
  assert.equal(activity.leaderSince(), 5_000);
  for (const [k, name] of ["n2", "n3", "n1", "n2"].entries()) {
    now += 1000;
    node = fakeNode(name, 3 + k);
    activity.attach(node);
    observer.leaderChanged?.(nodeIdOf(name));
  }
  assert.deepEqual(
    activity.leaderChanges().map((c) => [c.leader, c.term, c.at]),
    [
      ["n3", 4, 7_000],
      ["n1", 5, 8_000],
      ["n2", 6, 9_000],
    ],
  );
  assert.equal(activity.leaderSince(), 9_000);
  activity.attach(fakeNode(undefined));
  assert.equal(activity.leaderSince(), undefined, "no leader known: no 'since'");
  observer.configApplied?.(1, { op: "bootstrap", voters: [nodeIdOf("n1"), nodeIdOf("n2")] });
  assert.deepEqual(
    activity.memberChanges().map((c) => [c.index, c.op, c.text]),
    [[1, "bootstrap", "cluster bootstrapped with voters n1, n2"]],
  );
});

test("rates of several members add up by second", () => {
  assert.deepEqual(
    sumRates([
      [
        { t: 1, reads: 1, writes: 2 },
        { t: 2, reads: 3, writes: 0 },
      ],
      [
        { t: 2, reads: 1, writes: 1 },
        { t: 3, reads: 0, writes: 5 },
      ],
    ]),
    [
      { t: 1, reads: 1, writes: 2 },
      { t: 2, reads: 4, writes: 1 },
      { t: 3, reads: 0, writes: 5 },
    ],
  );
});
