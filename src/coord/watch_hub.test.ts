import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkStream,
  openWatch as open,
  revisionOf,
  watchSetup as setup,
  type RecordingSink,
} from "./watch_test_support.test.helper.js";

const summary = (sink: RecordingSink): string[] =>
  sink.events().map((e) => `${e.type} ${e.key}@${revisionOf(e)}${e.type === "put" ? `=${e.kv.value}` : ""}`);

test("a watch from an old revision gets the history, then what is written after, in order", () => {
  const { store, clock, hub } = setup();
  store.put("a", "1");
  store.put("b", "2");
  store.put("a", "3");
  const sink = open(hub, { range: { prefix: "" }, fromRevision: 2 });
  assert.deepEqual(sink.messages, [{ type: "created", watchId: 1, revision: 3 }]);
  store.put("c", "4");
  clock.runSoon();
  store.delete("b");
  clock.runSoon();
  assert.deepEqual(summary(sink), ["put b@2=2", "put a@3=3", "put c@4=4", "delete b@5"]);
  assert.equal(checkStream(sink, store, { prefix: "" }, 2), 5);
});

test("without fromRevision a watch sees only what comes after it", () => {
  const { store, clock, hub } = setup();
  store.put("a", "1");
  const sink = open(hub, { range: { key: "a" } });
  clock.runSoon();
  assert.equal(sink.messages.length, 1);
  store.put("a", "2");
  clock.runSoon();
  assert.deepEqual(summary(sink), ["put a@2=2"]);
});

test("a txn's events arrive in one message, those outside the range left out", () => {
  const { store, clock, hub } = setup();
  store.put("k/gone", "x");
  const sink = open(hub, { range: { prefix: "k/" } });
  const revision = store.txn({ "k/a": "1", other: "2", "k/b": "3" }, ["k/gone"]);
  clock.runSoon();
  const events = sink.messages.filter((m) => m.type === "events");
  assert.equal(events.length, 1);
  assert.equal(events[0]!.revision, revision);
  assert.deepEqual(summary(sink), [`put k/a@${revision}=1`, `put k/b@${revision}=3`, `delete k/gone@${revision}`]);
});

test("key, prefix and from/to ranges each get exactly their keys", () => {
  const { store, clock, hub } = setup();
  const key = open(hub, { range: { key: "b" } });
  const prefix = open(hub, { range: { prefix: "b" } });
  const all = open(hub, { range: { prefix: "" } });
  const bounded = open(hub, { range: { from: "b", to: "c" } });
  const open_ = open(hub, { range: { from: "bb" } });
  for (const k of ["a", "b", "ba", "bb", "c", "\u00ff"]) store.put(k, "v");
  // Keys are binary strings: "\u00ff" was written as its two UTF-8 bytes.
  const high = Buffer.from("\u00ff").toString("latin1");
  clock.runSoon();
  const keys = (sink: RecordingSink): string[] => sink.events().map((e) => e.key);
  assert.deepEqual(keys(key), ["b"]);
  assert.deepEqual(keys(prefix), ["b", "ba", "bb"]);
  assert.deepEqual(keys(all), ["a", "b", "ba", "bb", "c", high]);
  assert.deepEqual(keys(bounded), ["b", "ba", "bb"]);
  assert.deepEqual(keys(open_), ["bb", "c", high]);
});

test("events carry the previous key-value; a delete's kv has only the key and its revision", () => {
  const { store, clock, hub } = setup();
  const sink = open(hub, { range: { key: "k" }, prevKv: true });
  store.put("k", "1");
  store.put("k", "2");
  const deleted = store.delete("k");
  clock.runSoon();
  const [created, updated, gone] = sink.events();
  assert.equal(created?.prev, undefined);
  assert.deepEqual(updated?.prev, { value: "1", createRevision: 1, modRevision: 1, version: 1, lease: 0 });
  assert.deepEqual(gone?.kv, { value: "", createRevision: 0, modRevision: deleted, version: 0, lease: 0 });
  assert.deepEqual(gone?.prev, { value: "2", createRevision: 1, modRevision: 2, version: 2, lease: 0 });
});

test("a watch from a future revision starts there", () => {
  const { store, clock, hub } = setup();
  store.put("a", "1");
  const sink = open(hub, { range: { prefix: "" }, fromRevision: 4 });
  store.put("a", "2");
  store.put("a", "3");
  store.put("a", "4");
  clock.runSoon();
  assert.deepEqual(summary(sink), ["put a@4=4"]);
  assert.equal(checkStream(sink, store, { prefix: "" }, 4), 4);
});

test("ten thousand watchers of distinct keys each see their own key, and only it", () => {
  const { store, clock, hub } = setup();
  const sinks = Array.from({ length: 10_000 }, (_, i) => open(hub, { range: { key: `key${i}` } }));
  for (let i = 0; i < 10_000; i++) store.put(`key${i}`, String(i));
  clock.runSoon();
  sinks.forEach((sink, i) => assert.deepEqual(summary(sink), [`put key${i}@${i + 1}=${i}`]));
  assert.equal(clock.timerCount(), 0, "idle watchers hold no timers");
});

test("a removed watch is sent nothing more", () => {
  const { store, clock, hub } = setup();
  const sink = open(hub, { range: { prefix: "" } });
  store.put("a", "1");
  sink.handle!.remove();
  clock.runSoon();
  store.put("a", "2");
  clock.runSoon();
  assert.deepEqual(
    sink.messages.map((m) => m.type),
    ["created"],
  );
  assert.equal(hub.size, 0);
  assert.equal(hub.requestProgress(sink.handle!.watchId), false);
});

test("a message takes whole revisions up to its bounds, however many are waiting", () => {
  const { store, clock, hub } = setup();
  for (let i = 0; i < 2500; i++) store.put(`k${i}`, "v");
  const sink = open(hub, { range: { prefix: "" }, fromRevision: 1 });
  clock.runSoon();
  const sizes = sink.messages.flatMap((m) => (m.type === "events" ? [m.events.length] : []));
  assert.deepEqual(sizes, [1000, 1000, 500]);
  assert.equal(checkStream(sink, store, { prefix: "" }, 1), 2500);
});
