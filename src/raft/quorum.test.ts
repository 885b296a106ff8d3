import assert from "node:assert/strict";
import { test } from "node:test";
import { logIndex, nodeId, type LogIndex, type NodeId } from "../util/ids.js";
import { hasQuorum, jointCommitted, jointVote, majorityCommitted, majorityVote, type JointVoters } from "./quorum.js";

const ids = (...xs: number[]): Set<NodeId> => new Set(xs.map(nodeId));

/** matchOf from a table id → match index (absent ids have match 0). */
function matches(table: Record<number, number>): (id: NodeId) => LogIndex {
  return (id) => logIndex(table[id] ?? 0);
}

function votes(table: Record<number, boolean>): Map<NodeId, boolean> {
  return new Map(Object.entries(table).map(([id, v]) => [nodeId(Number(id)), v]));
}

test("majorityCommitted is the highest index a majority has reached, for odd and even sizes", () => {
  assert.equal(majorityCommitted(ids(1), matches({ 1: 7 })), 7);
  assert.equal(majorityCommitted(ids(1, 2), matches({ 1: 7, 2: 3 })), 3, "2 voters need both");
  assert.equal(majorityCommitted(ids(1, 2, 3), matches({ 1: 7, 2: 3, 3: 5 })), 5);
  assert.equal(majorityCommitted(ids(1, 2, 3, 4), matches({ 1: 9, 2: 7, 3: 5, 4: 1 })), 5, "4 voters need 3");
  assert.equal(
    majorityCommitted(ids(1, 2, 3, 4, 5), matches({ 1: 9, 2: 8, 3: 2, 4: 1 })),
    2,
    "5 voters need 3; 5 has 0",
  );
  assert.equal(majorityCommitted(ids(1, 2, 3, 4, 5, 6), matches({ 1: 9, 2: 8, 3: 7, 4: 6 })), 6, "6 voters need 4");
  assert.equal(majorityCommitted(ids(), matches({})), Number.MAX_SAFE_INTEGER, "an empty set agrees to anything");
});

test("jointCommitted is the lower of the two halves' majorities", () => {
  const m = matches({ 1: 10, 2: 10, 3: 10, 4: 2, 5: 2, 6: 2 });
  const joint: JointVoters = [ids(1, 2, 3), ids(4, 5, 6)];
  assert.equal(jointCommitted(joint, m), 2);
  assert.equal(jointCommitted([ids(1, 2, 3)], m), 10, "a single configuration");
  assert.equal(jointCommitted([ids(1, 2, 4), ids(1, 2, 3)], m), 10, "overlapping halves both at 10");
  assert.equal(jointCommitted([ids(1, 2, 3), ids()], m), 10, "an empty outgoing half does not hold commit back");
});

test("majorityVote wins with a majority, loses once a majority is impossible, else pends", () => {
  const three = ids(1, 2, 3);
  assert.equal(majorityVote(three, votes({ 1: true })), "pending");
  assert.equal(majorityVote(three, votes({ 1: true, 2: true })), "won");
  assert.equal(majorityVote(three, votes({ 1: true, 2: false })), "pending");
  assert.equal(majorityVote(three, votes({ 1: true, 2: false, 3: false })), "lost");
  assert.equal(majorityVote(three, votes({ 1: true, 7: true, 8: true })), "pending", "non-voters do not count");
  const four = ids(1, 2, 3, 4);
  assert.equal(majorityVote(four, votes({ 1: true, 2: true })), "pending", "2 of 4 is not a majority");
  assert.equal(majorityVote(four, votes({ 1: true, 2: true, 3: false })), "pending");
  assert.equal(majorityVote(four, votes({ 1: true, 2: true, 3: false, 4: false })), "lost", "a 2–2 tie loses");
  assert.equal(majorityVote(four, votes({ 1: true, 2: true, 3: true })), "won");
  assert.equal(majorityVote(four, votes({ 3: false, 4: false })), "lost");
  assert.equal(majorityVote(ids(), votes({})), "won");
});

test("jointVote needs both halves to win and loses if either loses", () => {
  const joint: JointVoters = [ids(1, 2, 3), ids(3, 4, 5)];
  assert.equal(jointVote(joint, votes({ 1: true, 2: true })), "pending", "incoming won, outgoing pending");
  assert.equal(jointVote(joint, votes({ 1: true, 2: true, 3: true, 4: true })), "won");
  assert.equal(jointVote(joint, votes({ 1: true, 2: true, 4: false, 5: false })), "lost", "outgoing lost");
  assert.equal(jointVote(joint, votes({ 1: false, 2: false, 4: true, 5: true })), "lost", "incoming lost");
  assert.equal(jointVote([ids(1, 2, 3)], votes({ 1: true, 3: true })), "won");
});

test("hasQuorum counts only voters, in both halves of a joint configuration", () => {
  assert.equal(hasQuorum([ids(1, 2, 3)], ids(1, 2)), true);
  assert.equal(hasQuorum([ids(1, 2, 3)], ids(1, 9)), false);
  assert.equal(hasQuorum([ids(1, 2, 3, 4)], ids(1, 2)), false, "half of an even set is not a quorum");
  assert.equal(hasQuorum([ids(1, 2, 3), ids(3, 4, 5)], ids(1, 2, 3)), false);
  assert.equal(hasQuorum([ids(1, 2, 3), ids(3, 4, 5)], ids(1, 3, 4)), true);
});
