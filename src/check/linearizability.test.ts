import assert from "node:assert/strict";
import { test } from "node:test";
import { checkHistory } from "./linearizability.js";
import type { CheckResult, CheckViolation } from "./linearizability.js";
import type { Operation } from "./history.js";
import { cas, del, get, history, put } from "./histories.test.helper.js";

function assertLinearizable(h: Operation[]): void {
  const result = checkHistory(h);
  assert.ok(result.ok, result.ok ? "" : result.explanation);
}

/** Asserts a violation on `key` whose witness is exactly the operations `ids` (or at most `ids.length`). */
function assertViolation(h: Operation[], key: string, ids: number[], exact = true): CheckViolation {
  const result: CheckResult = checkHistory(h);
  assert.equal(result.ok, false, "expected a violation");
  assert.equal(result.key, key);
  assert.ok(
    result.witness.every((o) => o.key === key),
    "witness on the failing key",
  );
  const got = result.witness.map((o) => o.id).sort((a, b) => a - b);
  if (exact)
    assert.deepEqual(
      got,
      [...ids].sort((a, b) => a - b),
      result.explanation,
    );
  else assert.ok(got.length <= ids.length && got.every((id) => ids.includes(id)), result.explanation);
  // The witness is a violation on its own, and names every operation in it.
  assert.equal(checkHistory(result.witness).ok, false);
  for (const o of result.witness) assert.match(result.explanation, new RegExp(`#${o.id} `));
  return result;
}

/** Operations on other keys that are fine, to check the witness stays on the failing key. */
const noise = [
  { key: "other", op: put("n1"), at: [0, 3] },
  { key: "other", op: get(), at: [4, 5], result: "n1" },
  { key: "z", op: get(), at: [0, 100], result: null },
] as const;

// ---- linearizable ---------------------------------------------------------------------------------

test("empty history and a sequential history of every operation kind are linearizable", () => {
  const empty = checkHistory([]);
  assert.deepEqual(empty, { ok: true, keys: 0, operations: 0, steps: 0 });
  assertLinearizable(
    history(
      { op: get(), at: [0, 1], result: null },
      { op: put("a"), at: [2, 3] },
      { op: get(), at: [4, 5], result: "a" },
      { op: cas("a", "b"), at: [6, 7], result: true },
      { op: cas("a", "c"), at: [8, 9], result: false },
      { op: get(), at: [10, 11], result: "b" },
      { op: del(), at: [12, 13] },
      { op: get(), at: [14, 15], result: null },
      { op: cas(null, "d"), at: [16, 17], result: true },
      { op: del(), at: [18, 19] },
      { op: del(), at: [20, 21] },
      { op: get(), at: [22, 23], result: null },
    ),
  );
});

test("concurrent writes may be read in either order, but in one order by everyone", () => {
  const writes = [
    { client: 1, op: put("a"), at: [0, 10] },
    { client: 2, op: put("b"), at: [0, 10] },
  ] as const;
  assertLinearizable(history(...writes, { op: get(), at: [11, 12], result: "a" }));
  assertLinearizable(history(...writes, { op: get(), at: [11, 12], result: "b" }));
  assertLinearizable(
    history(...writes, { op: get(), at: [2, 3], result: "a" }, { op: get(), at: [4, 5], result: "b" }),
  );
  assertLinearizable(
    history(...writes, { op: get(), at: [2, 3], result: "b" }, { op: get(), at: [4, 5], result: "a" }),
  );
  // A read overlapping a write may see the old or the new value; two overlapping reads may disagree.
  assertLinearizable(
    history(
      { op: put("a"), at: [0, 1] },
      { op: put("b"), at: [2, 10] },
      { op: get(), at: [3, 9], result: "b" },
      { op: get(), at: [4, 8], result: "a" },
    ),
  );
});

test("an unknown write may take effect later than its client gave up, or never", () => {
  const before = [
    { op: put("a"), at: [0, 1] },
    { op: put("b"), at: [2, 3], outcome: "unknown" },
    { op: get(), at: [4, 5], result: "a" },
  ] as const;
  assertLinearizable(history(...before, { op: get(), at: [100, 101], result: "b" }));
  assertLinearizable(history(...before, { op: get(), at: [100, 101], result: "a" }));
  assertLinearizable(history(...before));
  // An unknown cas and delete too.
  assertLinearizable(
    history(
      { op: put("a"), at: [0, 1] },
      { op: cas("a", "c"), at: [2, 3], outcome: "unknown" },
      { op: get(), at: [4, 5], result: "a" },
      { op: get(), at: [6, 7], result: "c" },
      { op: del(), at: [8, 9], outcome: "unknown" },
      { op: get(), at: [10, 11], result: "c" },
      { op: get(), at: [12, 13], result: null },
    ),
  );
});

test("an unknown write nobody read can still explain a failed cas", () => {
  assertLinearizable(
    history(
      { op: put("a"), at: [0, 1] },
      { op: put("z"), at: [2, 3], outcome: "unknown" },
      { op: cas("a", "b"), at: [4, 5], result: false },
    ),
  );
});

test("a witness never leans on a write it dropped", () => {
  // Dropping put("z") would leave a cas that failed against the right value: a violation of the
  // smaller history only. The witness must be the stale read.
  assertViolation(
    history(
      { op: put("a"), at: [0, 1] },
      { op: put("z"), at: [2, 3] },
      { op: cas("a", "b"), at: [4, 5], result: false },
      { op: get(), at: [6, 7], result: "a" },
    ),
    "k",
    [0, 1, 3],
  );
});

test("failed operations are certainly not applied; equal times overlap", () => {
  assertLinearizable(
    history(
      { op: put("a"), at: [0, 1] },
      { op: put("x"), at: [2, 3], outcome: "fail" },
      { op: get(), at: [4, 5], result: "a" },
    ),
  );
  assertViolation(
    history(
      { op: put("a"), at: [0, 1] },
      { op: put("x"), at: [2, 3], outcome: "fail" },
      { op: get(), at: [4, 5], result: "x" },
    ),
    "k",
    [2],
  );
  // The read is invoked at the instant the write completes: they count as concurrent.
  assertLinearizable(history({ op: get(), at: [0, 5], result: "a" }, { op: put("a"), at: [5, 6] }));
});

test("keys are independent: each is a register of its own", () => {
  assertLinearizable(
    history(
      { key: "x", op: put("1"), at: [0, 1] },
      { key: "y", op: put("1"), at: [0, 1] },
      { key: "x", op: get(), at: [2, 3], result: "1" },
      { key: "y", op: del(), at: [2, 3] },
      { key: "y", op: get(), at: [4, 5], result: null },
      { key: "x", op: get(), at: [4, 5], result: "1" },
    ),
  );
  const ok = checkHistory(
    history({ key: "x", op: put("1"), at: [0, 1] }, { key: "y", op: get(), at: [0, 1], result: null }),
  );
  assert.ok(ok.ok && ok.keys === 2 && ok.operations === 2);
});

// ---- violations ---------------------------------------------------------------------------------

test("stale read: a read after another read saw the new value returns the old one", () => {
  const v = assertViolation(
    history(
      ...noise,
      { op: put("old"), at: [0, 1] },
      { op: put("new"), at: [2, 20] }, // still in flight: either order was possible...
      { op: get(), at: [5, 6], result: "new" }, // ...until this read saw the new value,
      { op: get(), at: [7, 8], result: "old" }, // so this one is stale.
      { op: get(), at: [30, 31], result: "new" },
    ),
    "k",
    [3, 4, 5, 6],
  );
  assert.match(v.explanation, /^key "k" is not linearizable/);
});

test("lost acknowledged write: a read after an ok put returns the older value", () => {
  assertViolation(
    history(
      ...noise,
      { client: 1, op: put("a"), at: [0, 1] },
      { client: 1, op: get(), at: [1.5, 1.8], result: "a" },
      { client: 2, op: put("b"), at: [2, 3] },
      { client: 3, op: get(), at: [4, 5], result: "a" },
    ),
    "k",
    [3, 5, 6],
  );
  // Lost entirely: the key reads as absent after an acknowledged write.
  assertViolation(history({ op: put("b"), at: [0, 1] }, { op: get(), at: [2, 3], result: null }), "k", [0, 1]);
});

test("a read of a value never written", () => {
  const v = assertViolation(
    history(
      ...noise,
      { op: put("a"), at: [0, 1] },
      { op: get(), at: [2, 3], result: "a" },
      { op: get(), at: [4, 5], result: "ghost" },
    ),
    "k",
    [5],
  );
  assert.match(v.explanation, /#5 read "ghost", which no operation on this key wrote/);
});

test("a cas that succeeded against the wrong value, or failed against the right one", () => {
  assertViolation(
    history(
      ...noise,
      { op: put("a"), at: [0, 1] },
      { op: put("b"), at: [2, 3] },
      { op: cas("a", "c"), at: [4, 5], result: true },
    ),
    "k",
    [3, 4, 5],
  );
  const never = assertViolation(
    history({ op: put("a"), at: [0, 1] }, { op: cas("x", "c"), at: [4, 5], result: true }),
    "k",
    [1],
  );
  assert.match(never.explanation, /succeeded against "x", which no operation on this key wrote/);
  assertViolation(history({ op: put("a"), at: [0, 1] }, { op: cas("a", "b"), at: [2, 3], result: false }), "k", [0, 1]);
  // "Only if absent" on a present key.
  assertViolation(history({ op: put("a"), at: [0, 1] }, { op: cas(null, "b"), at: [2, 3], result: true }), "k", [0, 1]);
});

test("a write applied twice: its value reappears after being overwritten", () => {
  assertViolation(
    history(
      ...noise,
      { op: put("A"), at: [0, 1] },
      { op: put("B"), at: [2, 3] },
      { op: get(), at: [4, 5], result: "B" },
      { op: get(), at: [6, 7], result: "A" },
    ),
    "k",
    [3, 4, 5, 6],
    false,
  );
  // With concurrent writes every one of these operations is needed to show it.
  assertViolation(
    history(
      { op: put("A"), at: [0, 10] },
      { op: put("B"), at: [0, 10] },
      { op: get(), at: [1, 2], result: "A" },
      { op: get(), at: [3, 4], result: "B" },
      { op: get(), at: [5, 6], result: "A" },
    ),
    "k",
    [0, 1, 2, 3, 4],
  );
  // An unknown write is applied at most once as well.
  assertViolation(
    history(
      { op: put("a"), at: [0, 1] },
      { op: put("b"), at: [2, 3], outcome: "unknown" },
      { op: get(), at: [4, 5], result: "b" },
      { op: put("c"), at: [6, 7] },
      { op: get(), at: [8, 9], result: "b" },
    ),
    "k",
    [1, 2, 3, 4],
  );
});

test("real-time order: a read cannot see a write invoked after it completed", () => {
  // The write cannot precede the read, so the witness leaves it out and the hint names it.
  const v = assertViolation(history({ op: get(), at: [0, 1], result: "a" }, { op: put("a"), at: [2, 3] }), "k", [0]);
  assert.match(v.explanation, /ignoring operations invoked after time 1/);
  assert.match(v.explanation, /#0 read "a", written only by #1 client 1 put\("a"\) ok \[2, 3\]/);
});

test("the first failing key is reported, with the other keys untouched", () => {
  const v = assertViolation(
    history(
      { key: "good", op: put("1"), at: [0, 1] },
      { key: "bad", op: put("1"), at: [0, 1] },
      { key: "bad", op: get(), at: [2, 3], result: "2" },
      { key: "worse", op: get(), at: [2, 3], result: "3" },
    ),
    "bad",
    [2],
  );
  assert.equal(v.witness[0]?.key, "bad");
});

test("malformed histories are programmer errors", () => {
  assert.throws(() => checkHistory(history({ op: get(), at: [0, 1] })), /an ok get needs result/);
  assert.throws(() => checkHistory(history({ op: cas("a", "b"), at: [0, 1] })), /an ok cas needs a boolean/);
  assert.throws(() => checkHistory(history({ op: put("a"), at: [2, 1] })), /is before invokedAt/);
  assert.throws(() => checkHistory(history({ op: put("a"), at: [0, Infinity] })), /finite completedAt/);
});
