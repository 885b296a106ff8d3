import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8 } from "../../util/bytes.js";
import { logIndex, nodeId } from "../../util/ids.js";
import type { Message } from "./messages.js";
import { Cluster } from "./pump.test.helper.js";
import { compareBallots, formatBallot } from "./types.js";

/** True for an Accept that carries `slot`. */
const carries = (m: Message, slot: number): boolean => m.type === "accept" && m.entries.some((e) => e.slot === slot);

test("a new leader proposes again a value accepted by a minority, so it is chosen after all", () => {
  const c = new Cluster({ size: 5, seed: 3 });
  c.elect(1);
  const oldBallot = c.node(1).status().ballot;
  // X reaches member 2 only: accepted by {1, 2}, two of five, so not chosen.
  c.drop = (m) => m.type === "accept" && m.entries.length > 0 && m.to !== 2;
  const slot = c.propose(1, "X");
  c.deliverAll();
  assert.equal(c.registry.chosenAt(slot), undefined);
  c.drop = () => false;
  c.crash(nodeId(1));
  // Member 5 is cut off, so every quorum of the rest includes member 2, which holds X.
  c.partition([2, 3, 4], [5]);
  const mark = c.sent.length;
  c.runUntil(() => c.leader() !== undefined);
  const leader = c.leader()!;
  const reproposal = c.sent.slice(mark).find((m) => m.from === leader.id && carries(m, slot));
  assert.ok(reproposal !== undefined && reproposal.type === "accept");
  assert.ok(compareBallots(reproposal.ballot, oldBallot) > 0, `re-proposed in ${formatBallot(reproposal.ballot)}`);
  assert.equal(fromUtf8(reproposal.entries.find((e) => e.slot === slot)!.value.data), "X");
  c.run(3);
  for (const id of [2, 3, 4]) assert.deepEqual(c.appliedTexts(id), ["X"], `member ${id}`);
  c.heal();
  c.restart(nodeId(1), 1);
  c.runUntil(() => [1, 5].every((id) => c.appliedTexts(id).length === 1));
  assert.deepEqual(c.appliedTexts(1), ["X"]);
  assert.deepEqual(c.appliedTexts(5), ["X"]);
  assert.deepEqual(c.violations, []);
});

test("a new leader fills the holes it finds with no-ops; a later slot's value survives", () => {
  const c = new Cluster({ size: 3, seed: 5 });
  c.elect(1);
  // Slots 1 and 2 reach no one; slot 3 reaches member 2, which with the leader chooses it.
  c.drop = (m) => (m.type === "accept" && (carries(m, 1) || carries(m, 2))) || (carries(m, 3) && m.to === 3);
  c.propose(1, "A");
  c.propose(1, "B");
  c.propose(1, "C");
  c.deliverAll();
  assert.ok(c.registry.chosenAt(logIndex(3)) !== undefined, "slot 3 chosen before slots 1 and 2");
  assert.deepEqual(c.appliedTexts(1), [], "nothing applies past a hole");
  c.drop = () => false;
  c.crash(nodeId(1));
  c.runUntil(() => c.leader() !== undefined);
  c.run(3);
  for (const id of [2, 3]) assert.deepEqual(c.appliedTexts(id), ["·", "·", "C"], `member ${id}`);
  // The old leader held A and B at slots 1 and 2; it learns the no-ops chosen there instead.
  c.restart(nodeId(1), 1);
  c.runUntil(() => c.appliedTexts(1).length === 3);
  assert.deepEqual(c.appliedTexts(1), ["·", "·", "C"]);
  assert.deepEqual(c.violations, []);
});

test("slots chosen out of order are applied in slot order", () => {
  const c = new Cluster({ size: 3, seed: 7 });
  c.elect(1);
  let dropFirst = true;
  c.drop = (m) => dropFirst && carries(m, 1);
  c.propose(1, "first");
  c.deliverAll();
  c.propose(1, "second");
  c.deliverAll();
  assert.ok(c.registry.chosenAt(logIndex(2)) !== undefined);
  assert.equal(c.registry.chosenAt(logIndex(1)), undefined);
  assert.equal(c.node(1).status().chosenThrough, 0);
  assert.deepEqual(c.appliedTexts(1), []);
  dropFirst = false;
  // The unanswered Accept for slot 1 goes again after acceptRetryTicks.
  c.run(4);
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedTexts(id), ["first", "second"], `member ${id}`);
  assert.deepEqual(c.violations, []);
});

test("a leader that restarts runs phase 1 in a higher ballot and keeps every chosen value", () => {
  const c = new Cluster({ size: 3, seed: 11 });
  c.elect(1);
  for (let i = 0; i < 5; i++) c.propose(1, `v${i}`);
  c.deliverAll();
  const before = c.node(1).status().promised;
  c.crash(nodeId(1));
  c.restart(nodeId(1), 1);
  assert.deepEqual(c.node(1).status().promised, before, "the promise survives the restart");
  assert.equal(c.node(1).status().role, "follower");
  c.runUntil(() => c.leader() !== undefined);
  const leader = c.leader()!;
  assert.ok(compareBallots(leader.node.status().ballot, before) > 0);
  c.propose(leader.id, "after");
  c.run(3);
  const expected = ["v0", "v1", "v2", "v3", "v4", "after"];
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedTexts(id), expected, `member ${id}`);
  assert.deepEqual(c.violations, []);
});

test("duelling candidates settle on one leader through randomized backoff", () => {
  const c = new Cluster({ size: 5, seed: 13 });
  // Both run phase 1 before either hears of the other; deliveries interleave.
  c.input(1, (n) => n.campaign());
  c.input(2, (n) => n.campaign());
  for (let round = 0; round < 3; round++) {
    c.input(1, (n) => n.campaign());
    c.input(2, (n) => n.campaign());
    while (c.inflight.length > 0) c.deliverAt(c.inflight.length - 1);
  }
  c.runUntil(() => c.leader() !== undefined, 200);
  c.run(30);
  const leaders = [...c.members.values()].filter((m) => m.node.status().role === "leader");
  assert.equal(leaders.length, 1);
  c.propose(leaders[0]!.id, "settled");
  c.run(2);
  for (const id of c.ids) assert.deepEqual(c.appliedTexts(id), ["settled"]);
  assert.deepEqual(c.violations, []);
});

test("a new leader settles chosen slots from the acceptors' records, not from what a learner remembers", () => {
  // Promises carry one chosen value each, so the new leader is told of slots 2–5 chosen without them.
  const c = new Cluster({ size: 3, seed: 53, options: { learnEntriesMax: 1 } });
  c.elect(1);
  c.drop = (m) => m.type === "accept" && m.to === 3;
  for (const text of ["a", "b", "c", "d", "e"]) c.propose(1, text);
  c.deliverAll();
  c.run(1);
  assert.equal(c.node(2).status().chosenThrough, 5);
  c.crash(nodeId(1));
  // Member 2 answers no catch-up request, and then restarts, forgetting what it had learnt.
  c.drop = (m) => (m.type === "prepare" && m.from === 2) || (m.type === "learn" && m.from === 2);
  c.runUntil(() => c.leader() !== undefined);
  c.crash(nodeId(2));
  c.restart(nodeId(2), 1);
  c.run(5);
  for (const id of [2, 3]) assert.deepEqual(c.appliedTexts(id), ["a", "b", "c", "d", "e"], `member ${id}`);
  assert.deepEqual(c.violations, []);
});

test("a leader that cannot fetch the slots a promiser's snapshot holds runs phase 1 again without it", () => {
  const c = new Cluster({ size: 5, seed: 59 });
  c.elect(1);
  // Members 1, 2 and 3 choose ten commands; 1 and 2 compact them into snapshots.
  c.partition([1, 2, 3], [4, 5]);
  const texts = Array.from({ length: 10 }, (_, i) => `v${i}`);
  for (const text of texts) c.propose(1, text);
  c.deliverAll();
  c.run(1);
  c.takeSnapshot(1);
  c.takeSnapshot(2);
  c.crash(nodeId(1));
  // Member 3 restarts: it keeps its records but forgets what it had learnt chosen.
  c.crash(nodeId(3));
  c.restart(nodeId(3), 1);
  c.heal();
  // Member 4 wins with member 2's promise (snapshot through 10), but 2 goes down before serving it.
  c.drop = (m) =>
    (m.type === "prepare" && m.from !== 4) ||
    (m.type === "promise" && m.from === 3) ||
    ((m.type === "snapshot" || m.type === "learn") && m.from === 2);
  c.runUntil(() => c.leader() !== undefined);
  assert.equal(c.leader()!.id, 4);
  c.crash(nodeId(2));
  c.drop = (m) => m.type === "prepare" && m.from !== 4;
  const campaigns = c.node(4).status().stats.campaigns;
  c.runUntil(() => c.appliedTexts(4).length === 10, 100);
  assert.equal(c.node(4).status().stats.campaigns, campaigns + 1, "one more phase 1, with members 3 and 5");
  assert.deepEqual(c.appliedTexts(4), texts);
  assert.deepEqual(c.violations, []);
});
