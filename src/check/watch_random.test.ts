import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import { CommittedHistory, checkResumedSegments, checkWatch, historyFromObservations } from "./index.js";
import type { RecordedWatch, WatchEvent, WatchMessage } from "./index.js";
import { CORRUPTIONS, correctStream, corrupt, randomRange, randomRevisions } from "./watch_streams.test.helper.js";
import type { Corruption } from "./watch_streams.test.helper.js";

const SEEDS = 300;

function completeHistory(revisions: readonly (readonly WatchEvent[])[]): CommittedHistory {
  const history = new CommittedHistory({ complete: true });
  revisions.forEach((events, i) => assert.equal(history.record(i + 1, events), undefined));
  return history;
}

/** A history of 1 to 40 revisions, and a correct stream with a random range from a random start. */
function scenario(seed: number): { prng: Prng; revisions: WatchEvent[][]; history: CommittedHistory } {
  const prng = new Prng(seed);
  const revisions = randomRevisions(prng, prng.int(1, 41));
  return { prng, revisions, history: completeHistory(revisions) };
}

function randomStream(prng: Prng, revisions: readonly (readonly WatchEvent[])[], name: string): RecordedWatch {
  return correctStream(prng, revisions, randomRange(prng), prng.int(1, revisions.length + 2), name);
}

test("random correct streams pass, against the recorded history and against one built from observations", () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const { prng, revisions, history } = scenario(seed);
    const streams = Array.from({ length: 6 }, (_, i) => randomStream(prng, revisions, `w${i}`));
    const observers = Array.from({ length: 3 }, (_, i) =>
      correctStream(prng, revisions, prng.chance(0.5) ? { prefix: "" } : { from: "" }, prng.int(1, 6), `o${i}`),
    );
    const observed = historyFromObservations([...observers, ...streams]);
    assert.deepEqual(observed.violations, [], `seed ${seed}`);
    for (const w of [...streams, ...observers]) {
      assert.deepEqual(checkWatch(history, w), [], `seed ${seed} ${JSON.stringify(w)}`);
      assert.deepEqual(checkWatch(observed.history, w), [], `seed ${seed} ${JSON.stringify(w)}`);
    }
  }
});

test("one random corruption of each kind is detected, naming its guarantee and no other", (t) => {
  const detected = new Map<Corruption, number>();
  for (let seed = 1; seed <= SEEDS; seed++) {
    const { prng, revisions, history } = scenario(seed);
    for (const kind of Object.keys(CORRUPTIONS) as Corruption[]) {
      // A few tries: some streams have nothing to corrupt this way (no txn to split, no key outside the range).
      for (let attempt = 0; attempt < 10; attempt++) {
        const broken = corrupt(kind, prng, randomStream(prng, revisions, kind), revisions);
        if (broken === undefined) continue;
        const named = new Set(checkWatch(history, broken).map((v) => v.guarantee));
        assert.deepEqual([...named], [CORRUPTIONS[kind]], `seed ${seed} ${kind}: ${JSON.stringify(broken)}`);
        detected.set(kind, (detected.get(kind) ?? 0) + 1);
        break;
      }
    }
  }
  t.diagnostic(`detected per kind: ${JSON.stringify(Object.fromEntries(detected))}`);
  // Every kind was tried on most seeds, so that no kind passes by never being tried.
  for (const kind of Object.keys(CORRUPTIONS) as Corruption[]) {
    assert.ok((detected.get(kind) ?? 0) > SEEDS / 2, `${kind}: ${detected.get(kind)} of ${SEEDS} seeds`);
  }
});

test("random reconnects chain when each resumes by one past what was vouched for, and not later", () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const { prng, revisions } = scenario(seed);
    const { startRevision, messages } = randomStream(prng, revisions, "w");
    const cut = prng.int(0, messages.length + 1);
    const before = messages.slice(0, cut);
    const vouched = Math.max(startRevision - 1, ...before.map(vouchedBy));
    const first = { startRevision, messages: before };
    const resumedAt = (start: number) => [first, { startRevision: start, messages: messages.slice(cut) }];
    const fine = resumedAt(prng.int(1, vouched + 2));
    assert.deepEqual(checkResumedSegments("w", fine), [], `seed ${seed}: ${JSON.stringify(fine)}`);
    const late = checkResumedSegments("w", resumedAt(vouched + prng.int(2, 5)));
    assert.deepEqual(
      late.map((v) => v.guarantee),
      ["resumable"],
      `seed ${seed}`,
    );
  }
});

function vouchedBy(m: WatchMessage): number {
  if (m.kind === "progress") return m.revision;
  return m.kind === "events" ? Math.max(0, ...m.events.map((e) => e.revision)) : 0;
}

test("whole-keyspace observers that disagree on one event are divergent", () => {
  let tried = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const { prng, revisions } = scenario(seed);
    const honest = correctStream(prng, revisions, { prefix: "" }, prng.int(1, 4), "honest");
    const wrong = corrupt("value", prng, { ...honest, name: "wrong" }, revisions);
    if (wrong === undefined) continue;
    tried++;
    const { violations } = historyFromObservations([honest, wrong]);
    assert.deepEqual(
      violations.map((v) => [v.guarantee, v.watch]),
      [["divergent", "wrong"]],
      `seed ${seed}`,
    );
    assert.match(
      violations[0]!.detail,
      /^divergent history at revision \d+: wrong saw (put|delete) .*!"\)?, honest saw /,
    );
  }
  assert.ok(tried > SEEDS / 2, `${tried} seeds`);
});

test("a 60,000-revision history and its streams are checked in one pass each", (t) => {
  const prng = new Prng(60);
  const revisions = randomRevisions(prng, 60_000);
  const history = completeHistory(revisions);
  const streams = [{ prefix: "" }, { prefix: "x/" }, { key: "a" }].map((range, i) =>
    correctStream(prng, revisions, range, 1, `w${i}`),
  );
  const started = performance.now();
  for (const w of streams) assert.deepEqual(checkWatch(history, w), []);
  const ms = performance.now() - started;
  const events = streams.reduce((n, w) => n + w.messages.length, 0);
  t.diagnostic(`${events} messages checked against ${revisions.length} revisions in ${ms.toFixed(0)} ms`);
  const broken = corrupt("gap", prng, streams[0]!, revisions)!;
  assert.deepEqual(
    checkWatch(history, broken).map((v) => v.guarantee),
    ["reliable"],
  );
});
