import assert from "node:assert/strict";
import { test } from "node:test";
import { utf8 } from "../../util/bytes.js";
import { nodeId } from "../../util/ids.js";
import { Cluster } from "./pump.test.helper.js";

test("steady state: one phase 1, then only phase 2 per command, applied everywhere in slot order", () => {
  const c = new Cluster({ size: 3 });
  c.elect(1);
  assert.equal(c.countSent("prepare"), 2);
  assert.equal(c.countSent("promise"), 2);
  const before = c.sent.length;
  for (let i = 1; i <= 10; i++) {
    c.propose(1, `cmd${i}`);
    c.deliverAll();
  }
  assert.equal(c.countSent("prepare", before) + c.countSent("promise", before), 0, "no phase 1 after the first");
  const since = c.sent.slice(before);
  // Per command: one Accept carrying it to each follower and one acceptance back from each.
  assert.equal(since.filter((m) => m.type === "accept" && m.entries.length > 0).length, 20);
  assert.equal(since.filter((m) => m.type === "accepted" && m.slots.length > 0).length, 20);
  c.run(2);
  const expected = Array.from({ length: 10 }, (_, i) => `cmd${i + 1}`);
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedTexts(id), expected, `member ${id}`);
  assert.equal(c.countSent("prepare"), 2, "heartbeats never run phase 1 again");
  assert.deepEqual(c.violations, []);
});

test("proposals made before a Ready go out together, one Accept per follower", () => {
  const c = new Cluster({ size: 3 });
  c.elect(1);
  const before = c.sent.length;
  const node = c.node(1);
  for (let i = 0; i < 5; i++) assert.ok(node.propose(utf8(`batch${i}`)).ok);
  c.process(node.id);
  const accepts = c.sent.slice(before).filter((m) => m.type === "accept");
  assert.equal(accepts.length, 2);
  assert.ok(accepts.every((m) => m.type === "accept" && m.entries.length === 5));
  c.deliverAll();
  assert.deepEqual(c.appliedTexts(1), ["batch0", "batch1", "batch2", "batch3", "batch4"]);
});

test("a single member chooses alone, once its own promise and acceptance are durable", () => {
  const c = new Cluster({ size: 1 });
  const node = c.node(1);
  node.campaign();
  const campaign = node.ready();
  assert.ok(campaign.mustSync && campaign.hardState !== undefined);
  assert.equal(node.status().role, "candidate", "its own promise counts only once durable");
  node.advance(campaign);
  assert.equal(node.status().role, "leader");
  c.process(node.id);
  assert.ok(node.propose(utf8("solo")).ok);
  const proposal = node.ready();
  assert.deepEqual(
    proposal.accepted.map((r) => r.slot),
    [1],
  );
  assert.equal(node.status().chosenThrough, 0, "its own acceptance counts only once durable");
  node.advance(proposal);
  assert.equal(node.status().chosenThrough, 1);
  assert.deepEqual(
    node.ready().committedEntries.map((e) => e.index),
    [1],
  );
  assert.ok(c.input(1, (n) => n.readIndex(utf8("r"))).ok);
  assert.equal(c.member(1).readStates.at(-1)?.index, 1);
});

test("followers refuse proposals with the leader they know; a member that knows none says so", () => {
  const c = new Cluster({ size: 3 });
  const early = c.node(2).propose(utf8("x"));
  assert.deepEqual(early, { ok: false, error: "noLeader", leader: 0 });
  c.elect(1);
  assert.deepEqual(c.node(2).propose(utf8("x")), { ok: false, error: "notLeader", leader: 1 });
  assert.equal(c.node(2).status().leader, 1);
});

test("the leader refuses proposals beyond its in-flight window until slots are chosen", () => {
  const c = new Cluster({ size: 3, options: { inflightSlotsMax: 2 } });
  c.elect(1);
  c.drop = () => true;
  c.propose(1, "a");
  c.propose(1, "b");
  assert.deepEqual(c.node(1).propose(utf8("c")), { ok: false, error: "tooManyInflight", leader: 1 });
  c.drop = () => false;
  c.run(4);
  assert.ok(c.node(1).propose(utf8("c")).ok);
});

test("takeMessages hands out what may leave early while a Ready is still being persisted", () => {
  const c = new Cluster({ size: 3 });
  c.elect(1);
  const node = c.node(1);
  node.propose(utf8("early"));
  const pending = node.ready();
  node.propose(utf8("while persisting"));
  const early = node.takeMessages();
  assert.deepEqual(
    early.map((m) => (m.type === "accept" ? m.entries.map((e) => e.slot) : m.type)),
    [[2], [2]],
  );
  assert.equal(node.status().chosenThrough, 0, "nothing counts before the advance");
  node.advance(pending);
  assert.deepEqual(
    node.takeMessages().map((m) => m.type),
    [],
  );
});

test("a follower forwards a proposal to its leader, which proposes it; a member that no longer leads drops it", () => {
  const c = new Cluster({ size: 3 });
  c.elect(1);
  c.run(2);
  assert.deepEqual(
    c.input(2, (node) => node.forward(utf8("via 2"))),
    { ok: true },
  );
  c.deliverAll();
  c.run(2);
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedTexts(id), ["via 2"], `member ${id}`);
  assert.deepEqual(
    c.input(1, (node) => node.forward(utf8("self"))),
    { ok: false, error: "leading" },
    "a leader proposes its own",
  );

  // A stale view: member 2 takes member 3 for the leader. 3 drops it rather than pass it on.
  const dropped = c.node(3).status().stats.messagesDropped;
  const step = c.input(3, (node) =>
    node.step({ type: "propose", from: nodeId(2), to: nodeId(3), data: utf8("stale") }),
  );
  assert.deepEqual(step, { ok: false, reason: "stale" });
  assert.equal(c.node(3).status().stats.messagesDropped, dropped + 1);
  c.run(2);
  for (const id of [1, 2, 3]) assert.deepEqual(c.appliedTexts(id), ["via 2"], `member ${id}: nothing more`);
  assert.deepEqual(c.violations, []);
});
