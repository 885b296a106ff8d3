/*
 * Seeded chaos for the ZAB pump: messages delivered in random order, lost and duplicated; members
 * ticked unevenly, disks that land writes late, crashes losing what was not written, restarts; partitions; proposals
 * and syncs anywhere. Then the faults stop, and the ensemble must elect a leader and commit a new
 * write everywhere.
 */
import { assert } from "../util/assert.js";
import { fromUtf8, utf8 } from "../util/bytes.js";
import type { NodeId } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { Pump } from "./pump.test.helper.js";

const ELECTION_TICKS = 6;
/** How long the liveness phase's client waits for a write to commit before proposing it again. */
const RETRY_TICKS = 4 * ELECTION_TICKS;

/** For each sync in flight: how many transactions some member had delivered when it began. */
const readFloors = new Map<string, number>();

/**
 * A read after sync sees every write acknowledged before the sync began: its index is at least
 * what anyone had delivered (a leader acknowledges a write once it has applied it) by then.
 */
function checkReads(pump: Pump): void {
  readFloors.clear();
  pump.onRead = (id, read) => {
    const floor = readFloors.get(fromUtf8(read.context));
    assert(floor !== undefined, `member ${id}: a read state for no sync`);
    assert(read.index >= floor, `member ${id}: sync read at ${read.index} misses writes through ${floor}`);
  };
}

/** Runs one seed: `steps` chaotic steps, then the liveness phase; throws on any violation. */
export function runSeed(seed: number, steps: number): Pump {
  const size = seed % 2 === 0 ? 5 : 3;
  const pump = new Pump({ size, seed, zab: { electionTicks: ELECTION_TICKS, counterBits: seed % 3 === 0 ? 2 : 32 } });
  const random = new Prng(seed * 7919);
  checkReads(pump);
  pump.slowDisks = true;
  for (let step = 0; step < steps; step++) chaos(pump, random, step);
  settle(pump, seed);
  return pump;
}

export function chaos(pump: Pump, random: Prng, step: number): void {
  const roll = random.int(0, 1000) / 10;
  const { inFlight } = pump;
  const up = pump.upMembers();
  if (roll < 40 && inFlight.length > 0) {
    const [m] = inFlight.splice(random.int(0, inFlight.length), 1);
    pump.deliver(m!);
  } else if (roll < 44 && inFlight.length > 0) {
    inFlight.splice(random.int(0, inFlight.length), 1);
  } else if (roll < 47 && inFlight.length > 0) {
    inFlight.push(random.pick(inFlight));
  } else if (roll < 65 && up.length > 0) {
    pump.tick(random.pick(up));
  } else if (roll < 82) {
    const writing = pump.writing();
    if (writing.length > 0) {
      const id = random.pick(writing);
      // Usually one write lands; sometimes the whole backlog.
      if (random.chance(0.7)) pump.completeWrite(id);
      else while (pump.completeWrite(id));
    }
  } else if (roll < 91 && up.length > 0) {
    // Clients mostly find the leader; some ask whoever they reach.
    const id = random.chance(0.8) ? (pump.leader() ?? random.pick(up)) : random.pick(up);
    if (pump.node(id).propose(utf8(`s${step}`)).ok) pump.process(id);
  } else if (roll < 93 && up.length > 0) {
    const id = random.pick(up);
    readFloors.set(`r${step}`, pump.ledger.agreed.length);
    if (pump.node(id).sync(utf8(`r${step}`)).ok) pump.process(id);
  } else if (roll < 93.5 && up.length > 0) {
    // Half the crashes strike between a Ready's first messages and its write.
    if (random.chance(0.5)) pump.crash(random.pick(up));
    else pump.crashBeforeNextWrite(random.pick(up));
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

/**
 * Ends the faults; then a leader must be elected and a new write committed on every member within
 * bounded ticks. Like a client, it proposes again when a write has not committed for a while (a
 * deposed leader that still believed it led may have taken, and lost, the previous attempt).
 */
export function settle(pump: Pump, seed: number): void {
  pump.stopFaults();
  for (const id of pump.members) if (!pump.isUp(id)) pump.restart(id);
  const value = `final ${seed}`;
  const delivered = (id: NodeId): boolean => pump.delivered.get(id)!.some((e) => fromUtf8(e.data) === value);
  let sinceProposed = Infinity;
  pump.runUntil(() => {
    if (pump.members.every(delivered)) return true;
    const leader = pump.leader();
    if (++sinceProposed > RETRY_TICKS && leader !== undefined && pump.node(leader).propose(utf8(value)).ok) {
      sinceProposed = 0;
    }
    return false;
  }, 400);
}
