/*
 * Seeded chaos for the ZAB pump: messages delivered in random order, lost and duplicated; members
 * ticked unevenly, crashed and restarted from what their Readies persisted; partitions; proposals
 * and syncs anywhere. Then the faults stop, and the ensemble must elect a leader and commit a new
 * write everywhere.
 */
import { utf8 } from "../util/bytes.js";
import type { NodeId } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { Pump } from "./pump.test.helper.js";

/** Runs one seed: `steps` chaotic steps, then the liveness phase; throws on any violation. */
export function runSeed(seed: number, steps: number): Pump {
  const size = seed % 2 === 0 ? 5 : 3;
  const pump = new Pump({ size, seed, zab: { electionTicks: 6, counterBits: seed % 3 === 0 ? 2 : 32 } });
  const random = new Prng(seed * 7919);
  for (let step = 0; step < steps; step++) chaos(pump, random, step);
  settle(pump, seed);
  return pump;
}

export function chaos(pump: Pump, random: Prng, step: number): void {
  const roll = random.int(0, 1000) / 10;
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
    // Clients mostly find the leader; some ask whoever they reach.
    const id = random.chance(0.8) ? (pump.leader() ?? random.pick(up)) : random.pick(up);
    if (pump.node(id).propose(utf8(`s${step}`)).ok) pump.process(id);
  } else if (roll < 93 && up.length > 0) {
    const id = random.pick(up);
    if (pump.node(id).sync(utf8(`r${step}`)).ok) pump.process(id);
  } else if (roll < 93.5 && up.length > 0) {
    pump.crash(random.pick(up));
  } else if (roll < 96) {
    const down = pump.members.filter((id) => !pump.isUp(id));
    if (down.length > 0) pump.restart(random.pick(down));
  } else if (roll < 96.5) {
    const shuffled = [...pump.members].sort(() => random.next() - 0.5);
    const cut = random.int(1, shuffled.length);
    pump.heal();
    pump.partition(shuffled.slice(0, cut), shuffled.slice(cut));
  } else {
    pump.heal();
  }
}

export function settle(pump: Pump, seed: number): void {
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
