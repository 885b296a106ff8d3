import assert from "node:assert/strict";
import { test } from "node:test";
import { WatchHub } from "./watch_hub.js";
import {
  checkStream,
  ManualClock,
  openWatch,
  TestStore,
  watchSetup,
  type RecordingSink,
} from "./watch_test_support.test.helper.js";

const all = { prefix: "" };

function writes(store: TestStore, count: number): void {
  for (let i = 0; i < count; i++) store.put(`k${i % 3}`, String(i));
}

const reasonOf = (sink: RecordingSink): string | undefined => sink.canceled()?.reason;

test("a watch from below the compaction revision is cancelled as compacted; from it, it is served", () => {
  const { store, clock, hub } = watchSetup();
  writes(store, 5);
  store.compact(3);
  const below = openWatch(hub, { range: all, fromRevision: 2 });
  assert.deepEqual(
    below.messages.map((m) => m.type),
    ["created", "canceled"],
  );
  assert.equal(reasonOf(below), "compacted");
  assert.equal(below.canceled()?.compactRevision, 3);
  assert.ok(below.closed);
  const at = openWatch(hub, { range: all, fromRevision: 3 });
  clock.runSoon();
  assert.equal(checkStream(at, store, all, 3), 5);
  assert.equal(hub.history.firstRevision(), 3);
});

test("a compaction cancels a watch whose catch-up it cuts, and no other", () => {
  const { store, clock, hub } = watchSetup();
  writes(store, 20);
  // Full from the start: its catch-up has not begun when the compaction comes.
  const behind = openWatch(hub, { range: all, fromRevision: 1 }, true);
  const live = openWatch(hub, { range: all });
  clock.runSoon();
  store.compact(10);
  assert.equal(reasonOf(behind), "compacted");
  assert.equal(behind.canceled()?.compactRevision, 10);
  assert.equal(checkStream(behind, store, all, 1), 0);
  store.put("after", "x");
  clock.runSoon();
  assert.equal(reasonOf(live), undefined);
  assert.equal(checkStream(live, store, all, 21), 21);
});

test("history from before the hub attached is unavailable on this member", () => {
  const store = new TestStore();
  writes(store, 4);
  const hub = new WatchHub({ kv: store.kv, clock: new ManualClock() });
  const sink = openWatch(hub, { range: all, fromRevision: 2 });
  assert.equal(reasonOf(sink), "unavailable");
  assert.equal(sink.canceled()?.compactRevision, 5);
});

test("a snapshot install cancels the watches it skips past as unavailable, with where to resume", () => {
  const { store, clock, hub } = watchSetup();
  writes(store, 3);
  const live = openWatch(hub, { range: all });
  const future = openWatch(hub, { range: all, fromRevision: 50 });
  const leader = new TestStore();
  writes(leader, 10);
  store.kv.restore(leader.kv.snapshot());
  assert.equal(reasonOf(live), "unavailable");
  assert.deepEqual(
    { compactRevision: live.canceled()?.compactRevision, resumeRevision: live.canceled()?.resumeRevision },
    { compactRevision: 11, resumeRevision: 4 },
  );
  assert.equal(reasonOf(future), undefined);
  assert.equal(reasonOf(openWatch(hub, { range: all, fromRevision: 5 })), "unavailable");
  const after = openWatch(hub, { range: all, fromRevision: 11 });
  store.put("k", "v");
  clock.runSoon();
  assert.equal(checkStream(after, store, all, 11), 11);
});

test("a slow watcher is cancelled with the revision to resume from, and resuming from it loses nothing", () => {
  const { store, clock, hub } = watchSetup({ bufferEventsMax: 5 });
  const slow = openWatch(hub, { range: all });
  const fast = openWatch(hub, { range: all });
  slow.full = true;
  store.put("a", "1");
  clock.runSoon();
  writes(store, 5);
  clock.runSoon();
  assert.equal(reasonOf(slow), undefined, "five events behind is within the buffer");
  store.put("b", "2");
  assert.equal(reasonOf(slow), "slow");
  const resumeRevision = slow.canceled()?.resumeRevision;
  assert.equal(resumeRevision, 2);
  assert.equal(checkStream(slow, store, all, 1), 1);
  const resumed = openWatch(hub, { range: all, fromRevision: resumeRevision });
  store.put("c", "3");
  clock.runSoon();
  assert.equal(checkStream(resumed, store, all, 2), 8);
  assert.equal(reasonOf(fast), undefined, "one slow reader does not hold back another");
  assert.equal(checkStream(fast, store, all, 1), 8);
});

test("a reader that keeps up is not cut off by a large batch applied in one turn", () => {
  const { store, clock, hub } = watchSetup({ bufferEventsMax: 5 });
  const sink = openWatch(hub, { range: all });
  writes(store, 40);
  clock.runSoon();
  assert.equal(reasonOf(sink), undefined);
  assert.equal(checkStream(sink, store, all, 1), 40);
});

test("close ends every watch with stopping and the first revision it has not sent", () => {
  const { store, clock, hub } = watchSetup();
  const caughtUp = openWatch(hub, { range: all });
  const stalled = openWatch(hub, { range: all });
  stalled.full = true;
  writes(store, 3);
  clock.runSoon();
  writes(store, 2);
  clock.runSoon();
  hub.close();
  assert.deepEqual([reasonOf(caughtUp), caughtUp.canceled()?.resumeRevision], ["stopping", 6]);
  assert.deepEqual([reasonOf(stalled), stalled.canceled()?.resumeRevision], ["stopping", 4]);
  assert.equal(checkStream(stalled, store, all, 1), 3);
  assert.ok(caughtUp.closed && stalled.closed);
  const late = openWatch(hub, { range: all });
  assert.deepEqual([reasonOf(late), late.canceled()?.resumeRevision], ["stopping", 6]);
  writes(store, 3);
  assert.equal(hub.history.revisionCount(), 0, "a closed hub keeps no history");
  assert.equal(hub.size, 0);
});

test("cancel ends one watch with client after what it was sent, drops its queue, and leaves the others", () => {
  const { store, clock, hub } = watchSetup();
  const canceled = openWatch(hub, { range: all });
  const other = openWatch(hub, { range: all });
  store.put("a", "1");
  clock.runSoon();
  store.put("b", "2");
  const watchId = canceled.messages[0]!.watchId;
  assert.equal(hub.cancel(watchId), true);
  assert.equal(reasonOf(canceled), "client");
  assert.ok(canceled.closed);
  assert.equal(checkStream(canceled, store, all, 1), 1, "the queued revision 2 is not sent after the cancel");
  assert.equal(hub.cancel(watchId), false, "a watch ends once");
  assert.equal(hub.requestProgress(watchId), false);
  assert.equal(hub.size, 1);
  clock.runSoon();
  assert.equal(reasonOf(other), undefined);
  assert.equal(checkStream(other, store, all, 1), 2);
});
