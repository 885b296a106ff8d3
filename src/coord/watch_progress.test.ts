import assert from "node:assert/strict";
import { test } from "node:test";
import { checkStream, openWatch, watchSetup, type RecordingSink } from "./watch_test_support.test.helper.js";

const progressOf = (sink: RecordingSink): number[] =>
  sink.messages.flatMap((m) => (m.type === "progress" ? [m.revision] : []));

test("a requested progress notification on an idle watch carries the member's revision", () => {
  const { store, clock, hub } = watchSetup();
  const sink = openWatch(hub, { range: { key: "a" } });
  store.put("b", "1");
  store.put("b", "2");
  assert.equal(hub.requestProgress(sink.handle!.watchId), true);
  clock.runSoon();
  assert.deepEqual(progressOf(sink), [2]);
  assert.equal(hub.requestProgress(999), false, "no such watch");
});

test("a progress notification waits for a full reader and follows the events it was owed", () => {
  const { store, clock, hub } = watchSetup();
  const range = { prefix: "k" };
  const sink = openWatch(hub, { range });
  sink.full = true;
  store.put("k1", "1");
  clock.runSoon();
  store.put("k2", "2");
  store.put("other", "3");
  hub.requestProgress(sink.handle!.watchId);
  clock.runSoon();
  assert.deepEqual(progressOf(sink), [], "nothing goes to a full reader");
  sink.drain();
  clock.runSoon();
  assert.deepEqual(progressOf(sink), [3]);
  assert.equal(checkStream(sink, store, range, 1), 3);
});

test("a watch catching up gets its progress once the catch-up has been sent", () => {
  const { store, clock, hub } = watchSetup();
  for (let i = 0; i < 5; i++) store.put("k", String(i));
  const sink = openWatch(hub, { range: { key: "k" }, fromRevision: 2 }, true);
  hub.requestProgress(sink.handle!.watchId);
  clock.runSoon();
  assert.deepEqual(progressOf(sink), []);
  sink.drain();
  clock.runSoon();
  assert.deepEqual(progressOf(sink), [5]);
  assert.equal(checkStream(sink, store, { key: "k" }, 2), 5);
});

test("progressNotify: a notification each interval in which nothing else was sent, from one hub timer", () => {
  const { store, clock, hub } = watchSetup({ progressIntervalMs: 1000 });
  const quiet = openWatch(hub, { range: { key: "a" } });
  assert.equal(clock.timerCount(), 0, "no timer without a progressNotify watch");
  const notified = openWatch(hub, { range: { key: "a" }, progressNotify: true });
  const other = openWatch(hub, { range: { key: "b" }, progressNotify: true });
  assert.equal(clock.timerCount(), 1);
  clock.advance(1000);
  assert.deepEqual(progressOf(notified), [], "created went out in the first interval");
  clock.advance(1000);
  assert.deepEqual(progressOf(notified), [0]);
  store.put("a", "1");
  clock.advance(1000);
  assert.deepEqual(progressOf(notified), [0], "an event went out in that interval");
  assert.deepEqual(progressOf(other), [0, 1]);
  clock.advance(1000);
  assert.deepEqual(progressOf(notified), [0, 1]);
  assert.deepEqual(progressOf(quiet), []);
  notified.handle!.remove();
  other.handle!.remove();
  assert.equal(clock.timerCount(), 0, "the timer goes with the last progressNotify watch");
  assert.equal(checkStream(quiet, store, { key: "a" }, 1), 1);
});
