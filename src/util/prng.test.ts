import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "./prng.js";

function stream(seed: number, length: number): number[] {
  const prng = new Prng(seed);
  return Array.from({ length }, () => prng.nextUint32());
}

test("the same seed gives the same stream; different seeds give different streams", () => {
  assert.deepEqual(stream(42, 1000), stream(42, 1000));
  assert.notDeepEqual(stream(42, 16), stream(43, 16));
  assert.notDeepEqual(stream(0, 16), stream(1, 16));
  const values = stream(7, 1000);
  assert.ok(values.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32));
  assert.ok(new Set(values).size > 990, "no short cycle");
});

test("forks are deterministic and independent of later draws of the parent", () => {
  const a = new Prng(5);
  const b = new Prng(5);
  const forkA = a.fork();
  const forkB = b.fork();
  a.nextUint32();
  assert.deepEqual(
    Array.from({ length: 10 }, () => forkA.nextUint32()),
    Array.from({ length: 10 }, () => forkB.nextUint32()),
  );
});

test("int(min, maxExclusive) stays within bounds and reaches both ends", () => {
  const prng = new Prng(9);
  const seen = new Set<number>();
  for (let k = 0; k < 10_000; k++) {
    const v = prng.int(3, 7);
    assert.ok(Number.isInteger(v) && v >= 3 && v < 7, `int(3, 7) gave ${v}`);
    seen.add(v);
  }
  assert.deepEqual([...seen].sort(), [3, 4, 5, 6]);
  for (let k = 0; k < 1000; k++) assert.equal(prng.int(5, 6), 5);
  for (let k = 0; k < 1000; k++) {
    const v = prng.int(-10, 10);
    assert.ok(v >= -10 && v < 10);
  }
  for (let k = 0; k < 1000; k++) {
    const v = prng.next();
    assert.ok(v >= 0 && v < 1);
  }
});

test("pick chooses an element and refuses an empty list", () => {
  const prng = new Prng(3);
  const items = ["a", "b", "c"];
  for (let k = 0; k < 100; k++) assert.ok(items.includes(prng.pick(items)));
  assert.throws(() => prng.pick([]), RangeError);
});
