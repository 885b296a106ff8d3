import type { EngineEntry } from "../engine/engine.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Entry } from "../raft/index.js";
import { logIndex, nodeId, term, type LogIndex, type Term } from "../util/ids.js";
import { SafetyChecker, type LogView, type ViolationKind } from "./checkers.js";

const n = nodeId;

function entry(index: number, t: number, ...data: number[]): Entry {
  return { index: logIndex(index), term: term(t), kind: "normal", data: new Uint8Array(data) };
}

/** An entry as the node hands it to the checker once applied. */
function applied(e: Entry): EngineEntry {
  return { index: e.index, kind: e.kind === "config" ? "config" : "command", data: e.data, tag: e.term };
}

/** A log view from a list of terms, index 1 first, with nothing compacted. */
function logView(terms: readonly number[]): LogView {
  return {
    termAt: (index: LogIndex): Term | undefined =>
      index === 0 ? term(0) : terms[index - 1] === undefined ? undefined : term(terms[index - 1]!),
    firstIndex: () => logIndex(1),
  };
}

function kinds(checker: SafetyChecker): ViolationKind[] {
  return checker.violations.map((v) => v.kind);
}

test("checker: two leaders in one term is an electionSafety violation", () => {
  const checker = new SafetyChecker();
  checker.observeRole(n(1), "leader", term(3), logView([1]));
  checker.observeRole(n(1), "leader", term(3), logView([1]));
  assert.deepEqual(kinds(checker), [], "the same leader seen twice is fine");
  checker.observeRole(n(2), "leader", term(3), logView([1]));
  assert.deepEqual(kinds(checker), ["electionSafety"]);
});

test("checker: the same index and term with different data is a logMatching violation", () => {
  const checker = new SafetyChecker();
  checker.observeAppend(n(1), [entry(1, 1, 10), entry(2, 1, 20)], logView([1, 1]));
  checker.observeAppend(n(2), [entry(1, 1, 10), entry(2, 1, 20)], logView([1, 1]));
  assert.deepEqual(kinds(checker), []);
  checker.observeAppend(n(3), [entry(2, 1, 21)], logView([1, 1]));
  assert.deepEqual(kinds(checker), ["logMatching"]);
});

test("checker: the same index and term over a different previous term is a logMatching violation", () => {
  const checker = new SafetyChecker();
  checker.observeAppend(n(1), [entry(3, 2, 30)], logView([1, 1, 2]));
  checker.observeAppend(n(2), [entry(3, 2, 30)], logView([1, 2, 2]));
  assert.deepEqual(kinds(checker), ["logMatching"]);
});

test("checker: a new leader lacking an applied entry is a leaderCompleteness violation", () => {
  const checker = new SafetyChecker();
  checker.observeApply(n(1), applied(entry(1, 1, 10)));
  checker.observeApply(n(1), applied(entry(2, 2, 20)));
  checker.observeRole(n(2), "leader", term(3), logView([1, 2, 3]));
  assert.deepEqual(kinds(checker), [], "a leader holding both applied entries is complete");
  checker.observeRole(n(3), "leader", term(4), logView([1, 1]));
  assert.deepEqual(kinds(checker), ["leaderCompleteness"], "term 1 where term 2 was applied");
  const missing = new SafetyChecker();
  missing.observeApply(n(1), applied(entry(1, 1, 10)));
  missing.observeRole(n(2), "leader", term(2), logView([]));
  assert.deepEqual(kinds(missing), ["leaderCompleteness"], "no entry at all at an applied index");
});

test("checker: a different entry applied at the same index is a stateMachineSafety violation", () => {
  const byTerm = new SafetyChecker();
  byTerm.observeApply(n(1), applied(entry(1, 1, 10)));
  byTerm.observeApply(n(2), applied(entry(1, 2, 10)));
  assert.deepEqual(kinds(byTerm), ["stateMachineSafety"]);
  const byData = new SafetyChecker();
  byData.observeApply(n(1), applied(entry(1, 1, 10)));
  byData.observeApply(n(2), applied(entry(1, 1, 11)));
  assert.deepEqual(kinds(byData), ["stateMachineSafety"]);
});

test("checker: applying out of index order is a stateMachineSafety violation", () => {
  const skip = new SafetyChecker();
  skip.observeApply(n(1), applied(entry(2, 1, 20)));
  assert.deepEqual(kinds(skip), ["stateMachineSafety"], "index 2 before index 1");
  const repeat = new SafetyChecker();
  repeat.observeApply(n(1), applied(entry(1, 1, 10)));
  repeat.observeApply(n(1), applied(entry(1, 1, 10)));
  assert.deepEqual(kinds(repeat), ["stateMachineSafety"], "index 1 twice without a restart");
});

test("checker: voting for two candidates in one term is a doubleVote violation", () => {
  const checker = new SafetyChecker();
  checker.observeVote(n(1), term(5), n(2));
  checker.observeVote(n(1), term(5), n(2));
  checker.observeVote(n(1), term(6), n(3));
  checker.observeVote(n(2), term(5), n(3));
  assert.deepEqual(kinds(checker), [], "a repeated vote, a new term and another voter are fine");
  checker.observeVote(n(1), term(5), n(3));
  assert.deepEqual(kinds(checker), ["doubleVote"]);
});

test("checker: an in-memory commit index moving back without a restart is a commitRegression", () => {
  const checker = new SafetyChecker();
  checker.observeCommit(n(1), logIndex(5), 5, false);
  checker.observeCommit(n(1), logIndex(2), 0, true);
  assert.deepEqual(kinds(checker), [], "a restart may start from a lower commit");
  checker.observeCommit(n(1), logIndex(1), 0, false);
  assert.deepEqual(kinds(checker), ["commitRegression"]);
});

test("checker: a durable commit index moving back, even across a crash, is a commitRegression", () => {
  const checker = new SafetyChecker();
  checker.observeDurableCommit(n(1), logIndex(4));
  checker.observeDurableCommit(n(1), logIndex(4));
  checker.observeDurableCommit(n(2), logIndex(1));
  assert.deepEqual(kinds(checker), []);
  checker.observeDurableCommit(n(1), logIndex(3));
  assert.deepEqual(kinds(checker), ["commitRegression"]);
});

test("checker: applied beyond commit is an appliedBeyondCommit violation", () => {
  const checker = new SafetyChecker();
  checker.observeCommit(n(1), logIndex(3), 3, false);
  assert.deepEqual(kinds(checker), []);
  checker.observeCommit(n(1), logIndex(3), 4, false);
  assert.deepEqual(kinds(checker), ["appliedBeyondCommit"]);
});

test("checker: a legal history of elections, appends, votes, commits, applies and restarts reports nothing", () => {
  const checker = new SafetyChecker();
  const e1 = entry(1, 1);
  const e2 = entry(2, 1, 7);
  const e3 = entry(3, 2);
  // Term 1: node 1 leads with votes from 2 and 3, replicates e1, e2 and everyone applies them.
  checker.observeVote(n(2), term(1), n(1));
  checker.observeVote(n(3), term(1), n(1));
  checker.observeRole(n(1), "leader", term(1), logView([]));
  for (const id of [1, 2, 3]) {
    checker.observeRole(n(id), id === 1 ? "leader" : "follower", term(1), logView([1, 1]));
    checker.observeAppend(n(id), [e1, e2], logView([1, 1]));
    checker.observeCommit(n(id), logIndex(2), 0, false);
    checker.observeDurableCommit(n(id), logIndex(2));
    checker.observeApply(n(id), applied(e1));
    checker.observeApply(n(id), applied(e2));
    checker.observeCommit(n(id), logIndex(2), 2, false);
  }
  // Node 1 crashes and restarts, replaying from index 1; node 2 leads term 2 with a complete log.
  checker.observeStateMachineReset(n(1), 0);
  checker.observeCommit(n(1), logIndex(0), 0, true);
  checker.observeVote(n(3), term(2), n(2));
  checker.observeRole(n(2), "leader", term(2), logView([1, 1]));
  checker.observeAppend(n(2), [e3], logView([1, 1, 2]));
  checker.observeAppend(n(1), [e3], logView([1, 1, 2]));
  checker.observeCommit(n(1), logIndex(3), 0, false);
  for (const e of [e1, e2, e3]) checker.observeApply(n(1), applied(e));
  checker.observeCommit(n(1), logIndex(3), 3, false);
  checker.observeDurableCommit(n(1), logIndex(3));
  assert.deepEqual(checker.violations, []);
  assert.equal(checker.appliedIndex(), 3);
  assert.deepEqual(checker.appliedEntry(2), applied(e2));
});

test("checker: two different states snapshotted at the same index is a stateMachineSafety violation", () => {
  const checker = new SafetyChecker();
  checker.observeSnapshot(n(1), 5, new Uint8Array([1, 2]));
  checker.observeSnapshot(n(2), 5, new Uint8Array([1, 2]));
  checker.observeSnapshot(n(2), 6, new Uint8Array([9]));
  assert.deepEqual(kinds(checker), []);
  checker.observeSnapshot(n(3), 5, new Uint8Array([1, 3]));
  assert.deepEqual(kinds(checker), ["stateMachineSafety"]);
});

test("checker: a state machine restarted from a snapshot continues after the snapshot's index", () => {
  const checker = new SafetyChecker();
  for (const e of [entry(1, 1), entry(2, 1), entry(3, 1)]) checker.observeApply(n(1), applied(e));
  checker.observeStateMachineReset(n(1), 2);
  checker.observeApply(n(1), applied(entry(3, 1)));
  assert.deepEqual(kinds(checker), []);
  checker.observeStateMachineReset(n(2), 2);
  checker.observeApply(n(2), applied(entry(2, 1)));
  assert.deepEqual(kinds(checker), ["stateMachineSafety"], "index 2 is inside the snapshot");
});
