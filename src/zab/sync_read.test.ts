import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8, utf8 } from "../util/bytes.js";
import type { NodeId } from "../util/ids.js";
import type { ZabMessage } from "./messages.js";
import { Pump } from "./pump.test.helper.js";

/*
 * ZooKeeper serves a plain read from the member the client is connected to, out of whatever that
 * member has applied: fast, and not linearizable. `sync` first makes the member catch up with the
 * leader's commit point as of the sync, confirmed by a quorum. These tests pin both halves.
 */

const values = (pump: Pump, id: NodeId): string[] => pump.delivered.get(id)!.map((e) => fromUtf8(e.data));

function establishedThree(seed: number): { pump: Pump; leader: NodeId; follower: NodeId } {
  const pump = new Pump({ size: 3, seed });
  pump.runUntil(() => pump.leader() !== undefined);
  const leader = pump.leader()!;
  return { pump, leader, follower: pump.members.find((id) => id !== leader)! };
}

test("a read after sync on a lagging follower sees every write acknowledged before the sync began", () => {
  const { pump, leader, follower } = establishedThree(21);
  // The follower holds the write but never hears that it committed.
  pump.dropIf = (m) => m.to === follower && (m.type === "commit" || m.type === "ping");
  const index = pump.propose(utf8("w"));
  pump.runUntil(() => values(pump, leader).includes("w"));
  assert.deepEqual(values(pump, follower), [], "acknowledged on the leader, yet a plain read here misses it");
  assert.equal(pump.node(follower).sync(utf8("read-1")).ok, true);
  pump.process(follower);
  pump.deliverAll();
  const [read] = pump.reads.get(follower)!;
  assert.ok(read !== undefined && fromUtf8(read.context) === "read-1");
  assert.ok(read.index >= index, `the read waits for index ${index}, got ${read.index}`);
  assert.equal(pump.delivered.get(follower)!.length < read.index, true, "not yet applied: the read must wait");
  pump.dropIf = undefined;
  pump.runUntil(() => pump.delivered.get(follower)!.length >= read.index);
  assert.deepEqual(values(pump, follower).slice(0, read.index), ["w"]);
});

test("a sync on the leader is confirmed by a quorum and names the commit point", () => {
  const { pump, leader } = establishedThree(22);
  pump.propose(utf8("a"));
  pump.runUntil(() => pump.allDelivered(1));
  assert.equal(pump.node(leader).sync(utf8("r")).ok, true);
  pump.process(leader);
  assert.equal(pump.reads.get(leader)!.length, 0, "not before followers answer a ping sent after the sync");
  pump.deliverAll();
  assert.deepEqual(
    pump.reads.get(leader)!.map((r) => [fromUtf8(r.context), r.index]),
    [["r", 1]],
  );
});

test("a plain read on a partitioned old follower is stale; its sync gets no answer, then is refused", () => {
  const { pump, leader, follower } = establishedThree(23);
  pump.propose(utf8("v1"));
  pump.runUntil(() => pump.allDelivered(1));
  const majority = pump.members.filter((id) => id !== follower);
  pump.partition([follower], majority);
  pump.propose(utf8("v2"));
  pump.runUntil(() => values(pump, leader).includes("v2"));
  assert.deepEqual(values(pump, follower), ["v1"], "the old follower still serves v1 after v2 was acknowledged");
  assert.equal(pump.node(follower).sync(utf8("s")).ok, true, "it still believes it follows");
  pump.run(30);
  assert.deepEqual(pump.reads.get(follower), [], "no read point without the leader");
  assert.deepEqual(pump.node(follower).sync(utf8("s")), { ok: false, error: "noLeader" });
});

test("a deposed leader cut off with a minority cannot confirm a sync while the majority moves on", () => {
  const pump = new Pump({ size: 5, seed: 24 });
  pump.runUntil(() => pump.leader() !== undefined);
  const old = pump.leader()!;
  const minority = [old, pump.members.find((id) => id !== old)!];
  const majority = pump.members.filter((id) => !minority.includes(id));
  pump.partition(minority, majority);
  assert.equal(pump.node(old).sync(utf8("stale?")).ok, true);
  pump.runUntil(() => pump.leader() !== undefined && majority.includes(pump.leader()!));
  pump.propose(utf8("new"));
  pump.runUntil(() => majority.every((id) => values(pump, id).includes("new")));
  assert.deepEqual(pump.reads.get(old), [], "the read was never confirmed");
  assert.notEqual(pump.node(old).status().role, "leading", "and the old leader stepped down");
});

test("a sync a follower sends after taking NEWLEADER, before its Ack reaches the leader, is answered", () => {
  // The Ack of NEWLEADER waits for the follower's disk and its sync does not, so a read arriving
  // just after NEWLEADER overtakes the Ack by which the leader counts the follower synchronized.
  const pump = new Pump({ size: 3, seed: 25 });
  const held: ZabMessage[] = [];
  let late: NodeId | undefined;
  pump.dropIf = (m) => {
    // The first follower to take NEWLEADER acknowledges late; the other gives the leader its quorum.
    if (m.type === "newLeader") late ??= m.to;
    if (m.type !== "ack" || m.from !== late) return false;
    held.push(m);
    return true;
  };
  pump.runUntil(
    () => late !== undefined && pump.leader() !== undefined && pump.node(late).softState().phase === "broadcast",
  );
  const follower = late!;
  assert.equal(pump.node(follower).sync(utf8("early")).ok, true);
  pump.process(follower);
  pump.deliverAll();
  pump.dropIf = undefined;
  pump.inFlight.push(...held);
  pump.runUntil(() => pump.reads.get(follower)!.length > 0, 50);
  const [read] = pump.reads.get(follower)!;
  assert.equal(fromUtf8(read!.context), "early");
});

test("a sync that reaches the leader before the leader is in broadcast is answered once it is", () => {
  // A follower is in broadcast as soon as it takes NEWLEADER; its leader only once a quorum's Acks
  // of NEWLEADER are in, so a follower's first sync can find its leader still synchronizing.
  const pump = new Pump({ size: 3, seed: 26 });
  const held: ZabMessage[] = [];
  let first: NodeId | undefined;
  pump.dropIf = (m) => {
    if (m.type === "newLeader") first ??= m.to;
    if (m.type !== "ack") return false;
    held.push(m);
    return true;
  };
  pump.runUntil(() => first !== undefined && pump.node(first).softState().phase === "broadcast");
  const leader = pump.node(first!).softState().leader;
  assert.equal(pump.node(leader).softState().phase, "synchronization", "the leader waits for a quorum's Acks");
  assert.equal(pump.node(first!).sync(utf8("first read")).ok, true);
  pump.process(first!);
  pump.deliverAll();
  pump.dropIf = undefined;
  pump.inFlight.push(...held);
  pump.runUntil(() => pump.reads.get(first!)!.length > 0, 50);
  assert.equal(fromUtf8(pump.reads.get(first!)![0]!.context), "first read");
});
