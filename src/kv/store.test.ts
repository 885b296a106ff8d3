import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "../util/assert.js";
import { fromUtf8 } from "../util/bytes.js";
import { logIndex } from "../util/ids.js";
import type { TxnCommand } from "./commands.js";
import { encodeCommand } from "./command_codec.js";
import { rangeLimitMax } from "./limits.js";
import type { KeyValue } from "./results.js";
import { KvStore } from "./store.js";
import { applyAll, bytes, deleteCommand, nextIndex, putCommand } from "./test_support.test.helper.js";

const kv = (key: string, value: string, createRevision: number, modRevision: number, version: number): KeyValue => ({
  key: bytes(key),
  value: bytes(value),
  createRevision,
  modRevision,
  version,
  lease: 0,
});

const keysOf = (kvs: readonly KeyValue[]): string[] => kvs.map((x) => fromUtf8(x.key));

test("put, get and delete follow etcd's revision, version, createRevision and modRevision", () => {
  const store = new KvStore();
  assert.equal(store.revision(), 0);
  assert.equal(store.get(bytes("a")), null);
  assert.deepEqual(applyAll(store, [putCommand("a", "1"), putCommand("a", "2"), putCommand("b", "x")]), [
    { type: "put", revision: 1 },
    { type: "put", revision: 2 },
    { type: "put", revision: 3 },
  ]);
  assert.deepEqual(store.get(bytes("a")), kv("a", "2", 1, 2, 2));
  assert.deepEqual(store.get(bytes("b")), kv("b", "x", 3, 3, 1));
  assert.deepEqual(applyAll(store, [deleteCommand("a"), deleteCommand("a"), deleteCommand("never")]), [
    { type: "delete", revision: 4, deleted: 1 },
    { type: "delete", revision: 4, deleted: 0 },
    { type: "delete", revision: 4, deleted: 0 },
  ]);
  assert.equal(store.get(bytes("a")), null);
  assert.equal(store.revision(), 4, "deleting an absent key is not a write");
  // Recreated after a delete: a new life, so createRevision and version start over.
  assert.deepEqual(applyAll(store, [putCommand("a", "3")]), [{ type: "put", revision: 5 }]);
  assert.deepEqual(store.get(bytes("a")), kv("a", "3", 5, 5, 1));
  assert.equal(store.keyCount(), 2);
  assert.equal(store.appliedIndex(), 7);
});

test("the store keeps copies: later changes to the entry's bytes do not reach it", () => {
  const store = new KvStore();
  const entry = putCommand("key", "value");
  applyAll(store, [entry]);
  entry.fill(0x21);
  assert.deepEqual(store.get(bytes("key")), kv("key", "value", 1, 1, 1));
});

test("CAS: ifModRevision must equal the key's modRevision, and 0 means only if absent", () => {
  const store = new KvStore();
  assert.deepEqual(applyAll(store, [putCommand("k", "v1", { ifModRevision: 0 })]), [{ type: "put", revision: 1 }]);
  assert.deepEqual(applyAll(store, [putCommand("k", "v2", { ifModRevision: 0 })]), [
    { type: "compareFailed", current: kv("k", "v1", 1, 1, 1), revision: 1 },
  ]);
  assert.deepEqual(applyAll(store, [putCommand("k", "v2", { ifModRevision: 1 })]), [{ type: "put", revision: 2 }]);
  assert.deepEqual(applyAll(store, [putCommand("k", "v3", { ifModRevision: 1 })]), [
    { type: "compareFailed", current: kv("k", "v2", 1, 2, 2), revision: 2 },
  ]);
  assert.deepEqual(applyAll(store, [putCommand("absent", "v", { ifModRevision: 2 })]), [
    { type: "compareFailed", current: null, revision: 2 },
  ]);
  assert.equal(store.revision(), 2, "a failed CAS is not a write");
  assert.deepEqual(store.get(bytes("k")), kv("k", "v2", 1, 2, 2));
});

test("range by prefix and by [from, to), ordered by key bytes, with limit and more", () => {
  const store = new KvStore();
  const keys = ["b/2", "a", "b/1", "b", "b0", "c", "é", "z", "b/10"];
  applyAll(
    store,
    keys.map((k) => putCommand(k, `v-${k}`)),
  );
  // Bytes order: "é" is 0xC3 0xA9, after every ASCII key; "b/10" between "b/1" and "b/2".
  const all = store.range({ prefix: new Uint8Array(0) }, rangeLimitMax);
  assert.deepEqual(keysOf(all.kvs), ["a", "b", "b/1", "b/10", "b/2", "b0", "c", "z", "é"]);
  assert.equal(all.more, false);
  assert.deepEqual(store.range({ prefix: bytes("b/") }, 10), {
    kvs: [kv("b/1", "v-b/1", 3, 3, 1), kv("b/10", "v-b/10", 9, 9, 1), kv("b/2", "v-b/2", 1, 1, 1)],
    more: false,
  });
  assert.deepEqual(keysOf(store.range({ prefix: bytes("b") }, 3).kvs), ["b", "b/1", "b/10"]);
  assert.equal(store.range({ prefix: bytes("b") }, 3).more, true);
  assert.equal(store.range({ prefix: bytes("b") }, 5).more, false, "exactly limit left is not more");
  assert.deepEqual(keysOf(store.range({ from: bytes("b"), to: bytes("c") }, 100).kvs), [
    "b",
    "b/1",
    "b/10",
    "b/2",
    "b0",
  ]);
  assert.deepEqual(keysOf(store.range({ from: bytes("b0") }, 100).kvs), ["b0", "c", "z", "é"]);
  assert.deepEqual(keysOf(store.range({ from: bytes("c"), to: bytes("c") }, 100).kvs), []);
  assert.deepEqual(keysOf(store.range({ from: bytes("z"), to: bytes("a") }, 100).kvs), []);
  assert.deepEqual(store.range({ prefix: bytes("nothing") }, 1), { kvs: [], more: false });
  assert.throws(() => store.range({ prefix: bytes("") }, 0), AssertionError);
  assert.throws(() => store.range({ prefix: bytes("") }, rangeLimitMax + 1), AssertionError);
});

test("a prefix ending in 0xFF bytes covers exactly the keys that start with it", () => {
  const store = new KvStore();
  const keys = [[0x01], [0x01, 0xff], [0x01, 0xff, 0x00], [0x01, 0xff, 0xff], [0x02], [0xff], [0xff, 0xff, 0x05]];
  for (const key of keys)
    applyAll(store, [encodeCommand({ type: "put", key: Uint8Array.from(key), value: new Uint8Array(0) })]);
  const rangeKeys = (prefix: number[]): number[][] =>
    store.range({ prefix: Uint8Array.from(prefix) }, 100).kvs.map((x) => [...x.key]);
  assert.deepEqual(rangeKeys([0x01, 0xff]), [
    [0x01, 0xff],
    [0x01, 0xff, 0x00],
    [0x01, 0xff, 0xff],
  ]);
  assert.deepEqual(rangeKeys([0xff]), [[0xff], [0xff, 0xff, 0x05]]);
  assert.deepEqual(rangeKeys([0xff, 0xff]), [[0xff, 0xff, 0x05]]);
});

test("txn: compare on value picks the success branch; its writes are one revision", () => {
  const store = new KvStore();
  applyAll(store, [putCommand("a", "1"), putCommand("b", "1")]);
  const [result] = applyAll(store, [
    encodeCommand({
      type: "txn",
      compare: [{ key: bytes("a"), value: bytes("1") }],
      success: [
        { type: "put", key: bytes("a"), value: bytes("2") },
        { type: "get", key: bytes("a") },
        { type: "put", key: bytes("new"), value: bytes("n") },
        { type: "delete", key: bytes("b") },
        { type: "delete", key: bytes("absent") },
        { type: "get", key: bytes("b") },
      ],
      failure: [{ type: "put", key: bytes("failure"), value: bytes("ran") }],
    }),
  ]);
  assert.deepEqual(result, {
    type: "txn",
    succeeded: true,
    revision: 3,
    responses: [
      { type: "put" },
      { type: "get", kv: kv("a", "2", 1, 3, 2) },
      { type: "put" },
      { type: "delete", deleted: 1 },
      { type: "delete", deleted: 0 },
      { type: "get", kv: null },
    ],
  });
  assert.equal(store.revision(), 3);
  assert.deepEqual(store.get(bytes("new")), kv("new", "n", 3, 3, 1));
  assert.equal(store.get(bytes("failure")), null);
});

test("txn: a failing compare runs the failure branch and nothing of the success branch", () => {
  const store = new KvStore();
  applyAll(store, [putCommand("a", "1")]);
  const txn = (compare: TxnCommand["compare"]): Uint8Array =>
    encodeCommand({
      type: "txn",
      compare,
      success: [{ type: "put", key: bytes("s"), value: bytes("yes") }],
      failure: [{ type: "get", key: bytes("a") }],
    });
  const failed = applyAll(store, [
    txn([{ key: bytes("a"), value: bytes("other") }]),
    txn([{ key: bytes("absent"), value: new Uint8Array(0) }]), // an absent key has no value, not an empty one
    txn([{ key: bytes("a"), modRevision: 7 }]),
    txn([{ key: bytes("a"), modRevision: 0 }]),
    txn([
      { key: bytes("a"), value: bytes("1") },
      { key: bytes("a"), modRevision: 2 },
    ]), // every compare must hold
    txn([{ key: bytes("a"), value: bytes("1"), modRevision: 9 }]),
  ]);
  for (const result of failed) {
    assert.deepEqual(result, {
      type: "txn",
      succeeded: false,
      revision: 1,
      responses: [{ type: "get", kv: kv("a", "1", 1, 1, 1) }],
    });
  }
  assert.equal(store.get(bytes("s")), null);
  assert.equal(store.revision(), 1, "a read-only branch is not a write");
  const passed = applyAll(store, [
    txn([
      { key: bytes("a"), modRevision: 1 },
      { key: bytes("absent"), modRevision: 0 },
    ]),
    txn([{ key: bytes("a"), value: bytes("1"), modRevision: 1 }]),
    txn([]),
  ]);
  assert.deepEqual(
    passed.map((r) => r.type === "txn" && [r.succeeded, r.revision]),
    [
      [true, 2],
      [true, 3],
      [true, 4],
    ],
  );
  assert.deepEqual(store.get(bytes("s")), kv("s", "yes", 2, 4, 3));
});

test("an entry that does not decode is a deterministic no-op that still counts as applied", () => {
  const store = new KvStore();
  applyAll(store, [putCommand("a", "1")]);
  const before = store.snapshot();
  const results = applyAll(store, [new Uint8Array(0), Uint8Array.from([1, 1, 0, 0]), Uint8Array.from([7, 7, 7])]);
  assert.deepEqual(
    results.map((r) => r.type),
    ["invalid", "invalid", "invalid"],
  );
  assert.deepEqual(results[2], { type: "invalid", error: "unsupported command version 7" });
  assert.equal(store.revision(), 1);
  assert.equal(store.appliedIndex(), 4);
  const other = new KvStore();
  other.restore(before);
  applyAll(other, [Uint8Array.from([9]), Uint8Array.from([9]), Uint8Array.from([9])]);
  assert.deepEqual(other.snapshot(), store.snapshot());
});

test("apply asserts that indexes only grow; gaps (entries that are not commands) are fine", () => {
  const store = new KvStore();
  store.apply(putCommand("a", "1"), logIndex(3));
  assert.throws(() => store.apply(putCommand("a", "2"), logIndex(3)), AssertionError);
  assert.throws(() => store.apply(putCommand("a", "2"), logIndex(2)), AssertionError);
  assert.throws(() => store.apply(putCommand("a", "2"), logIndex(0)), AssertionError);
  assert.throws(() => store.apply(putCommand("a", "2"), logIndex(3.5)), AssertionError);
  assert.equal(store.revision(), 1);
  store.apply(putCommand("a", "2"), nextIndex(store, 10));
  assert.equal(store.appliedIndex(), 13);
  assert.deepEqual(store.get(bytes("a")), kv("a", "2", 1, 2, 2));
});
