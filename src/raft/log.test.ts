import assert from "node:assert/strict";
import { test } from "node:test";
import { logIndex, term } from "../util/ids.js";
import { RaftLog } from "./log.js";
import type { Entry } from "./types.js";

function entry(index: number, t: number, size = 0): Entry {
  return { index: logIndex(index), term: term(t), kind: "normal", data: new Uint8Array(size).fill(index) };
}

/** A durable log (all entries stable) holding `terms`, index 1 first. */
function logWith(terms: readonly number[], committed = 0): RaftLog {
  return new RaftLog({
    offset: logIndex(0),
    offsetTerm: term(0),
    entries: terms.map((t, k) => entry(k + 1, t)),
    committed: logIndex(committed),
  });
}

function termsOf(log: RaftLog): number[] {
  const out: number[] = [];
  for (let i = 1; i <= log.lastIndex(); i++) out.push(log.termAt(logIndex(i))!);
  return out;
}

test("maybeAppend truncates at the first conflicting entry and appends the leader's", () => {
  const log = logWith([1, 1, 2, 2, 2]);
  const last = log.maybeAppend(logIndex(2), [entry(3, 2), entry(4, 3), entry(5, 3), entry(6, 3)]);
  assert.equal(last, 6);
  assert.deepEqual(termsOf(log), [1, 1, 2, 3, 3, 3]);
  assert.equal(log.stableIndex(), 3, "the truncated suffix is no longer durable");
  assert.deepEqual(
    log.takeUnstableEntries().map((e) => e.index),
    [4, 5, 6],
  );
});

test("maybeAppend with entries already held keeps the longer matching tail (a stale append truncates nothing)", () => {
  const log = logWith([1, 1, 2, 2]);
  const last = log.maybeAppend(logIndex(1), [entry(2, 1), entry(3, 2)]);
  assert.equal(last, 3, "matches through the last entry sent");
  assert.deepEqual(termsOf(log), [1, 1, 2, 2]);
  assert.equal(log.stableIndex(), 4);
  assert.equal(log.maybeAppend(logIndex(4), []), 4, "an empty append matches at prevLogIndex");
});

test("maybeAppend appends after the end of the log when nothing conflicts", () => {
  const log = logWith([1]);
  assert.equal(log.maybeAppend(logIndex(1), [entry(2, 1), entry(3, 2)]), 3);
  assert.deepEqual(termsOf(log), [1, 1, 2]);
});

test("findConflictByTerm returns the last index at or before the given one whose term is at most t", () => {
  const log = logWith([1, 1, 2, 2, 2, 4, 4]);
  const at = (index: number, t: number): [number, number] => {
    const r = log.findConflictByTerm(logIndex(index), term(t));
    return [r.index, r.term];
  };
  assert.deepEqual(at(7, 4), [7, 4]);
  assert.deepEqual(at(7, 3), [5, 2], "skips the whole of term 4");
  assert.deepEqual(at(7, 2), [5, 2]);
  assert.deepEqual(at(7, 1), [2, 1], "skips terms 4 and 2");
  assert.deepEqual(at(7, 0), [0, 0], "nothing matches: back to the start");
  assert.deepEqual(at(4, 4), [4, 2], "never beyond the given index");
  assert.deepEqual(at(100, 3), [5, 2], "clamped to the last index");
});

test("isUpToDate compares last term first, then last index (§5.4.1)", () => {
  const log = logWith([1, 1, 2, 2, 2]);
  assert.equal(log.isUpToDate(logIndex(5), term(2)), true, "equal");
  assert.equal(log.isUpToDate(logIndex(6), term(2)), true, "longer, same term");
  assert.equal(log.isUpToDate(logIndex(4), term(2)), false, "shorter, same term");
  assert.equal(log.isUpToDate(logIndex(1), term(3)), true, "newer term wins even if shorter");
  assert.equal(log.isUpToDate(logIndex(50), term(1)), false, "older term loses even if longer");
  assert.equal(RaftLog.empty().isUpToDate(logIndex(0), term(0)), true, "two empty logs");
});

test("slice caps total data bytes yet always returns at least one entry", () => {
  const log = new RaftLog({
    offset: logIndex(0),
    offsetTerm: term(0),
    entries: [1, 2, 3, 4, 5].map((i) => entry(i, 1, 10)),
    committed: logIndex(0),
  });
  const indexes = (from: number, to: number, bytesMax: number): number[] =>
    log.slice(logIndex(from), logIndex(to), bytesMax).map((e) => e.index);
  assert.deepEqual(indexes(1, 5, 1000), [1, 2, 3, 4, 5]);
  assert.deepEqual(indexes(1, 5, 25), [1, 2], "stops before exceeding the cap");
  assert.deepEqual(indexes(1, 5, 30), [1, 2, 3], "an exact fit is included");
  assert.deepEqual(indexes(1, 5, 5), [1], "one oversized entry still goes alone");
  assert.deepEqual(indexes(1, 5, 0), [1]);
  assert.deepEqual(indexes(2, 3, 1000), [2, 3]);
  assert.deepEqual(indexes(4, 99, 1000), [4, 5], "clamped to the last index");
});

test("stableTo for entries since truncated and replaced is ignored", () => {
  const log = RaftLog.empty();
  log.appendNew([entry(1, 1), entry(2, 1), entry(3, 1)]);
  assert.equal(log.stableIndex(), 0);
  // Before the write of 1..3 completes, a new leader replaces 2..3.
  log.maybeAppend(logIndex(1), [entry(2, 2)]);
  assert.deepEqual(termsOf(log), [1, 2]);
  log.stableTo(logIndex(3), term(1));
  assert.equal(log.stableIndex(), 0, "index 3 no longer exists");
  log.stableTo(logIndex(2), term(1));
  assert.equal(log.stableIndex(), 0, "index 2 now has term 2, not 1");
  log.stableTo(logIndex(2), term(2));
  assert.equal(log.stableIndex(), 2);
  log.stableTo(logIndex(1), term(1));
  assert.equal(log.stableIndex(), 2, "never moves back");
});

test("applied trails applying: the driver says what it applied after it was handed out", () => {
  const log = RaftLog.empty();
  log.appendNew([entry(1, 1), entry(2, 1)]);
  log.commitTo(logIndex(2));
  log.stableTo(logIndex(2), term(1));
  assert.throws(() => log.appliedTo(logIndex(1)), /beyond what was handed out/);
  log.applyingTo(logIndex(2));
  assert.equal(log.applied, 0);
  log.appliedTo(logIndex(2));
  assert.equal(log.applied, 2);
});

test("nextCommitted hands out only committed entries that are durable, each once", () => {
  const log = RaftLog.empty();
  log.appendNew([entry(1, 1), entry(2, 1), entry(3, 1)]);
  log.commitTo(logIndex(3));
  assert.deepEqual(log.nextCommitted(1 << 20), [], "committed but nothing durable");
  log.stableTo(logIndex(2), term(1));
  const first = log.nextCommitted(1 << 20).map((e) => e.index);
  assert.deepEqual(first, [1, 2]);
  log.applyingTo(logIndex(2));
  assert.deepEqual(log.nextCommitted(1 << 20), [], "index 3 is not durable yet");
  log.stableTo(logIndex(3), term(1));
  assert.deepEqual(
    log.nextCommitted(1 << 20).map((e) => e.index),
    [3],
  );
});

test("nextCommitted stops at the commit index even when more is durable", () => {
  const log = logWith([1, 1, 1, 1], 2);
  assert.deepEqual(
    log.nextCommitted(1 << 20).map((e) => e.index),
    [1, 2],
  );
});

test("commitTo never moves the commit index back", () => {
  const log = logWith([1, 1, 1]);
  assert.equal(log.commitTo(logIndex(2)), true);
  assert.equal(log.commitTo(logIndex(1)), false);
  assert.equal(log.committed, 2);
});
