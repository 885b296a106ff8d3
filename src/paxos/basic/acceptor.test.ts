import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "../../util/assert.js";
import { utf8 } from "../../util/bytes.js";
import { nodeId } from "../../util/ids.js";
import { emptyRecord, learnChosen, receiveAccept, receivePrepare, type InstanceRecord } from "./acceptor.js";
import { compareBallots, formatBallot, ZERO_BALLOT, type Ballot } from "./ballot.js";
import type { Accept, Prepare } from "./messages.js";

const me = nodeId(1);
const ballot = (round: number, proposer: number): Ballot => ({ round, proposer: nodeId(proposer) });
const where = { register: "r", instance: 1 } as const;
const prepare = (b: Ballot): Prepare => ({ type: "prepare", from: b.proposer, to: me, ...where, ballot: b });
const accept = (b: Ballot, value: string): Accept => ({
  type: "accept",
  from: b.proposer,
  to: me,
  ...where,
  ballot: b,
  value: utf8(value),
});

test("ballots order by round, then by proposer, all above the zero ballot", () => {
  assert.ok(compareBallots(ballot(1, 2), ballot(2, 1)) < 0);
  assert.ok(compareBallots(ballot(2, 1), ballot(2, 3)) < 0);
  assert.equal(compareBallots(ballot(2, 3), ballot(2, 3)), 0);
  assert.ok(compareBallots(ZERO_BALLOT, ballot(1, 1)) < 0);
});

test("ballots print as the articles write them and order 3.1 < 4.1 < 4.5", () => {
  assert.deepEqual([ballot(3, 1), ballot(4, 5), ballot(4, 1)].map(formatBallot), ["3.1", "4.5", "4.1"]);
  const sorted = [ballot(4, 5), ballot(3, 1), ballot(4, 1)].sort(compareBallots).map(formatBallot);
  assert.deepEqual(sorted, ["3.1", "4.1", "4.5"]);
});

test("a promise reports the last accepted value and refuses every lower ballot afterwards", () => {
  let record = emptyRecord("r", 1);
  const first = receivePrepare(record, prepare(ballot(1, 2)));
  assert.deepEqual(first.reply, {
    type: "promise",
    from: me,
    to: 2,
    ...where,
    ballot: ballot(1, 2),
    accepted: undefined,
  });
  record = receiveAccept(first.record, accept(ballot(1, 2), "a")).record;
  const second = receivePrepare(record, prepare(ballot(3, 3)));
  assert.equal(second.reply?.type, "promise");
  assert.deepEqual(second.reply?.type === "promise" && second.reply.accepted, {
    ballot: ballot(1, 2),
    value: utf8("a"),
  });
  record = second.record;
  const late = receivePrepare(record, prepare(ballot(2, 2)));
  assert.deepEqual(late.reply, {
    type: "nack",
    from: me,
    to: 2,
    ...where,
    ballot: ballot(2, 2),
    promised: ballot(3, 3),
  });
  assert.equal(late.record, record, "a refused ballot changes nothing");
  const lateAccept = receiveAccept(record, accept(ballot(2, 2), "b"));
  assert.equal(lateAccept.reply?.type, "nack");
  assert.equal(lateAccept.record, record);
  assert.deepEqual(record.accepted?.value, utf8("a"), "the refused Accept did not replace the accepted value");
});

test("a Prepare numbered like the promise (a duplicate) is not answered again, nor after an Accept in that ballot", () => {
  const once = receivePrepare(emptyRecord("r", 1), prepare(ballot(4, 2)));
  assert.equal(once.reply?.type, "promise");
  const twice = receivePrepare(once.record, prepare(ballot(4, 2)));
  assert.equal(twice.reply, undefined, "no Prepare numbered at or below the promise is answered");
  assert.equal(twice.record, once.record);
  const accepted = receiveAccept(once.record, accept(ballot(4, 2), "a")).record;
  assert.equal(receivePrepare(accepted, prepare(ballot(4, 2))).reply, undefined);
});

test("an Accept at or above the promise is taken and raises the promise to its ballot", () => {
  const promised = receivePrepare(emptyRecord("r", 1), prepare(ballot(2, 2))).record;
  const same = receiveAccept(promised, accept(ballot(2, 2), "a"));
  assert.deepEqual(same.reply, { type: "accepted", from: me, to: 2, ...where, ballot: ballot(2, 2) });
  const higher = receiveAccept(same.record, accept(ballot(5, 3), "c")).record;
  assert.deepEqual(higher.promised, ballot(5, 3));
  assert.deepEqual(higher.accepted, { ballot: ballot(5, 3), value: utf8("c") });
  assert.equal(receivePrepare(higher, prepare(ballot(4, 9))).reply?.type, "nack", "the Accept also promised");
});

test("a member that knows the decision answers any round with it", () => {
  const decided: InstanceRecord = learnChosen(emptyRecord("r", 1), utf8("won"));
  for (const step of [
    receivePrepare(decided, prepare(ballot(9, 2))),
    receiveAccept(decided, accept(ballot(9, 2), "x")),
  ]) {
    assert.deepEqual(step.reply, { type: "chosen", from: me, to: 2, ...where, value: utf8("won") });
    assert.equal(step.record, decided);
  }
});

test("learning a second, different decision is a broken invariant", () => {
  const decided = learnChosen(emptyRecord("r", 1), utf8("a"));
  assert.equal(learnChosen(decided, utf8("a")), decided);
  assert.throws(() => learnChosen(decided, utf8("b")), AssertionError);
});
