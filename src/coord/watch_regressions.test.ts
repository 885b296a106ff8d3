/*
 * Regression tests for the failures etcd's watch once had (its issues on compaction racing a delete,
 * watch creation under load, and progress notifications ahead of events), run against the hub with
 * a real store.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import type { WatchRange } from "./watch_range.js";
import {
  checkStream,
  openWatch,
  revisionOf,
  watchSetup,
  type RecordingSink,
  type TestStore,
} from "./watch_test_support.test.helper.js";

const keys = ["a", "b", "c", "d/1", "d/2"];
const ranges: WatchRange[] = [{ key: "a" }, { key: "d/1" }, { prefix: "d/" }, { prefix: "" }, { from: "b", to: "d/2" }];

/** A put, a delete or a txn of both on a few keys, so deletes of existing keys are frequent. */
function randomWrite(store: TestStore, prng: Prng): void {
  const key = prng.pick(keys);
  const roll = prng.int(0, 10);
  if (roll < 5) store.put(key, String(prng.int(0, 100)));
  else if (roll < 8) store.delete(key);
  else store.txn({ [prng.pick(keys.filter((k) => k !== key))]: "t" }, [key]);
}

interface Stream {
  readonly sink: RecordingSink;
  readonly range: WatchRange;
  readonly from: number;
}

function deleteDelivered(sink: RecordingSink, revision: number): boolean {
  return sink.events().some((e) => e.type === "delete" && revisionOf(e) === revision);
}

test("a compaction racing a delete must not drop the delete from a watch", () => {
  // The delete is still queued for a live watch when the compaction at its revision applies.
  let { store, clock, hub } = watchSetup();
  store.put("k", "1");
  const live = openWatch(hub, { range: { key: "k" } });
  const deleted = store.delete("k");
  store.compact(deleted);
  clock.runSoon();
  assert.ok(deleteDelivered(live, deleted));

  // A watch from the put, whose catch-up has not begun: the put is compacted, so it is cancelled.
  ({ store, clock, hub } = watchSetup());
  const put = store.put("k", "1");
  const unread = openWatch(hub, { range: { key: "k" }, fromRevision: put }, true);
  const deletedToo = store.delete("k");
  store.compact(deletedToo);
  assert.equal(unread.canceled()?.reason, "compacted");

  // A watch whose catch-up stopped right at the delete: the compaction keeps that revision.
  ({ store, clock, hub } = watchSetup());
  const big = store.put("k", "v".repeat(1024 * 1024));
  const deletedLast = store.delete("k");
  const reader = openWatch(hub, { range: { key: "k" }, fromRevision: big }, true);
  reader.drain();
  reader.full = true;
  clock.runSoon();
  assert.equal(checkStream(reader, store, { key: "k" }, big), big, "a mebibyte fills the first message");
  store.compact(deletedLast);
  reader.drain();
  clock.runSoon();
  assert.ok(deleteDelivered(reader, deletedLast));
});

test("compactions at random moments never skip an event silently: it is delivered or the watch is cancelled", () => {
  for (let seed = 1; seed <= 150; seed++) {
    const prng = new Prng(seed);
    const { store, clock, hub } = watchSetup();
    const streams: Stream[] = [];
    for (let step = 0; step < 120; step++) {
      const roll = prng.int(0, 20);
      if (roll < 10) randomWrite(store, prng);
      else if (roll < 13) {
        const range = prng.pick(ranges);
        const from = Math.max(1, store.kv.revision() + prng.int(-4, 3));
        streams.push({ sink: openWatch(hub, { range, fromRevision: from }, prng.chance(0.3)), range, from });
      } else if (roll < 16 && streams.length > 0) {
        const sink = prng.pick(streams).sink;
        if (prng.chance(0.5)) sink.drain();
        else sink.full = true;
      } else if (roll < 17 && store.kv.revision() > store.kv.compactRevision())
        store.compact(prng.int(store.kv.compactRevision() + 1, store.kv.revision() + 1));
      else clock.runSoon();
    }
    for (const { sink } of streams) {
      if (sink.closed) continue;
      sink.drain();
      hub.requestProgress(sink.handle!.watchId);
    }
    clock.runSoon();
    for (const { sink, range, from } of streams) {
      const through = checkStream(sink, store, range, from);
      const canceled = sink.canceled();
      if (canceled === undefined) assert.ok(through >= store.kv.revision(), `seed ${seed}: everything delivered`);
      else {
        assert.equal(canceled.reason, "compacted", `seed ${seed}`);
        assert.ok(through + 1 < canceled.compactRevision!, `seed ${seed}: cancelled only when history it needed went`);
      }
    }
  }
});

test("creating 1,000 watches per second while writing must not break reliability", () => {
  const prng = new Prng(1000);
  const { store, clock, hub } = watchSetup({ progressIntervalMs: 100 });
  const streams: Stream[] = [];
  // One virtual second: each millisecond a new watch, from now or from up to 50 revisions back, and writes.
  for (let ms = 0; ms < 1000; ms++) {
    const range = prng.pick(ranges);
    const back = prng.chance(0.5) ? undefined : Math.max(1, store.kv.revision() - prng.int(0, 50));
    const request = { range, progressNotify: prng.chance(0.2), ...(back === undefined ? {} : { fromRevision: back }) };
    const from = back ?? store.kv.revision() + 1;
    streams.push({ sink: openWatch(hub, request, prng.chance(0.1)), range, from });
    for (let w = prng.int(0, 4); w > 0; w--) randomWrite(store, prng);
    if (prng.chance(0.1)) prng.pick(streams).sink.drain();
    clock.advance(1);
  }
  assert.equal(hub.size, 1000);
  for (const { sink } of streams) {
    sink.drain();
    hub.requestProgress(sink.handle!.watchId);
  }
  clock.runSoon();
  for (const [i, { sink, range, from }] of streams.entries()) {
    assert.equal(sink.canceled(), undefined, `watch ${i}`);
    assert.ok(checkStream(sink, store, range, from) >= store.kv.revision(), `watch ${i} got everything`);
  }
});

test("a requested progress notification must never carry a revision below an event not yet sent", () => {
  let notifications = 0;
  for (let seed = 1; seed <= 100; seed++) {
    const prng = new Prng(seed);
    const { store, clock, hub } = watchSetup({ progressIntervalMs: 10 });
    const streams: Stream[] = ranges.map((range) => {
      const request = { range, progressNotify: prng.chance(0.5) };
      return { sink: openWatch(hub, request, prng.chance(0.5)), range, from: 1 };
    });
    for (let step = 0; step < 200; step++) {
      const roll = prng.int(0, 10);
      const { sink } = prng.pick(streams);
      if (roll < 4) randomWrite(store, prng);
      else if (roll < 5) sink.full = true;
      else if (roll < 6) sink.drain();
      else if (roll < 8) hub.requestProgress(sink.handle!.watchId);
      else if (roll < 9) clock.runSoon();
      else clock.advance(10);
    }
    for (const { sink, range, from } of streams) {
      checkStream(sink, store, range, from);
      notifications += sink.messages.filter((m) => m.type === "progress").length;
    }
  }
  assert.ok(notifications > 100, `only ${notifications} progress notifications were sent`);
});
