import assert from "node:assert/strict";
import { test } from "node:test";
import { utf8 } from "../../util/bytes.js";
import { nodeId } from "../../util/ids.js";
import { emptyRecord, type InstanceRecord } from "./acceptor.js";
import type { Ballot } from "./ballot.js";
import type { DurableState } from "./node.js";
import { checkAcceptorStep, ChosenLedger, type BasicPaxosViolationKind } from "./safety.js";

const b = (round: number, proposer: number): Ballot => ({ round, proposer: nodeId(proposer) });
const [S1, S2, S3] = [nodeId(1), nodeId(2), nodeId(3)];

function rec(instance: number, promised: Ballot, accepted?: [Ballot, string], chosen?: string): InstanceRecord {
  return {
    ...emptyRecord("r", instance),
    promised,
    accepted: accepted && { ballot: accepted[0], value: utf8(accepted[1]) },
    chosen: chosen === undefined ? undefined : utf8(chosen),
  };
}
const state = (round: number, ...records: InstanceRecord[]): DurableState => ({ round, records });
const kinds = (violations: readonly { kind: BasicPaxosViolationKind }[]): BasicPaxosViolationKind[] =>
  violations.map((v) => v.kind);

test("safety: an acceptor that keeps its promises passes from one durable state to the next", () => {
  const before = state(3, rec(1, b(3, 1), [b(3, 1), "X"]));
  const after = state(4, rec(1, b(4, 5), [b(4, 5), "X"]), rec(2, b(4, 1)));
  assert.deepEqual(checkAcceptorStep(S3, before, after), []);
  assert.deepEqual(checkAcceptorStep(S3, after, after), [], "nothing changed");
});

test("safety: a broken promise, a lowered promise or round, and a forgotten acceptance or decision are caught", () => {
  const before = state(4, rec(1, b(4, 5), [b(3, 1), "X"], "X"), rec(2, b(4, 5)));
  const cases: [DurableState, BasicPaxosViolationKind[]][] = [
    [state(4, rec(1, b(4, 5), [b(4, 1), "Y"], "X"), rec(2, b(4, 5))), ["promiseBroken"]], // 4.1 < promised 4.5
    [state(4, rec(1, b(4, 5), [b(3, 1), "X"], "X"), rec(2, b(3, 1))), ["promiseLowered"]],
    [state(4, rec(1, b(4, 5), [b(3, 1), "X"], "X")), ["promiseLowered"]], // instance 2's record vanished
    [state(3, ...before.records), ["roundLowered"]],
    [state(4, rec(1, b(4, 5), undefined, "X"), rec(2, b(4, 5))), ["acceptanceLost"]],
    [state(4, rec(1, b(4, 5), [b(3, 1), "Z"], "X"), rec(2, b(4, 5))), ["twoValuesOneBallot"]],
    [state(4, rec(1, b(4, 5), [b(3, 1), "X"]), rec(2, b(4, 5))), ["learntUnchosen"]],
    [state(4, rec(1, b(4, 5), [b(3, 1), "X"], "X"), rec(2, b(4, 5), [b(2, 2), "Y"])), ["promiseBroken"]],
  ];
  for (const [after, expected] of cases) assert.deepEqual(kinds(checkAcceptorStep(S1, before, after)), expected);
});

test("safety: the ledger finds each instance's chosen value and the latest version", () => {
  const ledger = new ChosenLedger(3);
  assert.deepEqual(ledger.observe(S1, [rec(1, b(3, 1), [b(3, 1), "X"])]), []);
  assert.equal(ledger.chosen("r", 1), undefined, "one acceptance of three");
  assert.deepEqual(ledger.observe(S2, [rec(1, b(3, 1), [b(3, 1), "X"])]), []);
  assert.deepEqual(ledger.chosen("r", 1), utf8("X"), "a majority accepted 3.1");
  assert.deepEqual(ledger.observe(S3, [rec(1, b(4, 3), [b(4, 3), "X"], "X")]), [], "the same value again: fine");
  assert.deepEqual(ledger.observe(S1, [rec(2, b(5, 1), [b(5, 1), "Y"]), rec(1, b(3, 1), [b(3, 1), "X"], "X")]), []);
  assert.deepEqual(ledger.observe(S2, [rec(2, b(5, 1), [b(5, 1), "Y"])]), []);
  assert.equal(ledger.latest("r"), 2);
  assert.equal(ledger.latest("other"), 0);
});

test("safety: two values chosen in one instance, two values in one ballot, learning the unchosen and version holes are caught", () => {
  const ledger = new ChosenLedger(3);
  ledger.observe(S1, [rec(1, b(3, 1), [b(3, 1), "X"])]);
  ledger.observe(S2, [rec(1, b(3, 1), [b(3, 1), "X"])]);
  ledger.observe(S2, [rec(1, b(4, 5), [b(4, 5), "Y"])]);
  assert.deepEqual(kinds(ledger.observe(S3, [rec(1, b(4, 5), [b(4, 5), "Y"])])), ["twoValuesChosen"]);
  assert.deepEqual(kinds(ledger.observe(S3, [rec(1, b(3, 1), [b(3, 1), "Z"])])), ["twoValuesOneBallot"]);
  assert.deepEqual(kinds(ledger.observe(S1, [rec(3, b(1, 1), undefined, "W")])), ["learntUnchosen"]);
  assert.deepEqual(kinds(ledger.observe(S1, [rec(1, b(3, 1), [b(3, 1), "X"], "Y")])), ["learntUnchosen"]);
  ledger.observe(S1, [rec(3, b(6, 1), [b(6, 1), "V"])]);
  assert.deepEqual(kinds(ledger.observe(S2, [rec(3, b(6, 1), [b(6, 1), "V"])])), ["versionGap"], "3 before 2");
});
