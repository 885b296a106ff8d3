import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeId } from "../raft/index.js";
import { logIndex, type LogIndex } from "../util/ids.js";
import { Applier } from "./applier.js";
import type { Clock, Timer } from "./clock.js";
import { AddressBook } from "./members.js";
import { ForwardedProposals, PendingProposals } from "./pending.js";
import type { RestoreInProgress, StateMachine } from "./state_machine.js";

/** A clock whose `soon` calls wait until `runSoon`. */
class ManualClock implements Clock {
  #soon: (() => void)[] = [];
  now(): number {
    return 0;
  }
  after(): Timer {
    throw new Error("not used");
  }
  every(): Timer {
    throw new Error("not used");
  }
  soon(run: () => void): void {
    this.#soon.push(run);
  }
  /** Runs the calls waiting now; returns how many there were. */
  runSoon(): number {
    const due = this.#soon.splice(0);
    for (const run of due) run();
    return due.length;
  }
}

/** A state machine holding one string; its restore takes `steps` steps when it offers beginRestore. */
function stateMachine(steps: number | undefined): StateMachine & { state: string } {
  const machine = {
    state: "old",
    apply: (_command: Uint8Array, _index: LogIndex) => undefined,
    snapshot: () => new Uint8Array(0),
    restore: (snapshot: Uint8Array) => void (machine.state = new TextDecoder().decode(snapshot)),
  };
  if (steps === undefined) return machine;
  const beginRestore = (snapshot: Uint8Array): RestoreInProgress => {
    let left = steps;
    return {
      step: () => {
        if (--left > 0) return false;
        machine.restore(snapshot);
        return true;
      },
    };
  };
  return Object.assign(machine, { beginRestore });
}

function applierOf(machine: StateMachine, clock: ManualClock): Applier {
  return new Applier(
    {
      id: nodeId(1),
      epoch: 1,
      stateMachine: machine,
      pending: new PendingProposals(clock),
      forwarded: new ForwardedProposals(clock),
      clock,
      observer: undefined,
      onMembersChanged: undefined,
    },
    new AddressBook(),
    undefined,
  );
}

const snapshot = { index: logIndex(7), data: new Uint8Array(0) };
const state = new TextEncoder().encode("new");

test("a snapshot restored in one step (or by restore) is in place, and `then` called, before install returns", () => {
  for (const steps of [undefined, 1]) {
    const clock = new ManualClock();
    const machine = stateMachine(steps);
    const applier = applierOf(machine, clock);
    let thens = 0;
    assert.equal(
      applier.install(snapshot, state, () => thens++),
      undefined,
    );
    assert.deepEqual([machine.state, applier.applied, thens], ["new", 7, 1]);
  }
});

test("a snapshot restored in several steps takes one per turn; the applied index moves and `then` runs after the last", async () => {
  const clock = new ManualClock();
  const machine = stateMachine(4);
  const applier = applierOf(machine, clock);
  let thens = 0;
  const restoring = applier.install(snapshot, state, () => thens++);
  assert.ok(restoring instanceof Promise);
  let settled = false;
  void restoring.then(() => (settled = true));
  let turns = 0;
  for (; !settled; turns++) {
    assert.deepEqual([machine.state, applier.applied, thens], ["old", 0, 0], `before turn ${turns}`);
    // Every promise callback runs before a macrotask: the applier is waiting on its clock by then.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(clock.runSoon(), 1);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await restoring;
  assert.equal(turns, 3);
  assert.deepEqual([machine.state, applier.applied, thens], ["new", 7, 1]);
});

test("without a snapshot, install calls `then` at once", () => {
  const clock = new ManualClock();
  let thens = 0;
  assert.equal(
    applierOf(stateMachine(3), clock).install(undefined, undefined, () => thens++),
    undefined,
  );
  assert.equal(thens, 1);
});
