import assert from "node:assert/strict";
import { test } from "node:test";
import type { KvEvent } from "../kv/index.js";
import { WatchHistory } from "./watch_history.js";

function put(revision: number, key: string, value: string): KvEvent {
  return {
    type: "put",
    key,
    kv: { value, createRevision: revision, modRevision: revision, version: 1, lease: 0 },
    prev: undefined,
  };
}

function history(revisions: number, valueBytes = 1): WatchHistory {
  const h = new WatchHistory(0);
  for (let r = 1; r <= revisions; r++) h.append(r, [put(r, `k${String(r).padStart(2, "0")}`, "v".repeat(valueBytes))]);
  return h;
}

test("a revision's events are found by index; the history starts after the revision it was created at", () => {
  const h = new WatchHistory(7);
  assert.deepEqual([h.firstRevision(), h.lastRevision(), h.revisionCount(), h.bytes()], [8, 7, 0, 0]);
  const events = [put(8, "a", "1"), put(8, "b", "2")];
  h.append(8, events);
  assert.equal(h.eventsAt(8), events, "the store's array itself, not a copy");
  assert.equal(h.eventsAt(7), undefined);
  assert.equal(h.eventsAt(9), undefined);
  assert.throws(() => h.append(10, [put(10, "a", "3")]), /revision 10 after 8/);
});

test("compaction forgets the revisions before it and their bytes; a restart forgets everything", () => {
  const h = history(10);
  const perRevision = h.bytes() / 10;
  h.compact(4);
  assert.deepEqual([h.firstRevision(), h.lastRevision(), h.revisionCount()], [4, 10, 7]);
  assert.equal(h.bytes(), 7 * perRevision);
  assert.equal(h.eventsAt(3), undefined);
  assert.equal(h.eventsAt(4)?.[0]?.key, "k04");
  h.compact(2);
  assert.equal(h.firstRevision(), 4, "an older compaction changes nothing");
  h.compact(11);
  assert.deepEqual(
    [h.firstRevision(), h.revisionCount(), h.bytes()],
    [11, 0, 0],
    "compacted at the next revision: empty",
  );
  h.append(11, [put(11, "a", "1")]);
  h.restart(20);
  assert.deepEqual([h.firstRevision(), h.lastRevision(), h.revisionCount(), h.bytes()], [21, 20, 0, 0]);
});

test("bytes count keys, values and previous values", () => {
  const h = new WatchHistory(0);
  h.append(1, [put(1, "key", "value")]);
  const one = h.bytes();
  h.append(2, [{ ...put(2, "key", "value"), prev: put(1, "key", "value").kv }]);
  assert.equal(h.bytes() - one, one + "value".length);
});

test("the compaction target keeps the newest half of whichever bound is exceeded", () => {
  const h = history(10, 100);
  assert.equal(h.compactionTarget({ revisionsMax: 10, bytesMax: h.bytes() }), undefined);
  assert.equal(h.compactionTarget({ revisionsMax: 9, bytesMax: h.bytes() }), 6, "revisions 6 to 10 kept");
  h.compact(3);
  assert.equal(h.compactionTarget({ revisionsMax: 7, bytesMax: h.bytes() }), 7, "revisions 7 to 10 kept of 3 to 10");
  const big = new WatchHistory(0);
  for (let r = 1; r <= 8; r++) big.append(r, [put(r, "k", "v".repeat(r <= 6 ? 10 : 1000))]);
  const target = big.compactionTarget({ revisionsMax: 100, bytesMax: big.bytes() - 1 });
  assert.equal(target, 8, "the two large revisions hold most bytes: only the newest fits in half");
  big.compact(target);
  assert.ok(big.bytes() <= big.bytes() + 0 && big.revisionCount() === 1);
});
