import assert from "node:assert/strict";
import { test } from "node:test";
import { utf8 } from "../../util/bytes.js";
import { logIndex, nodeId } from "../../util/ids.js";
import { Prng } from "../../util/prng.js";
import type { Accept, Message, Prepare } from "./messages.js";
import { MultiPaxosNode, type Ready } from "./node.js";
import type { Ballot, DurableState } from "./types.js";

const b = (counter: number, node: number): Ballot => ({ counter, node: nodeId(node) });
const me = nodeId(1);
const members = [me, nodeId(2), nodeId(3)];
const fresh = (durable?: DurableState): MultiPaxosNode =>
  new MultiPaxosNode({ id: me, members, random: new Prng(1), checkInvariants: true }, durable);

const prepare = (ballot: Ballot, fromSlot = 1): Prepare => ({
  type: "prepare",
  from: ballot.node,
  to: me,
  ballot,
  fromSlot: logIndex(fromSlot),
});
const accept = (ballot: Ballot, slot: number, text: string): Accept => ({
  type: "accept",
  from: ballot.node,
  to: me,
  ballot,
  round: 0,
  entries: slot === 0 ? [] : [{ slot: logIndex(slot), value: { kind: "command", data: utf8(text) } }],
  commit: { from: logIndex(1), runs: [] },
});

/** Everything the node sends after this input, with the Ready it came in. */
function drain(node: MultiPaxosNode): { ready: Ready; sent: Message[] } {
  const ready = node.ready();
  node.advance(ready);
  return { ready, sent: [...ready.messages, ...ready.messagesAfterPersist] };
}

test("after promising ballot b an acceptor answers no Prepare numbered ≤ b and says what it promised", () => {
  const node = fresh();
  assert.ok(node.step(prepare(b(3, 2))).ok);
  const first = drain(node);
  assert.deepEqual(first.ready.hardState, { promised: b(3, 2) });
  assert.deepEqual(
    first.ready.messagesAfterPersist.map((m) => m.type),
    ["promise"],
    "the Promise waits for the promise to be durable",
  );
  for (const ballot of [b(3, 2), b(2, 3), b(1, 2)]) {
    assert.equal(node.step(prepare(ballot)).ok, false);
    assert.deepEqual(drain(node).sent, [{ type: "nack", from: me, to: ballot.node, ballot, promised: b(3, 2) }]);
  }
  assert.deepEqual(node.acceptorView().promised, b(3, 2));
});

test("it accepts no Accept numbered below its promise, and any at or above it", () => {
  const node = fresh();
  node.step(prepare(b(3, 2)));
  drain(node);
  assert.equal(node.step(accept(b(2, 3), 1, "low")).ok, false);
  assert.deepEqual(
    drain(node).sent.map((m) => m.type),
    ["nack"],
  );
  assert.equal(node.acceptorView().accepted.size, 0);
  node.step(accept(b(3, 2), 1, "equal"));
  const equal = drain(node);
  assert.deepEqual(
    equal.ready.accepted.map((r) => [r.slot, r.ballot]),
    [[1, b(3, 2)]],
  );
  assert.ok(equal.ready.mustSync, "records need the durability barrier");
  assert.deepEqual(
    equal.ready.messagesAfterPersist.map((m) => m.type),
    ["accepted"],
    "an acceptance waits for its record to be durable",
  );
  node.step(accept(b(4, 3), 2, "higher"));
  assert.deepEqual(drain(node).ready.hardState, { promised: b(4, 3) }, "accepting in a ballot promises it");
  node.step(accept(b(4, 3), 0, ""));
  const heartbeat = drain(node).ready;
  assert.deepEqual(
    heartbeat.messages.map((m) => m.type),
    ["accepted"],
    "a heartbeat's echo promises nothing durable and leaves at once",
  );
  assert.equal(heartbeat.mustSync, false);
});

test("its Promise carries, for every slot from the one asked, the highest-ballot value it accepted", () => {
  const node = fresh();
  node.step(accept(b(1, 2), 1, "X"));
  node.step(accept(b(1, 2), 4, "old"));
  node.step(accept(b(2, 3), 4, "Y"));
  drain(node);
  // Stop following member 3, or member 2's Prepare would be refused for an election timeout.
  for (let i = 0; i < 10; i++) node.tick();
  drain(node);
  node.step(prepare(b(5, 2), 2));
  const promise = drain(node).sent.find((m) => m.type === "promise");
  assert.ok(promise?.type === "promise");
  assert.deepEqual(
    promise.accepted.map((r) => [r.slot, r.ballot]),
    [[4, b(2, 3)]],
    "slot 1 is before the slot asked; slot 4 reports its higher ballot",
  );
});

test("while it hears a leader it answers no other proposer's Prepare, so the leader's lease holds", () => {
  const node = fresh();
  node.step(accept(b(1, 2), 0, ""));
  drain(node);
  assert.deepEqual(node.step(prepare(b(9, 3))), { ok: false, reason: "leaderAlive" });
  assert.deepEqual(drain(node).sent, []);
  assert.ok(node.step(prepare(b(2, 2))).ok, "its own leader may run phase 1 again");
  drain(node);
  for (let i = 0; i < 10; i++) node.tick();
  drain(node);
  assert.ok(node.step(prepare(b(9, 3))).ok, "after an election timeout of silence it answers");
});

test("a restart recovers the promise and records; a record written without its promise raises it", () => {
  const record = { slot: logIndex(2), ballot: b(7, 3), value: { kind: "command" as const, data: utf8("v") } };
  const node = fresh({ hardState: { promised: b(5, 2) }, accepted: [record] });
  assert.deepEqual(node.acceptorView().promised, b(7, 3));
  assert.deepEqual([...node.acceptorView().accepted.values()], [record]);
  assert.equal(node.status().role, "follower");
  const under = fresh({
    hardState: { promised: b(7, 3) },
    accepted: [record],
    snapshot: { index: logIndex(2), data: new Uint8Array(0) },
  });
  assert.equal(under.acceptorView().accepted.size, 0, "records a snapshot covers are moot");
  assert.equal(under.status().appliedIndex, 2);
});

test("a message from outside the membership, addressed elsewhere, or naming another's ballot is dropped and counted", () => {
  const node = fresh();
  assert.equal(node.step({ ...prepare(b(1, 2)), from: nodeId(9) }).ok, false);
  assert.equal(node.step({ ...prepare(b(1, 2)), to: nodeId(2) }).ok, false);
  assert.deepEqual(node.step({ ...prepare(b(1, 2)), ballot: b(1, 3) }), { ok: false, reason: "malformed" });
  assert.equal(node.status().stats.messagesDropped, 3);
  assert.equal(node.hasReady(), false);
});

test("a candidate refused by a higher promise campaigns next above it", () => {
  const node = fresh();
  node.campaign();
  drain(node);
  assert.deepEqual(node.status().ballot, b(1, 1));
  node.step({ type: "nack", from: nodeId(2), to: me, ballot: b(1, 1), promised: b(9, 3) });
  assert.equal(node.status().role, "follower", "it backs off");
  node.campaign();
  assert.deepEqual(node.status().ballot, b(10, 1));
});
