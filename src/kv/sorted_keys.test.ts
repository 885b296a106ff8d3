import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import { SortedKeys } from "./sorted_keys.js";

function collect(set: SortedKeys): string[] {
  const keys: string[] = [];
  set.forEach((key) => keys.push(key));
  return keys;
}

/** The reference: a plain sorted array, filtered. */
function referenceRange(
  sorted: readonly string[],
  from: string,
  to: string | undefined,
  limit: number,
): { keys: string[]; more: boolean } {
  const inside = sorted.filter((k) => k >= from && (to === undefined || k < to));
  return { keys: inside.slice(0, limit), more: inside.length > limit };
}

test("random inserts and deletes agree with a sorted array, through splits and merges", () => {
  const prng = new Prng(5);
  const set = new SortedKeys();
  const reference = new Set<string>();
  const sizes: number[] = [];
  const randomKey = (): string =>
    String.fromCharCode(...Array.from({ length: prng.int(2, 5) }, () => prng.int(0, 256)));
  // Draw from a fixed pool so deletes mostly hit and the set really shrinks.
  const pool = Array.from({ length: 8_000 }, randomKey);
  // Grow well past one block, then shrink, so blocks split and merge many times.
  for (const [steps, insertChance] of [
    [20_000, 0.8],
    [30_000, 0.1],
    [5_000, 0.5],
  ] as const) {
    for (let i = 0; i < steps; i++) {
      const key = prng.pick(pool);
      if (prng.chance(insertChance)) {
        assert.equal(set.insert(key), !reference.has(key));
        reference.add(key);
      } else {
        assert.equal(set.delete(key), reference.delete(key));
      }
    }
    set.checkInvariants();
    const sorted = [...reference].sort();
    sizes.push(sorted.length);
    assert.deepEqual(collect(set), sorted);
    assert.equal(set.size, sorted.length);
    for (let q = 0; q < 200; q++) {
      const from = prng.chance(0.1) ? "" : randomKey();
      const to = prng.chance(0.3) ? undefined : randomKey();
      const limit = prng.int(1, 3000);
      assert.deepEqual(set.range(from, to, limit), referenceRange(sorted, from, to, limit));
    }
  }
  assert.ok(sizes[0]! > 5000 && sizes[1]! < 1500, `grew then shrank: ${sizes.join(", ")}`);
});

test("deleting everything leaves an empty, usable set", () => {
  const set = new SortedKeys();
  const keys = Array.from({ length: 5000 }, (_, i) => `k${String(i).padStart(5, "0")}`);
  for (const key of keys) set.insert(key);
  for (const key of keys) assert.ok(set.delete(key));
  set.checkInvariants();
  assert.equal(set.size, 0);
  assert.deepEqual(set.range("", undefined, 10), { keys: [], more: false });
  assert.equal(set.delete("k"), false);
  assert.ok(set.insert("k"));
  assert.deepEqual(collect(set), ["k"]);
});

test("fromSorted builds the same set as inserting one by one", () => {
  const keys = Array.from({ length: 3000 }, (_, i) => `key${String(i).padStart(6, "0")}`);
  const built = SortedKeys.fromSorted(keys);
  built.checkInvariants();
  assert.deepEqual(collect(built), keys);
  assert.deepEqual(built.range("key000100", "key000105", 10).keys, keys.slice(100, 105));
  assert.ok(built.insert("key0015005"));
  assert.ok(built.delete("key000000"));
  built.checkInvariants();
  SortedKeys.fromSorted([]).checkInvariants();
});
