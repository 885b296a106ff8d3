import assert from "node:assert/strict";
import { test } from "node:test";
import { utf8 } from "../../util/bytes.js";
import { logIndex, nodeId } from "../../util/ids.js";
import { AppliedHistory, checkAcceptorStep, ChosenRegistry, isPrefixOf } from "./safety.js";
import { NOOP, type AcceptedRecord, type Ballot, type CommittedEntry, type Value } from "./types.js";

const b = (counter: number, node: number): Ballot => ({ counter, node: nodeId(node) });
const cmd = (text: string): Value => ({ kind: "command", data: utf8(text) });
const rec = (slot: number, ballot: Ballot, value: Value): AcceptedRecord => ({ slot: logIndex(slot), ballot, value });
const view = (promised: Ballot, ...records: AcceptedRecord[]) => ({
  promised,
  accepted: new Map(records.map((r) => [r.slot, r])),
});
const entry = (index: number, text: string): CommittedEntry => ({
  index: logIndex(index),
  kind: "command",
  data: utf8(text),
});
const n1 = nodeId(1);

test("checkAcceptorStep passes a promise that rises and acceptances at or above the promise", () => {
  const before = view(b(2, 1), rec(1, b(2, 1), cmd("a")));
  const after = view(b(3, 2), rec(1, b(2, 1), cmd("a")), rec(2, b(3, 2), cmd("b")));
  assert.deepEqual(checkAcceptorStep(n1, before, after), []);
  assert.deepEqual(checkAcceptorStep(n1, after, view(b(3, 2), rec(2, b(3, 2), cmd("b")))), [], "records may go");
});

test("checkAcceptorStep catches a lowered promise, an acceptance below it, and two values in one ballot", () => {
  const before = view(b(5, 2), rec(1, b(4, 1), cmd("a")));
  const kinds = (after: ReturnType<typeof view>) => checkAcceptorStep(n1, before, after).map((v) => v.kind);
  assert.deepEqual(kinds(view(b(4, 1), rec(1, b(4, 1), cmd("a")))), ["promiseLowered"]);
  assert.deepEqual(kinds(view(b(5, 2), rec(1, b(4, 1), cmd("a")), rec(2, b(4, 3), cmd("x")))), ["promiseBroken"]);
  assert.deepEqual(kinds(view(b(5, 2), rec(1, b(4, 1), cmd("other")))), ["twoValuesOneBallot"]);
});

test("ChosenRegistry: a value is chosen by a quorum in one ballot; a second chosen value is caught", () => {
  const registry = new ChosenRegistry(2);
  assert.deepEqual(registry.recordDurable(nodeId(1), [rec(1, b(1, 1), cmd("x"))]), []);
  assert.equal(registry.chosenAt(logIndex(1)), undefined);
  assert.deepEqual(registry.recordDurable(nodeId(2), [rec(1, b(2, 3), cmd("y"))]), []);
  assert.equal(registry.chosenAt(logIndex(1)), undefined, "two ballots never add up");
  assert.deepEqual(registry.recordDurable(nodeId(2), [rec(1, b(1, 1), cmd("x"))]), []);
  assert.deepEqual(registry.chosenAt(logIndex(1)), cmd("x"));
  assert.deepEqual(
    registry.recordDurable(nodeId(3), [rec(1, b(2, 3), cmd("y"))]).map((v) => v.kind),
    ["twoValuesChosen"],
  );
  assert.deepEqual(
    registry.recordDurable(nodeId(3), [rec(1, b(1, 1), NOOP)]).map((v) => v.kind),
    ["twoValuesOneBallot"],
  );
});

test("ChosenRegistry: learning a value no quorum accepted, or another than the chosen one, is caught", () => {
  const registry = new ChosenRegistry(2);
  assert.deepEqual(
    registry.checkLearnt(n1, logIndex(1), cmd("x")).map((v) => v.kind),
    ["learntUnchosen"],
  );
  registry.recordDurable(nodeId(1), [rec(1, b(1, 1), cmd("x"))]);
  registry.recordDurable(nodeId(2), [rec(1, b(1, 1), cmd("x"))]);
  assert.deepEqual(registry.checkLearnt(n1, logIndex(1), cmd("x")), []);
  assert.deepEqual(
    registry.checkLearnt(n1, logIndex(1), NOOP).map((v) => v.kind),
    ["learntUnchosen"],
  );
});

test("AppliedHistory: members apply consecutive slots and agree on each; restores move a member's start", () => {
  const history = new AppliedHistory();
  assert.deepEqual(history.observe(nodeId(1), [entry(1, "a"), entry(2, "b")]), []);
  assert.deepEqual(history.observe(nodeId(2), [entry(1, "a")]), []);
  assert.deepEqual(
    history.observe(nodeId(2), [entry(3, "c")]).map((v) => v.kind),
    ["appliedOutOfOrder"],
  );
  assert.deepEqual(
    history.observe(nodeId(3), [entry(1, "z")]).map((v) => v.kind),
    ["appliedDiverged"],
  );
  history.restored(nodeId(4), logIndex(2));
  assert.deepEqual(history.observe(nodeId(4), [entry(3, "c")]), []);
});

test("isPrefixOf compares whole applied sequences", () => {
  assert.ok(isPrefixOf([entry(1, "a")], [entry(1, "a"), entry(2, "b")]));
  assert.ok(isPrefixOf([entry(1, "a"), entry(2, "b")], [entry(1, "a")]));
  assert.equal(isPrefixOf([entry(1, "a"), entry(2, "x")], [entry(1, "a"), entry(2, "b")]), false);
});
