import assert from "node:assert/strict";
import { test } from "node:test";
import type { EngineReady } from "../engine/engine.js";
import type { MultiPaxosTypes } from "../engine/multi_paxos.js";
import type { NodeView } from "../node/index.js";
import type { AcceptedRecord, Ballot, Message } from "../paxos/multi/index.js";
import { logIndex, nodeId } from "../util/ids.js";
import { SafetyChecker } from "./checkers.js";
import type { Member } from "./member.js";
import { PaxosSim } from "./paxos_sim.js";

const ballot = (counter: number, node: number): Ballot => ({ counter, node: nodeId(node) });
const record = (slot: number, b: Ballot, byte: number): AcceptedRecord => ({
  slot: logIndex(slot),
  ballot: b,
  value: { kind: "command", data: new Uint8Array([byte]) },
});

function setup(memberCount = 3) {
  const checker = new SafetyChecker();
  const sim = new PaxosSim(
    { checker, nameOf: (id) => `n${id}`, memberOf: () => undefined, trace: () => undefined, tracing: false },
    { memberCount },
  );
  const member = (id: number): Member => ({ id: nodeId(id), name: `n${id}` }) as Member;
  const view = {
    status: () => ({ commitIndex: 0, appliedIndex: 0 }),
  } as unknown as NodeView<MultiPaxosTypes>;
  const ready = (w: { promised?: Ballot; accepted?: AcceptedRecord[] }): EngineReady<MultiPaxosTypes> =>
    ({
      write: {
        hardState: w.promised === undefined ? undefined : { promised: w.promised },
        accepted: w.accepted ?? [],
        snapshot: undefined,
      },
    }) as unknown as EngineReady<MultiPaxosTypes>;
  /** One Ready taken and persisted at member `id`. */
  const step = (id: number, w: { promised?: Ballot; accepted?: AcceptedRecord[] }): void => {
    sim.readyStarted(member(id), ready(w), view);
    sim.readyPersisted(member(id), ready(w));
  };
  for (let id = 1; id <= memberCount; id++)
    sim.recovered(member(id), { hardState: { promised: ballot(0, 0) }, accepted: [] });
  return { checker, sim, member, step };
}

test("paxos checks: an acceptor that accepts below its promise breaks it", () => {
  const { checker, step } = setup();
  step(1, { promised: ballot(5, 2) });
  step(1, { accepted: [record(1, ballot(4, 3), 7)] });
  assert.deepEqual(
    checker.violations.map((v) => v.kind),
    ["paxosPromise"],
  );
  assert.match(checker.violations[0]!.message, /accepted slot 1 in 4\.3 after promising 5\.2/);
});

test("paxos checks: two values chosen at one slot, and a value applied that no quorum accepted", () => {
  const { checker, sim, member, step } = setup();
  for (const id of [1, 2]) step(id, { promised: ballot(1, 1), accepted: [record(1, ballot(1, 1), 10)] });
  assert.equal(checker.violations.length, 0, "one value chosen by a quorum");
  // A leader that skipped phase 1 proposes another value at slot 1 and gets a quorum for it.
  for (const id of [2, 3]) step(id, { promised: ballot(2, 3), accepted: [record(1, ballot(2, 3), 20)] });
  assert.ok(checker.violations.some((v) => v.kind === "paxosChosen" && /second value chosen/.test(v.message)));
  sim.applied(member(3), [{ index: logIndex(2), kind: "command", data: new Uint8Array([99]), tag: new Uint8Array() }]);
  assert.ok(checker.violations.some((v) => /learnt a value at slot 2 which no quorum accepted/.test(v.message)));
});

test("paxos checks: a Promise or an Accepted that leaves before its write is durable", () => {
  const { checker, sim, member } = setup();
  const promise: Message = {
    type: "promise",
    from: nodeId(1),
    to: nodeId(2),
    ballot: ballot(3, 2),
    snapshotIndex: logIndex(0),
    chosenThrough: logIndex(0),
    chosen: [],
    accepted: [],
  };
  sim.sent(member(1), promise);
  const accepted: Message = {
    type: "accepted",
    from: nodeId(1),
    to: nodeId(2),
    ballot: ballot(3, 2),
    round: 0,
    slots: [logIndex(4)],
    learnedThrough: logIndex(0),
    stuck: false,
  };
  sim.sent(member(1), accepted);
  assert.deepEqual(
    checker.violations.map((v) => v.kind),
    ["notDurable", "notDurable"],
  );
});

test("paxos checks: a restart that lost a synced acceptance or lowered the promise", () => {
  const { checker, sim, member, step } = setup();
  step(1, { promised: ballot(2, 1), accepted: [record(3, ballot(2, 1), 5)] });
  sim.recovered(member(1), { hardState: { promised: ballot(1, 1) }, accepted: [] });
  assert.deepEqual(
    checker.violations.map((v) => v.kind),
    ["notDurable", "notDurable"],
  );
});
