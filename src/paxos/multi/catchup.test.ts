import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeId } from "../../util/ids.js";
import { Cluster } from "./pump.test.helper.js";

const commands = (n: number, prefix = "c"): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

test("a lagging acceptor learns the chosen values it missed from the leader's log", () => {
  const c = new Cluster({ size: 3, seed: 17 });
  c.elect(1);
  c.partition([1, 2], [3]);
  for (const text of commands(20)) c.propose(1, text);
  c.deliverAll();
  assert.deepEqual(c.appliedTexts(3), []);
  c.heal();
  const mark = c.sent.length;
  c.run(3);
  assert.deepEqual(c.appliedTexts(3), commands(20));
  assert.ok(c.countSent("learn", mark) > 0, "values went in Learn messages");
  assert.equal(c.countSent("snapshot", mark), 0);
  // It takes part in choosing again.
  c.propose(1, "next");
  c.run(2);
  assert.deepEqual(c.appliedTexts(3), [...commands(20), "next"]);
  assert.deepEqual(c.violations, []);
});

test("a member that misses only a little learns from the commit notice, its own records naming the values", () => {
  const c = new Cluster({ size: 3, seed: 19 });
  c.elect(1);
  // Member 3 accepts everything but hears of no choice until later.
  c.drop = (m) => m.type === "accept" && m.to === 3 && m.entries.length === 0;
  for (const text of commands(4)) c.propose(1, text);
  c.deliverAll();
  c.drop = () => false;
  const mark = c.sent.length;
  c.run(2);
  assert.deepEqual(c.appliedTexts(3), commands(4));
  assert.equal(c.countSent("learn", mark), 0, "no value travelled twice");
});

test("a member behind the leader's compaction gets the snapshot, then follows the log", () => {
  const c = new Cluster({ size: 3, seed: 23 });
  c.elect(1);
  c.partition([1, 2], [3]);
  for (const text of commands(30)) c.propose(1, text);
  c.deliverAll();
  const snapshot = c.takeSnapshot(1);
  assert.equal(snapshot?.index, 30);
  c.takeSnapshot(2);
  assert.equal(c.node(1).status().snapshotIndex, 30);
  c.heal();
  const mark = c.sent.length;
  c.run(3);
  assert.equal(c.countSent("snapshot", mark), 1);
  assert.equal(c.node(3).status().snapshotIndex, 30);
  assert.deepEqual(c.appliedTexts(3), commands(30));
  c.propose(1, "after");
  c.run(2);
  assert.deepEqual(c.appliedTexts(3), [...commands(30), "after"]);
  // A restart recovers from the installed snapshot and learns only what came after it.
  c.crash(nodeId(3));
  c.restart(nodeId(3), 1);
  assert.equal(c.node(3).status().appliedIndex, 30);
  c.run(3);
  assert.deepEqual(c.appliedTexts(3), [...commands(30), "after"]);
  assert.deepEqual(c.violations, []);
});

test("a snapshot keeps entries for members slightly behind, who catch up from the log", () => {
  const c = new Cluster({ size: 3, seed: 29 });
  c.elect(1);
  for (const text of commands(10)) c.propose(1, text);
  c.deliverAll();
  c.partition([1, 2], [3]);
  for (const text of commands(5, "late")) c.propose(1, text);
  c.deliverAll();
  c.takeSnapshot(1, 10);
  c.heal();
  const mark = c.sent.length;
  c.run(3);
  assert.equal(c.countSent("snapshot", mark), 0);
  assert.deepEqual(c.appliedTexts(3), [...commands(10), ...commands(5, "late")]);
});

test("a new leader that lacks chosen values its voters compacted fetches them before it serves reads", () => {
  const c = new Cluster({ size: 3, seed: 31 });
  c.elect(1);
  c.partition([1, 2], [3]);
  for (const text of commands(12)) c.propose(1, text);
  c.deliverAll();
  c.takeSnapshot(1);
  c.takeSnapshot(2);
  c.crash(nodeId(1));
  c.heal();
  // Member 3 knows nothing chosen; it wins phase 1 (member 2's Prepares are lost) with member 2,
  // whose promise says slots 1–12 are chosen but carries none of them: they are in its snapshot.
  c.drop = (m) => m.type === "prepare" && m.from === 2;
  const mark = c.sent.length;
  c.runUntil(() => c.leader() !== undefined);
  assert.equal(c.leader()!.id, 3);
  const asked = c.sent.slice(mark).filter((m) => m.type === "learnRequest");
  assert.deepEqual(
    asked.map((m) => [m.from, m.to]),
    [[3, 2]],
  );
  assert.equal(c.countSent("snapshot", mark), 1);
  c.propose(3, "fresh");
  c.run(3);
  for (const id of [2, 3]) assert.deepEqual(c.appliedTexts(id), [...commands(12), "fresh"], `member ${id}`);
  assert.deepEqual(c.violations, []);
});

test("after a leader change a member learns values chosen in an older ballot from its own records", () => {
  const c = new Cluster({ size: 3, seed: 37 });
  c.elect(1);
  // Member 3 accepts slots 1–3 but hears of no choice; member 2 hears of all of them.
  c.drop = (m) => m.type === "accept" && m.to === 3 && m.entries.length === 0;
  for (const text of commands(3)) c.propose(1, text);
  c.deliverAll();
  c.run(1);
  assert.equal(c.node(2).status().chosenThrough, 3);
  assert.equal(c.node(3).status().chosenThrough, 0);
  c.drop = (m) => m.type === "prepare" && m.from === 3;
  c.crash(nodeId(1));
  const mark = c.sent.length;
  c.runUntil(() => c.leader() !== undefined);
  c.run(2);
  assert.deepEqual(c.appliedTexts(3), commands(3));
  assert.equal(c.countSent("learn", mark), 0, "the notice named the old ballot, which member 3 holds");
});
