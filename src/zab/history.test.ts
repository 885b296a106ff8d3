import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "../util/assert.js";
import { History } from "./history.js";
import { epoch, zxid, ZXID_ZERO, type Txn, type Zxid } from "./types.js";

const txn = (e: number, counter: number): Txn => ({ zxid: zxid(e, counter), data: Uint8Array.of(e, counter) });
const history = (...zxids: [number, number][]): History => new History(zxids.map(([e, c]) => txn(e, c)));
const zxids = (h: History): Zxid[] => Array.from({ length: h.length }, (_, k) => h.zxidAt(k + 1));

test("extents list each epoch's last counter, newest first", () => {
  const h = history([1, 1], [1, 2], [1, 3], [3, 1], [4, 1], [4, 2]);
  assert.deepEqual(h.extents(), [
    { epoch: 4, lastCounter: 2 },
    { epoch: 3, lastCounter: 1 },
    { epoch: 1, lastCounter: 3 },
  ]);
  assert.deepEqual(history().extents(), []);
});

test("commonIndex finds the highest zxid both histories hold, even when their last zxids differ", () => {
  const leader = history([1, 1], [1, 2], [2, 1], [2, 2]);
  // A follower that kept (1, 3), which the epoch-2 leader never had.
  assert.equal(leader.commonIndex(history([1, 1], [1, 2], [1, 3]).extents()), 2);
  // A follower that went on to epoch 3 with (1, 3): the naive "largest zxid below its last" is (2, 2), which it lacks.
  assert.equal(leader.commonIndex(history([1, 1], [1, 2], [1, 3], [3, 1]).extents()), 2);
  // A follower behind: all of its history is common.
  assert.equal(leader.commonIndex(history([1, 1], [1, 2], [2, 1]).extents()), 3);
  assert.equal(leader.commonIndex([]), 0);
});

test("merge keeps matching entries, replaces from the first mismatch and drops an older epoch's tail", () => {
  const h = history([1, 1], [1, 2], [1, 3], [1, 4]);
  assert.ok(h.merge({ prevZxid: zxid(1, 1), txns: [txn(1, 2), txn(2, 1)], leaderEpoch: epoch(2), committed: 1 }));
  assert.deepEqual(zxids(h), [zxid(1, 1), zxid(1, 2), zxid(2, 1)]);
  const tail = history([1, 1], [1, 2], [1, 3]);
  assert.ok(tail.merge({ prevZxid: zxid(1, 2), txns: [], leaderEpoch: epoch(2), committed: 2 }));
  assert.deepEqual(zxids(tail), [zxid(1, 1), zxid(1, 2)], "(1, 3) is in no history of epoch 2's leader after (1, 2)");
});

test("a late merge never cuts the leader's own epoch: acknowledged proposals stay", () => {
  const h = history([1, 1], [2, 1], [2, 2], [2, 3]);
  assert.ok(h.merge({ prevZxid: ZXID_ZERO, txns: [txn(1, 1), txn(2, 1)], leaderEpoch: epoch(2), committed: 0 }));
  assert.equal(h.length, 4);
});

test("merge refuses a run whose predecessor is missing, and asserts before cutting a committed entry", () => {
  const h = history([1, 1], [1, 2]);
  assert.equal(h.merge({ prevZxid: zxid(1, 5), txns: [txn(1, 6)], leaderEpoch: epoch(1), committed: 0 }), false);
  assert.equal(h.length, 2);
  assert.throws(
    () => h.merge({ prevZxid: zxid(1, 1), txns: [txn(2, 1)], leaderEpoch: epoch(2), committed: 2 }),
    AssertionError,
  );
});

test("writes carry truncations and appends; durability follows the writes in order and shrinks with a truncation", () => {
  const h = history([1, 1], [1, 2], [1, 3]);
  assert.equal(h.hasUnwritten(), false);
  h.truncate(1);
  h.append(txn(2, 1));
  const first = h.takeWrite();
  assert.equal(first.truncateAfter, 1);
  assert.deepEqual(
    first.entries.map((e) => e.index),
    [2],
  );
  assert.equal(h.durableLength, 1);
  h.append(txn(2, 2));
  const second = h.takeWrite();
  assert.equal(second.truncateAfter, undefined);
  h.persisted();
  assert.equal(h.durableLength, 2);
  h.truncate(1);
  h.persisted();
  assert.equal(h.durableLength, 1, "the second write's entries were cut after it was taken");
  assert.throws(() => h.persisted(), AssertionError);
});

test("indexOf and indexAtOrBefore locate zxids by binary search", () => {
  const h = history([1, 1], [1, 2], [3, 1], [3, 2]);
  assert.equal(h.indexOf(zxid(3, 1)), 3);
  assert.equal(h.indexOf(zxid(2, 1)), undefined);
  assert.equal(h.indexOf(ZXID_ZERO), 0);
  assert.equal(h.indexAtOrBefore(zxid(2, 9)), 2);
  assert.equal(h.indexAtOrBefore(zxid(9, 9)), 4);
  assert.equal(h.lastCounterIn(epoch(3)), 2);
  assert.equal(h.lastCounterIn(epoch(4)), 0);
});
