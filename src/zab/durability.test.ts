import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeId } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import type { ZabMessage } from "./messages.js";
import { epoch, formatZxid, zxid, ZXID_ZERO, type DurableState } from "./types.js";
import { ZabNode, type ZabReady } from "./zab_node.js";

/*
 * One follower driven by hand: every promise it makes (ACKEPOCH, Ack) must leave in
 * messagesAfterPersist of the Ready that persists what it promises, never in `messages`.
 */

const [me, other, leader] = [nodeId(1), nodeId(2), nodeId(3)];
const recovered: DurableState = {
  acceptedEpoch: epoch(1),
  currentEpoch: epoch(1),
  history: [{ zxid: zxid(1, 1), data: Uint8Array.of(1) }],
};

function follower(): ZabNode {
  const node = new ZabNode(
    { id: me, members: [me, other, leader], random: new Prng(1), checkInvariants: true },
    recovered,
  );
  drain(node);
  const vote = { leader, epoch: epoch(1), zxid: zxid(1, 2) };
  for (const from of [leader, other])
    node.step({ type: "notification", from, to: me, round: 1, state: "looking", vote });
  node.tick();
  const info = drain(node).messages.find((m) => m.type === "followerInfo");
  assert.deepEqual(info, { type: "followerInfo", from: me, to: leader, acceptedEpoch: 1 });
  return node;
}

/** Takes and advances every Ready, merged into one view of what was asked. */
function drain(node: ZabNode): { readies: ZabReady[]; messages: ZabMessage[]; afterPersist: ZabMessage[] } {
  const readies: ZabReady[] = [];
  while (node.hasReady()) {
    const ready = node.ready();
    readies.push(ready);
    node.advance(ready);
  }
  return {
    readies,
    messages: readies.flatMap((r) => [...r.messages]),
    afterPersist: readies.flatMap((r) => [...r.messagesAfterPersist]),
  };
}

test("ACKEPOCH leaves only after the acceptedEpoch it promises is written", () => {
  const node = follower();
  node.step({ type: "newEpoch", from: leader, to: me, epoch: epoch(2) });
  const ready = node.ready();
  assert.deepEqual(ready.epochs, { acceptedEpoch: 2, currentEpoch: 1 });
  assert.equal(ready.mustSync, true);
  assert.equal(ready.messages.length, 0);
  assert.deepEqual(ready.messagesAfterPersist, [
    {
      type: "ackEpoch",
      from: me,
      to: leader,
      epoch: 2,
      promised: true,
      currentEpoch: 1,
      lastZxid: zxid(1, 1),
      extents: [{ epoch: 1, lastCounter: 1 }],
    },
  ]);
});

test("the NEWLEADER ack leaves after the synced history and currentEpoch; a proposal's ack after the proposal", () => {
  const node = follower();
  node.step({ type: "newEpoch", from: leader, to: me, epoch: epoch(2) });
  drain(node);
  const txn = { zxid: zxid(1, 2), data: Uint8Array.of(2) };
  node.step({ type: "newLeader", from: leader, to: me, epoch: epoch(2), prevZxid: zxid(1, 1), txns: [txn] });
  const synced = node.ready();
  assert.deepEqual(synced.epochs, { acceptedEpoch: 2, currentEpoch: 2 });
  assert.deepEqual(
    synced.history.entries.map((e) => [e.index, formatZxid(e.zxid)]),
    [[2, "1.2"]],
  );
  assert.deepEqual(synced.messagesAfterPersist, [{ type: "ack", from: me, to: leader, epoch: 2, zxid: zxid(1, 2) }]);
  node.advance(synced);
  const proposal = { zxid: zxid(2, 1), data: Uint8Array.of(3) };
  node.step({ type: "proposal", from: leader, to: me, epoch: epoch(2), prevZxid: zxid(1, 2), txns: [proposal] });
  node.step({ type: "ping", from: leader, to: me, epoch: epoch(2), committedZxid: ZXID_ZERO, round: 0 });
  const proposed = node.ready();
  assert.deepEqual(
    proposed.history.entries.map((e) => formatZxid(e.zxid)),
    ["2.1"],
  );
  assert.deepEqual(proposed.messagesAfterPersist, [{ type: "ack", from: me, to: leader, epoch: 2, zxid: zxid(2, 1) }]);
  const pong = proposed.messages.find((m) => m.type === "pong");
  assert.ok(pong?.type === "pong");
  assert.equal(formatZxid(pong.lastZxid), "2.1", "the pong may say what it holds");
  assert.equal(formatZxid(pong.durableZxid), "1.2", "but vouches only for what is durable");
});

test("an acknowledgement owed to a leader this member stopped following is never sent", () => {
  const node = follower();
  node.step({ type: "newEpoch", from: leader, to: me, epoch: epoch(2) });
  drain(node);
  node.step({ type: "newLeader", from: leader, to: me, epoch: epoch(2), prevZxid: zxid(1, 1), txns: [] });
  const vote = { leader, epoch: epoch(2), zxid: zxid(1, 1) };
  node.step({ type: "notification", from: leader, to: me, round: 2, state: "looking", vote });
  assert.equal(node.status().role, "looking");
  const { afterPersist } = drain(node);
  assert.deepEqual(afterPersist, [], "the Ack for the NEWLEADER of the previous session is gone with it");
});

test("a member that promised a later epoch refuses an older leader's NEWEPOCH and looks again", () => {
  const node = follower();
  node.step({ type: "newEpoch", from: leader, to: me, epoch: epoch(0) });
  assert.equal(node.status().role, "looking");
  assert.equal(node.status().acceptedEpoch, 1);
});

test("a restarted member that had accepted the epoch answers its leader, but not as a new promise", () => {
  const node = new ZabNode(
    { id: me, members: [me, other, leader], random: new Prng(2) },
    { ...recovered, acceptedEpoch: epoch(2) },
  );
  drain(node);
  node.step({
    type: "notification",
    from: leader,
    to: me,
    round: 9,
    state: "leading",
    vote: { leader, epoch: epoch(2), zxid: ZXID_ZERO },
  });
  node.step({ type: "newEpoch", from: leader, to: me, epoch: epoch(2) });
  const { afterPersist } = drain(node);
  assert.equal(afterPersist.length, 1);
  const [ackEpoch] = afterPersist;
  assert.ok(ackEpoch?.type === "ackEpoch" && !ackEpoch.promised);
});
