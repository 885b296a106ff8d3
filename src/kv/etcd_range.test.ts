import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8 } from "../util/bytes.js";
import { Prng } from "../util/prng.js";
import { binaryBytes, binaryString } from "./binary.js";
import type { RangeRequest, SortOrder, SortTarget } from "./etcd_range.js";
import { encodeCommand } from "./command_codec.js";
import { KvStore } from "./store.js";
import { applyAll, bytes, putCommand } from "./test_support.test.helper.js";

const zero = Uint8Array.of(0);
const keys = (store: KvStore, request: RangeRequest): string[] =>
  store.rangeEtcd(request).kvs.map((kv) => fromUtf8(kv.key));

function abcd(): KvStore {
  const store = new KvStore();
  // a@1 (then a@5, version 2), b@2, c@3, d@4
  applyAll(store, [putCommand("a", "z"), putCommand("b", "y"), putCommand("c", "x"), putCommand("d", "w")]);
  applyAll(store, [putCommand("a", "v")]);
  return store;
}

test("etcd's key forms: one key, [key, end), every key from key, every key", () => {
  const store = abcd();
  assert.deepEqual(keys(store, { key: bytes("b") }), ["b"]);
  assert.deepEqual(keys(store, { key: bytes("b"), rangeEnd: new Uint8Array(0) }), ["b"]);
  assert.deepEqual(keys(store, { key: bytes("bb") }), []);
  assert.deepEqual(keys(store, { key: bytes("b"), rangeEnd: bytes("d") }), ["b", "c"]);
  assert.deepEqual(keys(store, { key: bytes("b"), rangeEnd: zero }), ["b", "c", "d"]);
  assert.deepEqual(keys(store, { key: zero, rangeEnd: zero }), ["a", "b", "c", "d"]);
  assert.deepEqual(keys(store, { key: bytes("c"), rangeEnd: bytes("b") }), [], "an end at or below the key: nothing");
  assert.equal(store.rangeEtcd({ key: bytes("c"), rangeEnd: bytes("b") }).count, 0);
});

test("limit, count of the whole range, more, keys_only and count_only", () => {
  const store = abcd();
  const all = { key: zero, rangeEnd: zero };
  const limited = store.rangeEtcd({ ...all, limit: 2 });
  assert.deepEqual(
    limited.kvs.map((kv) => fromUtf8(kv.key)),
    ["a", "b"],
  );
  assert.equal(limited.count, 4);
  assert.equal(limited.more, true);
  assert.equal(store.rangeEtcd({ ...all, limit: 4 }).more, false);
  assert.equal(store.rangeEtcd({ ...all, limit: 0 }).kvs.length, 4, "limit 0: no limit");
  const keysOnly = store.rangeEtcd({ key: bytes("a"), keysOnly: true }).kvs[0]!;
  assert.deepEqual(keysOnly, {
    key: bytes("a"),
    value: new Uint8Array(0),
    createRevision: 1,
    modRevision: 5,
    version: 2,
    lease: 0,
  });
  assert.deepEqual(store.rangeEtcd({ ...all, countOnly: true, limit: 1 }), { kvs: [], more: false, count: 4 });
});

test("revision filters drop keys but not from the count; more counts only the filtered keys", () => {
  const store = abcd();
  const all = { key: zero, rangeEnd: zero };
  assert.deepEqual(keys(store, { ...all, minModRevision: 3 }), ["a", "c", "d"]);
  assert.deepEqual(keys(store, { ...all, maxModRevision: 3 }), ["b", "c"]);
  assert.deepEqual(keys(store, { ...all, minCreateRevision: 2, maxCreateRevision: 3 }), ["b", "c"]);
  const answer = store.rangeEtcd({ ...all, minCreateRevision: 2, maxCreateRevision: 3, limit: 1 });
  assert.deepEqual([answer.kvs.length, answer.more, answer.count], [1, true, 4]);
  assert.equal(store.rangeEtcd({ ...all, minCreateRevision: 4, limit: 1 }).more, false);
});

test("sorting: the whole range is sorted, then limited; a target alone sorts ascending", () => {
  const store = abcd();
  const all = { key: zero, rangeEnd: zero };
  assert.deepEqual(keys(store, { ...all, sortOrder: "descend" }), ["d", "c", "b", "a"]);
  assert.deepEqual(keys(store, { ...all, sortOrder: "descend", limit: 1 }), ["d"]);
  assert.deepEqual(keys(store, { ...all, sortTarget: "value" }), ["a", "d", "c", "b"]);
  assert.deepEqual(keys(store, { ...all, sortTarget: "mod", sortOrder: "descend", limit: 2 }), ["a", "d"]);
  assert.deepEqual(keys(store, { ...all, sortTarget: "create", sortOrder: "descend" }), ["d", "c", "b", "a"]);
  // Ties keep ascending key order, whichever the direction.
  assert.deepEqual(keys(store, { ...all, sortTarget: "version", sortOrder: "descend" }), ["a", "b", "c", "d"]);
  assert.deepEqual(keys(store, { ...all, sortTarget: "version" }), ["b", "c", "d", "a"]);
});

/** The same answer computed the slow way: every key, filtered, sorted and limited. */
function bruteForce(store: KvStore, request: RangeRequest): { keys: string[]; more: boolean; count: number } {
  const everything = store
    .rangeEtcd({ key: zero, rangeEnd: zero })
    .kvs.map((kv) => ({ ...kv, k: binaryString(kv.key) }));
  const from = binaryString(request.key);
  const end = request.rangeEnd;
  const inRange = everything.filter(({ k }) =>
    end === undefined || end.length === 0
      ? k === from
      : end.length === 1 && end[0] === 0
        ? k >= from
        : k >= from && k < binaryString(end),
  );
  const filtered = inRange.filter(
    (kv) =>
      (!request.minModRevision || kv.modRevision >= request.minModRevision) &&
      (!request.maxModRevision || kv.modRevision <= request.maxModRevision) &&
      (!request.minCreateRevision || kv.createRevision >= request.minCreateRevision) &&
      (!request.maxCreateRevision || kv.createRevision <= request.maxCreateRevision),
  );
  const target = request.sortTarget ?? "key";
  const field = (kv: (typeof filtered)[number]): string | number =>
    target === "key"
      ? kv.k
      : target === "value"
        ? binaryString(kv.value)
        : target === "version"
          ? kv.version
          : target === "create"
            ? kv.createRevision
            : kv.modRevision;
  const sign = request.sortOrder === "descend" ? -1 : 1;
  const sorted = [...filtered].sort((a, b) => {
    const x = field(a);
    const y = field(b);
    return x < y ? -sign : x > y ? sign : a.k < b.k ? -1 : 1;
  });
  const limit = request.limit ?? 0;
  const kept = limit > 0 ? sorted.slice(0, limit) : sorted;
  return {
    keys: request.countOnly ? [] : kept.map((kv) => kv.k),
    more: !request.countOnly && limit > 0 && sorted.length > limit,
    count: inRange.length,
  };
}

test("randomized: rangeEtcd agrees with a brute-force reading of etcd's rules", () => {
  const prng = new Prng(17);
  const store = new KvStore();
  const alphabet = ["\u0000", "a", "b", "\u00ff"];
  const key = (): string => Array.from({ length: prng.int(1, 4) }, () => prng.pick(alphabet)).join("");
  const orders: SortOrder[] = ["none", "ascend", "descend"];
  const targets: SortTarget[] = ["key", "version", "create", "mod", "value"];
  for (let round = 0; round < 3000; round++) {
    const k = binaryBytes(key());
    const value = bytes(prng.pick(["p", "q", "r"]));
    applyAll(store, [encodeCommand(prng.chance(0.7) ? { type: "put", key: k, value } : { type: "delete", key: k })]);
    const rev = store.revision();
    const rangeEnd = [undefined, zero, binaryBytes(key())][prng.int(0, 3)];
    const request: RangeRequest = {
      key: binaryBytes(key()),
      ...(rangeEnd === undefined ? {} : { rangeEnd }),
      limit: prng.pick([0, 1, 2, 5]),
      sortOrder: prng.pick(orders),
      sortTarget: prng.pick(targets),
      countOnly: prng.chance(0.1),
      minModRevision: prng.chance(0.2) ? prng.int(0, rev + 1) : 0,
      maxModRevision: prng.chance(0.2) ? prng.int(0, rev + 1) : 0,
      minCreateRevision: prng.chance(0.2) ? prng.int(0, rev + 1) : 0,
      maxCreateRevision: prng.chance(0.2) ? prng.int(0, rev + 1) : 0,
    };
    const answer = store.rangeEtcd(request);
    const expected = bruteForce(store, request);
    assert.deepEqual(
      { keys: answer.kvs.map((kv) => binaryString(kv.key)), more: answer.more, count: answer.count },
      expected,
      `round ${round}`,
    );
  }
});
