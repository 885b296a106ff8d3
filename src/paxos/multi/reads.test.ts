import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8, utf8 } from "../../util/bytes.js";
import { logIndex, nodeId } from "../../util/ids.js";
import { leaseTicks } from "./options.js";
import { Cluster } from "./pump.test.helper.js";
import { ReadRounds } from "./reads.js";

const contexts = (c: Cluster, id: number): string[] => c.member(id).readStates.map((r) => fromUtf8(r.context));

test("a safe read waits for a quorum to confirm the leader's ballot, then names the chosen prefix", () => {
  const c = new Cluster({ size: 3 });
  c.elect(1);
  c.propose(1, "a");
  c.propose(1, "b");
  c.deliverAll();
  assert.ok(c.input(1, (n) => n.readIndex(utf8("r1"))).ok);
  assert.deepEqual(contexts(c, 1), [], "not before the confirmation round");
  c.deliverAll();
  assert.deepEqual(contexts(c, 1), ["r1"]);
  assert.equal(c.member(1).readStates[0]!.index, 2);
});

test("a follower's read goes through its leader", () => {
  const c = new Cluster({ size: 3 });
  assert.deepEqual(c.node(2).readIndex(utf8("x")), { ok: false, error: "noLeader" });
  c.elect(1);
  c.propose(1, "a");
  c.deliverAll();
  assert.ok(c.input(2, (n) => n.readIndex(utf8("f1"))).ok);
  c.deliverAll();
  assert.deepEqual(contexts(c, 2), ["f1"]);
  assert.equal(c.member(2).readStates[0]!.index, 1);
});

test("a new leader's read point covers the slots phase 1 found, chosen yet or not", () => {
  const c = new Cluster({ size: 5, seed: 41 });
  c.elect(1);
  // "w" is accepted by members 1 and 2 only: not chosen.
  c.drop = (m) => m.type === "accept" && m.entries.length > 0 && m.to !== 2;
  c.propose(1, "w");
  c.deliverAll();
  c.crash(nodeId(1));
  // Member 2 leads next, but its re-proposal of "w" is not chosen before the read is confirmed.
  c.drop = (m) => (m.type === "prepare" && m.from !== 2) || (m.type === "accept" && m.entries.length > 0);
  c.runUntil(() => c.leader() !== undefined);
  assert.equal(c.node(2).status().chosenThrough, 0);
  c.input(2, (n) => n.readIndex(utf8("after-failover")));
  c.deliverAll();
  assert.deepEqual(contexts(c, 2), ["after-failover"]);
  assert.equal(c.member(2).readStates[0]!.index, 1, "the read waits for slot 1");
});

test("lease reads are served locally while the lease holds and stop when it lapses", () => {
  const c = new Cluster({ size: 3, options: { readMode: "lease" } });
  c.elect(1);
  assert.ok(c.node(1).leaseValid(), "the first round's echoes started the lease");
  const mark = c.sent.length;
  c.input(1, (n) => n.readIndex(utf8("local")));
  assert.deepEqual(contexts(c, 1), ["local"]);
  assert.equal(c.sent.length, mark, "no message for a lease read");
  c.partition([1], [2, 3]);
  const lease = leaseTicks({ electionTicks: 10, clockDriftMax: 0.02 });
  for (let i = 1; i < lease; i++) c.run(1);
  c.input(1, (n) => n.readIndex(utf8("still")));
  assert.deepEqual(contexts(c, 1), ["local", "still"]);
  c.run(1);
  assert.equal(c.node(1).leaseValid(), false);
  c.input(1, (n) => n.readIndex(utf8("lapsed")));
  c.run(1);
  assert.deepEqual(contexts(c, 1), ["local", "still"], "after the lease a read needs a quorum");
});

test("while a leader's lease holds, no other member wins phase 1", () => {
  const c = new Cluster({ size: 5, seed: 43, options: { readMode: "lease" } });
  c.elect(1);
  c.partition([1], [2, 3, 4, 5]);
  let overlaps = 0;
  let otherLeader = false;
  for (let tick = 0; tick < 40; tick++) {
    c.run(1);
    const lease = c.node(1).leaseValid();
    const others = [2, 3, 4, 5].some((id) => c.node(id).status().role === "leader");
    if (lease && others) overlaps++;
    otherLeader ||= others;
  }
  assert.ok(otherLeader, "the majority side elected a leader once the lease was over");
  assert.equal(overlaps, 0);
  assert.notEqual(c.node(1).status().role, "leader", "the cut-off leader stepped down (check-quorum)");
});

test("a member that restarts refuses other proposers for an election timeout: it may have echoed a lease", () => {
  const c = new Cluster({ size: 3, seed: 47, options: { readMode: "lease" } });
  c.elect(1);
  c.crash(nodeId(2));
  c.restart(nodeId(2), 1);
  c.partition([1], [2, 3]);
  c.input(3, (n) => n.campaign());
  c.deliverAll();
  assert.notEqual(c.node(3).status().role, "leader");
});

test("read rounds: only an echo of a round sent counts, once per member, and a quorum of them releases reads", () => {
  const rounds = new ReadRounds();
  const read = { index: logIndex(4), context: utf8("r"), requester: nodeId(1) };
  rounds.add(read);
  const sent = rounds.next(7);
  assert.deepEqual(rounds.echo(nodeId(2), sent + 5, 1), [], "a round never sent confirms nothing");
  assert.deepEqual(rounds.echo(nodeId(2), sent, 2), []);
  assert.deepEqual(rounds.echo(nodeId(2), sent, 2), [], "a duplicate echo");
  assert.deepEqual(rounds.echo(nodeId(3), sent, 2), [{ ...read, round: sent }]);
  assert.equal(rounds.leaseStart(), 7);
  assert.equal(rounds.pendingCount(), 0);
});
