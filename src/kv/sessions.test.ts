import assert from "node:assert/strict";
import { test } from "node:test";
import { logIndex } from "../util/ids.js";
import { KvStore } from "./store.js";
import { applyAll, bytes, deleteCommand, nextIndex, putCommand } from "./test_support.test.helper.js";

const s = (clientId: string, seq: number): { session: { clientId: string; seq: number } } => ({
  session: { clientId, seq },
});

test("the same (clientId, seq) applied twice returns the first result and changes nothing", () => {
  const store = new KvStore();
  const [first] = applyAll(store, [putCommand("k", "v1", s("alice", 1))]);
  applyAll(store, [putCommand("other", "x")]);
  const snapshotBefore = store.snapshot();
  const [again] = applyAll(store, [putCommand("k", "v1", s("alice", 1))]);
  assert.equal(again, first, "the remembered result itself");
  assert.deepEqual(again, { type: "put", revision: 1 });
  // Even a different command under the same pair is not executed: the pair names the write.
  const [different] = applyAll(store, [deleteCommand("k", { clientId: "alice", seq: 1 })]);
  assert.equal(different, first);
  assert.equal(store.revision(), 2);
  assert.deepEqual(store.get(bytes("k"))?.value, bytes("v1"));
  // Only the applied index and the session's last use moved.
  const replay = new KvStore();
  replay.restore(snapshotBefore);
  assert.equal(replay.revision(), store.revision());
  assert.deepEqual(replay.range({ prefix: new Uint8Array(0) }, 10), store.range({ prefix: new Uint8Array(0) }, 10));
});

test("a retried failed CAS answers compareFailed even once the CAS would succeed", () => {
  const store = new KvStore();
  applyAll(store, [putCommand("k", "v1")]);
  const [first] = applyAll(store, [putCommand("k", "v2", { ifModRevision: 0, ...s("bob", 5) })]);
  assert.equal(first?.type, "compareFailed");
  applyAll(store, [deleteCommand("k")]);
  const [again] = applyAll(store, [putCommand("k", "v2", { ifModRevision: 0, ...s("bob", 5) })]);
  assert.equal(again, first);
  assert.equal(store.get(bytes("k")), null);
});

test("a lower seq is rejected as stale without applying; a higher one applies, gaps allowed", () => {
  const store = new KvStore();
  applyAll(store, [putCommand("k", "v5", s("carol", 5))]);
  assert.deepEqual(applyAll(store, [putCommand("k", "v4", s("carol", 4)), putCommand("k", "v0", s("carol", 0))]), [
    { type: "invalid", error: "stale sequence" },
    { type: "invalid", error: "stale sequence" },
  ]);
  assert.deepEqual(store.get(bytes("k"))?.value, bytes("v5"));
  assert.equal(store.revision(), 1);
  assert.deepEqual(applyAll(store, [putCommand("k", "v9", s("carol", 9))]), [{ type: "put", revision: 2 }]);
  // Sessions are per client: another client's seq 1 is new.
  assert.deepEqual(applyAll(store, [putCommand("k", "d1", s("dave", 1))]), [{ type: "put", revision: 3 }]);
  assert.equal(store.sessionCount(), 2);
});

test("commands without a session are never deduplicated", () => {
  const store = new KvStore();
  assert.deepEqual(applyAll(store, [putCommand("k", "v"), putCommand("k", "v")]), [
    { type: "put", revision: 1 },
    { type: "put", revision: 2 },
  ]);
  assert.equal(store.sessionCount(), 0);
});

test("a session unused for sessionExpiryEntries log entries is dropped, counted by index", () => {
  const store = new KvStore({ sessionExpiryEntries: 10 });
  store.apply(putCommand("k", "1", s("erin", 1)), logIndex(1));
  store.apply(putCommand("x", "1"), logIndex(9));
  assert.equal(store.sessionCount(), 1);
  // At index 10, 9 entries (2..10) have passed without erin: still known, so seq 0 is stale.
  assert.deepEqual(store.apply(putCommand("k", "1", s("erin", 0)), logIndex(10)), {
    type: "invalid",
    error: "stale sequence",
  });
  // At index 11 the 10th entry without erin (a stale seq is not a use) drops the session first.
  store.apply(putCommand("x", "2"), logIndex(11));
  assert.equal(store.sessionCount(), 0);
  // After expiry the table has forgotten erin, so a late retry executes again: why the default is long.
  assert.deepEqual(store.apply(putCommand("k", "1", s("erin", 1)), logIndex(12)), { type: "put", revision: 4 });
});

test("using a session, even by a retry, keeps it alive; index gaps count toward expiry", () => {
  const store = new KvStore({ sessionExpiryEntries: 10 });
  const first = store.apply(putCommand("k", "1", s("frank", 1)), logIndex(1));
  assert.equal(store.apply(putCommand("k", "1", s("frank", 1)), logIndex(10)), first);
  store.apply(putCommand("x", "1"), logIndex(19));
  assert.equal(store.sessionCount(), 1);
  store.apply(putCommand("x", "1"), logIndex(20));
  assert.equal(store.sessionCount(), 0);
  store.apply(putCommand("k", "2", s("frank", 2)), logIndex(21));
  store.apply(putCommand("x", "2"), logIndex(1000)); // entries that were not commands count too
  assert.equal(store.sessionCount(), 0);
});

test("over sessionsMax, the session least recently used (by log index) is evicted", () => {
  const store = new KvStore({ sessionsMax: 3 });
  applyAll(store, [
    putCommand("k", "a", s("a", 1)),
    putCommand("k", "b", s("b", 1)),
    putCommand("k", "c", s("c", 1)),
    putCommand("k", "a", s("a", 1)), // a retry: a is now the most recently used
    putCommand("k", "d", s("d", 1)), // evicts b
  ]);
  assert.equal(store.sessionCount(), 3);
  const stale = { type: "invalid", error: "stale sequence" };
  assert.deepEqual(applyAll(store, [putCommand("k", "a0", s("a", 0))]), [stale]);
  assert.deepEqual(applyAll(store, [putCommand("k", "c0", s("c", 0))]), [stale]);
  assert.deepEqual(applyAll(store, [putCommand("k", "d0", s("d", 0))]), [stale]);
  // b was forgotten, so its seq 0 counts as new, and evicts c, now the least recently used (a stale
  // seq is not a use, so the checks above did not reorder a, c and d).
  assert.deepEqual(applyAll(store, [putCommand("k", "b0", s("b", 0))]), [{ type: "put", revision: 5 }]);
  // Order now a (index 4), d (5), b (9): c's return evicts a.
  assert.deepEqual(applyAll(store, [putCommand("k", "c0", s("c", 0))]), [{ type: "put", revision: 6 }]);
  assert.deepEqual(applyAll(store, [putCommand("k", "d0", s("d", 0))]), [stale]);
  assert.deepEqual(applyAll(store, [putCommand("k", "a0", s("a", 0))]), [{ type: "put", revision: 7 }]);
  assert.equal(store.sessionCount(), 3);
});

test("session limits are validated", () => {
  assert.throws(() => new KvStore({ sessionsMax: 0 }), /sessionsMax/);
  assert.throws(() => new KvStore({ sessionExpiryEntries: 0 }), /sessionExpiryEntries/);
  assert.throws(() => new KvStore({ sessionsMax: 1.5 }), /sessionsMax/);
});

test("sessions persist across snapshot and restore: a retry after restore still answers the first result", () => {
  const store = new KvStore();
  const [first] = applyAll(store, [putCommand("k", "v", s("gina", 7))]);
  const restored = new KvStore();
  restored.restore(store.snapshot());
  const [again] = applyAll(restored, [putCommand("k", "v", s("gina", 7))]);
  assert.deepEqual(again, first);
  assert.equal(restored.revision(), 1);
  assert.deepEqual(applyAll(restored, [putCommand("k", "v", s("gina", 6))]), [
    { type: "invalid", error: "stale sequence" },
  ]);
  assert.equal(nextIndex(restored), 4);
});
