import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CommittedHistory,
  MAX_VIOLATIONS_PER_WATCH,
  checkResumedSegments,
  checkWatch,
  historyFromObservations,
  inWatchRange,
} from "./index.js";
import type { RecordedWatch, WatchEvent, WatchMessage, WatchRange, WatchSegment, WatchViolation } from "./index.js";

const put = (key: string, value: string, revision: number): WatchEvent => ({ type: "put", key, value, revision });
const del = (key: string, revision: number): WatchEvent => ({ type: "delete", key, value: "", revision });
const events = (...list: WatchEvent[]): WatchMessage => ({ kind: "events", events: list });
const progress = (revision: number): WatchMessage => ({ kind: "progress", revision });
const canceled: WatchMessage = { kind: "canceled", reason: "compacted", compactRevision: 4 };

/** Revision 3 is a txn of three keys; revision 5 deletes "a". */
const REVISIONS: readonly (readonly WatchEvent[])[] = [
  [put("a", "1", 1)],
  [put("b", "1", 2)],
  [put("a", "2", 3), del("b", 3), put("x/1", "1", 3)],
  [put("x/2", "1", 4)],
  [del("a", 5)],
  [put("c", "1", 6)],
];
const R = (revision: number): WatchEvent[] => [...REVISIONS[revision - 1]!];
const ALL: WatchRange = { prefix: "" };

function committed(): CommittedHistory {
  const history = new CommittedHistory({ complete: true });
  REVISIONS.forEach((list, i) => assert.equal(history.record(i + 1, list), undefined));
  return history;
}

function watch(range: WatchRange, startRevision: number, ...messages: WatchMessage[]): RecordedWatch {
  return { name: "w", range, startRevision, messages };
}

/** The guarantees named, in order, after checking that every detail matches `detail`. */
function named(violations: readonly WatchViolation[], detail?: RegExp): string[] {
  if (detail !== undefined) for (const v of violations) assert.match(v.detail, detail);
  return violations.map((v) => v.guarantee);
}

test("correct streams of every kind of range pass", () => {
  const history = committed();
  const correct = [
    watch(ALL, 1, events(...R(1), ...R(2)), progress(2), events(...R(3)), events(...R(4), ...R(5), ...R(6))),
    watch({ key: "a" }, 1, events(put("a", "1", 1)), progress(2), events(put("a", "2", 3)), events(del("a", 5))),
    watch({ prefix: "x/" }, 4, progress(3), events(put("x/2", "1", 4)), progress(6), canceled),
    watch({ from: "b", to: "x" }, 2, events(put("b", "1", 2)), events(del("b", 3)), progress(5), events(...R(6))),
    watch({ from: "x/2" }, 1, events(...R(4))),
    watch(ALL, 4, events(...R(4)), events(...R(5))),
    watch({ key: "zzz" }, 1, progress(6)),
    watch(ALL, 7),
  ];
  for (const w of correct) assert.deepEqual(checkWatch(history, w), [], JSON.stringify(w));
});

test("ranges: an exact key, a prefix, and [from, to) by string comparison", () => {
  assert.ok(inWatchRange({ key: "a" }, "a"));
  assert.ok(!inWatchRange({ key: "a" }, "ab"));
  assert.ok(inWatchRange({ prefix: "a" }, "ab"));
  assert.ok(!inWatchRange({ prefix: "ab" }, "a"));
  assert.ok(inWatchRange({ prefix: "" }, ""));
  assert.ok(inWatchRange({ from: "b", to: "d" }, "b"));
  assert.ok(inWatchRange({ from: "b", to: "d" }, "cz"));
  assert.ok(!inWatchRange({ from: "b", to: "d" }, "d"));
  assert.ok(!inWatchRange({ from: "b", to: "d" }, "a"));
  assert.ok(inWatchRange({ from: "b" }, "\uffff"));
});

test("a skipped event is unreliable, whether an event or a progress notification vouched past it", () => {
  const history = committed();
  const skipped = watch({ key: "a" }, 1, events(put("a", "1", 1)), events(del("a", 5)));
  assert.deepEqual(
    named(checkWatch(history, skipped), /^put "a"="2" at revision 3 was never delivered, .* by an event$/),
    ["reliable"],
  );
  const bookmarked = watch({ key: "a" }, 1, events(put("a", "1", 1)), progress(4));
  assert.deepEqual(named(checkWatch(history, bookmarked), /progress notification in message 1$/), ["reliable"]);
  // Within a txn: two of its three events delivered.
  const partial = watch(ALL, 3, events(put("a", "2", 3), put("x/1", "1", 3)));
  assert.deepEqual(named(checkWatch(history, partial), /^delete "b" at revision 3 was never delivered/), ["reliable"]);
});

test("a whole-keyspace watch skipping revisions is unreliable, reported as one gap", () => {
  const history = committed();
  const gap = watch(ALL, 1, events(...R(1)), events(...R(4)), progress(6));
  assert.deepEqual(
    checkWatch(history, gap).map((v) => v.detail),
    [
      "revisions 2..3 were never delivered, though every revision has an event and revision 6 was vouched for by the progress notification in message 2",
      "revisions 5..6 were never delivered, though every revision has an event and revision 6 was vouched for by the progress notification in message 2",
    ],
  );
});

test("an event delivered twice breaks uniqueness, in the same message or a later one", () => {
  const history = committed();
  const twice = watch(ALL, 1, events(...R(1), ...R(1)), events(...R(2)));
  assert.deepEqual(named(checkWatch(history, twice), /^message 0 event 1 \(put "a"="1" at revision 1\) was already/), [
    "unique",
  ]);
  const later = watch(ALL, 1, events(...R(1)), events(...R(1), ...R(2)));
  assert.deepEqual(named(checkWatch(history, later), /first in message 0/), ["unique"]);
});

test("a txn's revision split across two messages breaks atomicity", () => {
  const history = committed();
  const split = watch(ALL, 3, events(put("a", "2", 3), del("b", 3)), events(put("x/1", "1", 3), ...R(4)));
  assert.deepEqual(named(checkWatch(history, split), /^message 1 event 0 .*split, it began in message 0$/), ["atomic"]);
  // Several revisions in one message are fine; only a range's own events of a revision count.
  const narrow = watch({ prefix: "x/" }, 1, events(put("x/1", "1", 3)), events(put("x/2", "1", 4)));
  assert.deepEqual(checkWatch(history, narrow), []);
});

test("a progress notification ahead of an event not yet sent breaks bookmarkability", () => {
  const history = committed();
  const ahead = watch({ key: "a" }, 1, events(put("a", "1", 1)), progress(3), events(put("a", "2", 3)));
  assert.deepEqual(
    named(
      checkWatch(history, ahead),
      /^message 2 event 0 .* after the progress notification at revision 3 \(message 1\)$/,
    ),
    ["bookmarkable"],
  );
  // Past the history's end: it also vouches for key "a"'s three events, never delivered.
  const [pastEnd, ...missed] = checkWatch(history, watch({ key: "a" }, 1, progress(7)));
  assert.match(pastEnd!.detail, /^message 0: progress notification at revision 7, past the last committed revision 6$/);
  assert.deepEqual(named([pastEnd!, ...missed]), ["bookmarkable", "reliable", "reliable", "reliable"]);
});

test("events out of revision order break ordering, within and across messages", () => {
  const history = committed();
  const within = watch(ALL, 1, events(...R(2), ...R(1)));
  assert.deepEqual(named(checkWatch(history, within), /^message 0 event 1 .* after an event at revision 2$/), [
    "ordered",
  ]);
  const across = watch(ALL, 1, events(...R(1), ...R(2)), events(...R(4)), events(...R(3)));
  assert.deepEqual(named(checkWatch(history, across)), ["ordered", "ordered", "ordered"]);
});

test("a delivered event must be the committed one, in range, from the start revision, and committed", () => {
  const history = committed();
  const cases: [RecordedWatch, RegExp][] = [
    [watch({ key: "a" }, 1, events(put("a", "9", 1))), /differs from the committed put "a"="1"$/],
    [watch({ key: "a" }, 5, events(put("a", "", 5))), /differs from the committed delete "a"$/],
    [watch({ key: "a" }, 1, events(put("a", "1", 1), put("b", "1", 2))), /outside the watch's range key "a"$/],
    [watch({ from: "b", to: "c" }, 6, events(put("c", "1", 6))), /outside the watch's range \["b", "c"\)$/],
    [watch({ key: "a" }, 2, events(put("a", "1", 1))), /not at a revision from the start revision 2 on$/],
    [watch({ key: "a" }, 2, progress(2), events(put("a", "1", 1))), /not at a revision from the start revision 2 on$/],
    [watch({ key: "a" }, 2, events(put("a", "1", 2))), /never committed: its revision wrote nothing on that key$/],
  ];
  for (const [w, detail] of cases)
    assert.deepEqual(named(checkWatch(history, w), detail), ["reliable"], String(detail));
  // An event past the history's end was never committed; it also vouches for revisions not delivered.
  const beyond = watch({ key: "c" }, 6, events(put("c", "1", 6)), events(put("c", "2", 7)));
  assert.deepEqual(named(checkWatch(history, beyond), /never committed: no revision 7 was \(the last is 6\)$/), [
    "reliable",
  ]);
});

test("nothing may follow a cancellation", () => {
  const history = committed();
  const after = watch({ key: "a" }, 1, events(put("a", "1", 1)), canceled, events(put("a", "2", 3)));
  assert.deepEqual(
    named(checkWatch(history, after), /^message 2 \(1 in all\) follows the cancellation in message 1$/),
    ["terminal"],
  );
});

test("at most MAX_VIOLATIONS_PER_WATCH are reported, the first ones found", () => {
  const history = committed();
  const bogus = Array.from({ length: 20 }, (_, i) => events(put("a", "?", 7 + i)));
  const violations = checkWatch(history, watch({ key: "a" }, 1, events(put("a", "1", 1)), ...bogus));
  assert.equal(violations.length, MAX_VIOLATIONS_PER_WATCH);
  assert.match(violations[0]!.detail, /^message 1 event 0 \(put "a"="\?" at revision 7\) was never committed/);
  assert.match(violations[9]!.detail, /^message 10 event 0 /);
});

test("a resumed watch loses nothing when each segment starts no later than one past what was vouched for", () => {
  const first = { startRevision: 1, messages: [events(put("a", "1", 1)), progress(2)] };
  const resumedAt = (startRevision: number, ...messages: WatchMessage[]): WatchSegment => ({ startRevision, messages });
  assert.deepEqual(checkResumedSegments("w", [first, resumedAt(3, events(put("a", "2", 3)))]), []);
  assert.deepEqual(checkResumedSegments("w", [first, resumedAt(2), resumedAt(1, progress(4)), resumedAt(5)]), []);
  assert.deepEqual(checkResumedSegments("w", [resumedAt(5), resumedAt(5)]), []);
  const late = checkResumedSegments("w", [first, resumedAt(4, events(del("a", 5)))]);
  assert.deepEqual(named(late, /^segment 1 resumed at revision 4, .* up to revision 2: revision 3 was lost$/), [
    "resumable",
  ]);
  // A watch canceled for compaction cannot resume losslessly past the compacted revisions.
  const compacted = [resumedAt(1, events(put("a", "1", 1)), canceled), resumedAt(4)];
  assert.deepEqual(named(checkResumedSegments("w", compacted), /revisions 2..3 were lost$/), ["resumable"]);
  const afterCancel = [resumedAt(1, canceled, progress(3)), resumedAt(4)];
  assert.deepEqual(named(checkResumedSegments("w", afterCancel)), ["terminal", "resumable"]);
});

test("observations merge into a history; watchers that disagree on a revision are divergent", () => {
  const w1 = { ...watch(ALL, 1, events(...R(1), ...R(2)), events(...R(3))), name: "w1" };
  const w2 = { ...watch(ALL, 2, events(...R(2)), events(put("a", "2", 3), del("b", 3))), name: "w2" };
  const w3 = { ...watch({ from: "" }, 1, events(put("a", "X", 1))), name: "w3" };
  const narrow = { ...watch({ key: "a" }, 1, events(put("a", "Y", 1))), name: "narrow" };
  const { history, violations } = historyFromObservations([w1, w2, w3, narrow]);
  assert.deepEqual(
    violations.map((v) => [v.guarantee, v.watch, v.detail]),
    [
      ["divergent", "w2", 'divergent history at revision 3: w2 saw no event on "x/1", w1 saw put "x/1"="1"'],
      ["divergent", "w3", 'divergent history at revision 1: w3 saw put "a"="X", w1 saw put "a"="1"'],
    ],
  );
  assert.ok(!history.complete);
  assert.deepEqual([...history.revisionsBetween(1, 9)], [1, 2, 3]);
  assert.deepEqual(named(checkWatch(history, narrow), /differs from the committed put "a"="1"$/), ["reliable"]);
  // Revisions nobody observed are unknown: neither a delivered event nor a skipped one there is judged.
  const unknown = watch({ key: "a" }, 1, events(put("a", "1", 1)), events(put("a", "Z", 9)));
  assert.deepEqual(named(checkWatch(history, unknown), /^put "a"="2" at revision 3 was never delivered/), ["reliable"]);
  const known = watch({ key: "a" }, 1, events(put("a", "1", 1)), events(put("a", "2", 3)), events(put("a", "Z", 9)));
  assert.deepEqual(checkWatch(history, known), []);
});

test("an observer vouches for what it delivered from its start on, the first copy of an event it repeated", () => {
  const early = { ...watch(ALL, 2, events(put("a", "X", 1), ...R(2))), name: "early" };
  const repeated = { ...watch(ALL, 3, events(...R(3), put("a", "X", 3))), name: "repeated" };
  const { history, violations } = historyFromObservations([early, repeated]);
  assert.deepEqual(violations, []);
  assert.deepEqual([...history.revisionsBetween(1, 9)], [2, 3]);
  assert.equal(history.event(3, "a")?.value, "2");
});

test("a whole-keyspace watch needs no authority to show a gap", () => {
  const gap = watch(ALL, 1, events(...R(1)), events(...R(3)), events(...R(4)));
  const { history, violations } = historyFromObservations([gap]);
  assert.deepEqual(violations, []);
  assert.deepEqual(named(checkWatch(history, gap), /^revision 2 was never delivered, .* by an event$/), ["reliable"]);
});

test("a history records each revision once; a second record must agree, in any order within the revision", () => {
  const history = committed();
  assert.equal(history.record(3, [put("x/1", "1", 3), put("a", "2", 3), del("b", 3)], "n2"), undefined);
  assert.deepEqual(history.record(4, [put("x/2", "2", 4)], "n2"), {
    guarantee: "divergent",
    watch: "n2",
    detail: 'divergent history at revision 4: n2 saw put "x/2"="2", history saw put "x/2"="1"',
  });
  assert.equal(history.event(4, "x/2")?.value, "1");
  assert.throws(() => history.record(7, []), /revision 7 has no event/);
  assert.throws(() => history.record(7, [put("a", "1", 8)]), /holds an event at revision 8/);
  assert.throws(() => history.record(7, [put("a", "1", 7), del("a", 7)]), /writes a key twice/);
  assert.throws(() => history.record(0, [put("a", "1", 0)]), /revision 0 is not a revision/);
  assert.throws(() => checkWatch(history, watch(ALL, 0)), /startRevision 0 is not a revision/);
});
