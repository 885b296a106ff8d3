import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8, utf8 } from "../util/bytes.js";
import { nodeId } from "../util/ids.js";
import { Pump } from "./pump.test.helper.js";
import { zxid } from "./types.js";

test("a follower's forwarded transaction is proposed by the leader, committed and delivered everywhere", () => {
  const pump = new Pump({ size: 3, seed: 31 });
  pump.runUntil(() => pump.members.every((id) => pump.node(id).softState().phase === "broadcast"));
  const leader = pump.leader()!;
  const follower = pump.members.find((id) => id !== leader)!;
  pump.propose(utf8("from the leader"));
  assert.deepEqual(pump.node(follower).forward(utf8("via a follower")), { ok: true });
  pump.process(follower);
  pump.runUntil(() => pump.allDelivered(2));
  const epoch = pump.node(leader).status().epoch;
  for (const id of pump.members) {
    const delivered = pump.delivered.get(id)!;
    assert.deepEqual(
      delivered.map((e) => fromUtf8(e.data)),
      ["from the leader", "via a follower"],
      `member ${id}`,
    );
    assert.deepEqual(delivered[1]!.zxid, zxid(epoch, 2), "the leader's next zxid, as its own proposal");
  }
  assert.deepEqual(pump.node(leader).forward(utf8("x")), { ok: false, error: "leading" }, "a leader proposes its own");
});

test("a member that does not lead drops a forwarded transaction and counts it; a bad envelope never throws", () => {
  const pump = new Pump({ size: 3, seed: 32 });
  pump.runUntil(() => pump.members.every((id) => pump.node(id).softState().phase === "broadcast"));
  const leader = pump.leader()!;
  const [a, b] = pump.members.filter((id) => id !== leader) as [typeof leader, typeof leader];
  const node = pump.node(b);
  // A stale view: `a` takes `b` for the leader. `b` drops it rather than pass it on.
  const dropped = node.status().stats.messagesDropped;
  assert.deepEqual(node.step({ type: "forward", from: a, to: b, data: utf8("stale") }), {
    ok: false,
    reason: "ignored",
  });
  assert.deepEqual(node.step({ type: "forward", from: nodeId(9), to: b, data: utf8("stranger") }), {
    ok: false,
    reason: "malformed",
  });
  assert.deepEqual(node.step({ type: "forward", from: a, to: leader, data: utf8("misaddressed") }), {
    ok: false,
    reason: "malformed",
  });
  assert.equal(node.status().stats.messagesDropped, dropped + 3);
  pump.process(b);
  pump.run(5);
  for (const id of pump.members) assert.deepEqual(pump.delivered.get(id), [], `member ${id} delivered nothing`);

  // A member still looking for a leader has nowhere to send one.
  pump.crash(a);
  pump.restart(a);
  assert.equal(pump.node(a).softState().role, "looking");
  assert.deepEqual(pump.node(a).forward(utf8("nowhere")), { ok: false, error: "noLeader" });
});
