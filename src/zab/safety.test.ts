import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeId } from "../util/ids.js";
import {
  checkAcknowledgedDurable,
  checkCommittedDurable,
  checkDelivery,
  checkLeaderCompleteness,
  checkOneLeaderPerEpoch,
  createDeliveryLedger,
  type MemberView,
} from "./safety.js";
import { epoch, zxid, type DurableState, type HistoryEntry, type Phase, type Role } from "./types.js";

/* Each check against hand-made histories that break it, and the nearest ones that do not. */

const entry = (index: number, e: number, counter: number, data = index): HistoryEntry => ({
  index,
  zxid: zxid(e, counter),
  data: Uint8Array.of(data),
});

/** Delivers a sequence as one member; returns the first problem. */
function deliverAll(ledger = createDeliveryLedger(), entries: HistoryEntry[], currentEpoch = 9): string | undefined {
  let previous: HistoryEntry | undefined;
  for (const e of entries) {
    const problem = checkDelivery(ledger, { entry: e, previous, currentEpoch });
    if (problem !== undefined) return problem;
    previous = e;
  }
  return undefined;
}

test("primary order: a member delivers each leader's transactions in order with none skipped, epochs ascending", () => {
  assert.equal(deliverAll(undefined, [entry(1, 1, 1), entry(2, 1, 2), entry(3, 3, 1), entry(4, 3, 2)]), undefined);
  assert.match(
    deliverAll(undefined, [entry(1, 1, 1), entry(2, 1, 3)]) ?? "",
    /primary order: 1\.3 delivered after 1\.1/,
  );
  assert.match(deliverAll(undefined, [entry(1, 2, 1), entry(2, 1, 5)]) ?? "", /primary order/);
  assert.match(
    deliverAll(undefined, [entry(1, 1, 1), entry(2, 2, 2)]) ?? "",
    /primary order/,
    "a new epoch starts at 1",
  );
  assert.match(deliverAll(undefined, [entry(1, 1, 1), entry(3, 1, 2)]) ?? "", /index 3 delivered after 1/);
});

test("agreement: every member delivers the same transaction at an index", () => {
  const ledger = createDeliveryLedger();
  assert.equal(deliverAll(ledger, [entry(1, 1, 1), entry(2, 1, 2)]), undefined);
  assert.equal(deliverAll(ledger, [entry(1, 1, 1)]), undefined, "a shorter prefix agrees");
  assert.match(deliverAll(ledger, [entry(1, 1, 1), entry(2, 2, 1)]) ?? "", /agreement: index 2 delivered as 2\.1/);
  assert.match(deliverAll(ledger, [entry(1, 1, 1, 7)]) ?? "", /agreement/, "same zxid, other data");
});

function leaderView(
  id: number,
  e: number,
  history: HistoryEntry[],
  phase: Phase = "broadcast",
  role: Role = "leading",
): MemberView {
  return {
    id: nodeId(id),
    softState: () => ({ role, phase, epoch: e }),
    historyEntry: (index) => history[index - 1],
  };
}

test("leader completeness: an established leader holds what earlier epochs' leaders committed", () => {
  const ledger = createDeliveryLedger();
  deliverAll(ledger, [entry(1, 1, 1), entry(2, 1, 2)], 1);
  assert.equal(
    checkLeaderCompleteness(ledger, leaderView(2, 2, [entry(1, 1, 1), entry(2, 1, 2), entry(3, 2, 1)])),
    undefined,
  );
  assert.match(checkLeaderCompleteness(ledger, leaderView(2, 2, [entry(1, 1, 1)])) ?? "", /holds nothing at 2/);
  assert.match(
    checkLeaderCompleteness(ledger, leaderView(2, 2, [entry(1, 1, 1), entry(2, 1, 3)])) ?? "",
    /holds 1\.3 at 2/,
  );
  assert.equal(checkLeaderCompleteness(ledger, leaderView(2, 2, [], "discovery")), undefined, "not established yet");
  assert.equal(checkLeaderCompleteness(ledger, leaderView(2, 1, [])), undefined, "committed by its own epoch or later");
});

test("leader completeness goes by the committing epoch, not the zxid's: a deposed leader need not hold a later epoch's commits", () => {
  const ledger = createDeliveryLedger();
  // (1, 1) committed by the leader of epoch 3, as part of its initial history.
  deliverAll(ledger, [entry(1, 1, 1)], 3);
  assert.equal(checkLeaderCompleteness(ledger, leaderView(1, 2, [])), undefined);
  assert.match(checkLeaderCompleteness(ledger, leaderView(1, 4, [])) ?? "", /committed in epoch 3 or before/);
});

test("one leader per epoch", () => {
  const ledger = createDeliveryLedger();
  assert.equal(checkOneLeaderPerEpoch(ledger, leaderView(1, 5, [])), undefined);
  assert.equal(checkOneLeaderPerEpoch(ledger, leaderView(1, 5, [])), undefined);
  assert.equal(checkOneLeaderPerEpoch(ledger, leaderView(2, 5, [], "discovery")), undefined, "not established");
  assert.match(
    checkOneLeaderPerEpoch(ledger, leaderView(2, 5, [], "synchronization")) ?? "",
    /1 and 2 both established epoch 5/,
  );
});

const disk = (accepted: number, current: number, ...zxids: [number, number][]): DurableState => ({
  acceptedEpoch: epoch(accepted),
  currentEpoch: epoch(current),
  history: zxids.map(([e, c]) => ({ zxid: zxid(e, c), data: Uint8Array.of() })),
});

test("commit durability: a delivered transaction is on a quorum of disks at its index", () => {
  const disks = [disk(1, 1, [1, 1]), disk(1, 1, [1, 1]), disk(1, 1)];
  assert.equal(checkCommittedDurable(entry(1, 1, 1), disks, 2), undefined);
  assert.match(checkCommittedDurable(entry(1, 1, 1), disks, 3) ?? "", /on 2 disks, a quorum is 3/);
  assert.match(checkCommittedDurable(entry(1, 1, 2), disks, 2) ?? "", /on 0 disks/);
});

test("an acknowledgement promises only what is durable", () => {
  const from = nodeId(1);
  const to = nodeId(2);
  const stored = disk(2, 2, [1, 1], [2, 1]);
  const ack = { type: "ack", from, to, epoch: epoch(2), zxid: zxid(2, 1) } as const;
  assert.equal(checkAcknowledgedDurable(stored, ack), undefined);
  assert.match(
    checkAcknowledgedDurable(stored, { ...ack, zxid: zxid(2, 2) }) ?? "",
    /ack of 2\.2 left before it was durable/,
  );
  assert.match(checkAcknowledgedDurable(disk(2, 1, [1, 1], [2, 1]), ack) ?? "", /currentEpoch/);
  const ackEpoch = {
    type: "ackEpoch",
    from,
    to,
    epoch: epoch(3),
    promised: true,
    currentEpoch: epoch(2),
    lastZxid: zxid(2, 1),
    extents: [],
  } as const;
  assert.match(checkAcknowledgedDurable(stored, ackEpoch) ?? "", /acceptedEpoch/);
  assert.equal(checkAcknowledgedDurable(disk(3, 2, [1, 1], [2, 1]), ackEpoch), undefined);
  const pong = {
    type: "pong",
    from,
    to,
    epoch: epoch(2),
    round: 0,
    lastZxid: zxid(2, 5),
    durableZxid: zxid(2, 5),
  } as const;
  assert.match(checkAcknowledgedDurable(stored, pong) ?? "", /pong claims 2\.5/);
});
