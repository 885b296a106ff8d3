import assert from "node:assert/strict";
import { test } from "node:test";
import { utf8 } from "../util/bytes.js";
import type { NodeId } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { Pump } from "./pump.test.helper.js";

/*
 * Seeded chaos: messages delivered in random order, lost and duplicated; members ticked unevenly,
 * crashed and restarted from what their Readies persisted; partitions; proposals and syncs
 * anywhere. The pump checks primary order, agreement, leader completeness and durable
 * acknowledgements after every Ready, and every member its own invariants after every input.
 * Then the faults stop, and the ensemble must elect a leader and commit a new write everywhere.
 */

const SEEDS = 120;
const STEPS = 1200;

function chaos(pump: Pump, random: Prng, step: number): void {
  const roll = random.int(0, 100);
  const { inFlight } = pump;
  const up = pump.upMembers();
  if (roll < 45 && inFlight.length > 0) {
    const [m] = inFlight.splice(random.int(0, inFlight.length), 1);
    pump.deliver(m!);
  } else if (roll < 50 && inFlight.length > 0) {
    inFlight.splice(random.int(0, inFlight.length), 1);
  } else if (roll < 53 && inFlight.length > 0) {
    inFlight.push(random.pick(inFlight));
  } else if (roll < 80 && up.length > 0) {
    pump.tick(random.pick(up));
  } else if (roll < 90 && up.length > 0) {
    const id = random.pick(up);
    if (pump.node(id).propose(utf8(`s${step}`)).ok) pump.process(id);
  } else if (roll < 93 && up.length > 0) {
    const id = random.pick(up);
    if (pump.node(id).sync(utf8(`r${step}`)).ok) pump.process(id);
  } else if (roll < 95 && up.length > 0) {
    pump.crash(random.pick(up));
  } else if (roll < 98) {
    const down = pump.members.filter((id) => !pump.isUp(id));
    if (down.length > 0) pump.restart(random.pick(down));
  } else if (roll < 99) {
    const shuffled = [...pump.members].sort(() => random.next() - 0.5);
    const cut = random.int(1, shuffled.length);
    pump.heal();
    pump.partition(shuffled.slice(0, cut), shuffled.slice(cut));
  } else {
    pump.heal();
  }
}

function settle(pump: Pump, seed: number): void {
  pump.heal();
  for (const id of pump.members) if (!pump.isUp(id)) pump.restart(id);
  pump.runUntil(() => pump.leader() !== undefined, 400);
  const leader: NodeId = pump.leader()!;
  const result = pump.node(leader).propose(utf8(`final ${seed}`));
  if (!result.ok) {
    // Exhausted: the next epoch takes it.
    pump.runUntil(
      () => pump.leader() !== undefined && pump.node(pump.leader()!).propose(utf8(`final ${seed}`)).ok,
      400,
    );
  }
  pump.runUntil(() => pump.allDelivered(pump.node(pump.leader()!).status().lastIndex), 400);
}

test(`safety under loss, duplication, reordering, partitions and crashes over ${SEEDS} seeds, then liveness`, () => {
  let committed = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const size = seed % 2 === 0 ? 5 : 3;
    const pump = new Pump({ size, seed, zab: { electionTicks: 6, counterBits: seed % 3 === 0 ? 2 : 32 } });
    const random = new Prng(seed * 7919);
    try {
      for (let step = 0; step < STEPS; step++) chaos(pump, random, step);
      settle(pump, seed);
    } catch (error) {
      assert.fail(`seed ${seed}: ${error instanceof Error ? error.message : String(error)}`);
    }
    committed += pump.ledger.agreed.length;
  }
  assert.ok(committed > SEEDS * 5, `the runs commit something (${committed} entries in all)`);
});
