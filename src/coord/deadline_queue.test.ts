import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import { DeadlineQueue } from "./deadline_queue.js";

function takeAll(queue: DeadlineQueue, now: number): number[] {
  const taken: number[] = [];
  for (let id = queue.takeExpired(now); id !== undefined; id = queue.takeExpired(now)) taken.push(id);
  return taken;
}

test("expired leases come out longest overdue first, and only once their deadline passed", () => {
  const queue = new DeadlineQueue();
  const prng = new Prng(5);
  const deadlines = new Map<number, number>();
  for (let id = 1; id <= 500; id++) {
    const at = prng.int(0, 10_000);
    deadlines.set(id, at);
    queue.set(id, at);
  }
  const expected = [...deadlines].filter(([, at]) => at <= 5000).sort(([, a], [, b]) => a - b);
  const taken = takeAll(queue, 5000);
  assert.deepEqual(
    taken.map((id) => deadlines.get(id)),
    expected.map(([, at]) => at),
  );
  assert.equal(queue.size, 500, "taking a lease out of line keeps its deadline");
});

test("a moved deadline counts, not the one it replaced; a deleted lease never comes out", () => {
  const queue = new DeadlineQueue();
  queue.set(1, 100);
  queue.set(2, 200);
  queue.set(3, 300);
  queue.set(1, 1000);
  queue.delete(2);
  assert.deepEqual(takeAll(queue, 500), [3]);
  assert.deepEqual(takeAll(queue, 1000), [1]);
  // Put back in line (its revoke failed), it comes out again; once gone, a requeue does nothing.
  queue.requeue(1);
  queue.requeue(2);
  assert.deepEqual(takeAll(queue, 1000), [1]);
});

test("after many renewals (and the rebuilds they cause), each lease comes out once, at its last deadline", () => {
  const queue = new DeadlineQueue();
  for (let round = 1; round <= 1000; round++) for (let id = 1; id <= 10; id++) queue.set(id, round * 100 + 11 - id);
  assert.deepEqual(takeAll(queue, 100_000), []);
  assert.deepEqual(takeAll(queue, 100_010), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  queue.clear();
  assert.deepEqual(takeAll(queue, 100_000), []);
});
