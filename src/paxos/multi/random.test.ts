import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8, utf8 } from "../../util/bytes.js";
import { Prng } from "../../util/prng.js";
import { Cluster } from "./pump.test.helper.js";
import { isPrefixOf } from "./safety.js";

const SEEDS = 80;
const STEPS = 1000;

/**
 * Runs one seed: a safety phase of random deliveries (reordered, lost, duplicated), ticks,
 * proposals, reads, partitions, crashes (some between a Ready's early messages and its persist),
 * restarts and snapshots, with every check after every step; then a liveness phase on a healed
 * network in which a new command must reach every member.
 */
function runSeed(seed: number): void {
  const prng = new Prng(seed);
  const size = seed % 2 === 0 ? 3 : 5;
  const readMode = seed % 3 === 0 ? "lease" : "safe";
  const c = new Cluster({ size, seed, options: { readMode, inflightSlotsMax: 64 } });
  let proposed = 0;
  const readsSeen = new Map<number, number>();
  for (let step = 0; step < STEPS; step++) {
    randomAction(c, prng, () => `s${seed}-${proposed++}`);
    assert.deepEqual(c.violations, [], `seed ${seed} step ${step}`);
    checkReads(c, readsSeen);
  }
  c.drop = () => false;
  c.heal();
  for (const m of c.members.values()) if (!m.up) c.restart(m.id, 1000 + seed);
  // A client retries until a leader takes its command (one may be busy settling what phase 1 found).
  let last = 0;
  c.runUntil(() => {
    const leader = c.leader();
    const result = leader === undefined ? undefined : c.input(leader.id, (n) => n.propose(utf8("final")));
    if (result?.ok === true) last = result.slot;
    return last > 0;
  }, 400);
  c.runUntil(() => c.ids.every((id) => (c.member(id).applied.at(-1)?.index ?? 0) >= last), 400);
  const lists = c.ids.map((id) => c.member(id).applied);
  for (const list of lists) assert.ok(isPrefixOf(list, lists[0]!) && list.length === lists[0]!.length);
  assert.deepEqual(c.violations, [], `seed ${seed} after healing`);
}

function randomAction(c: Cluster, prng: Prng, nextCommand: () => string): void {
  const roll = prng.next();
  const id = prng.pick(c.ids);
  const member = c.member(id);
  if (roll < 0.62) deliverOne(c, prng);
  else if (roll < 0.74) c.tickAll();
  else if (roll < 0.88) {
    const leader = c.leader();
    const at = leader !== undefined && prng.chance(0.8) ? leader.id : id;
    if (c.member(at).up) c.input(at, (n) => n.propose(utf8(nextCommand())));
  } else if (roll < 0.92) {
    if (member.up) read(c, id);
  } else if (roll < 0.935) {
    if (member.up && c.ids.filter((i) => !c.member(i).up).length < Math.floor(c.ids.length / 2)) {
      if (prng.chance(0.5) && member.node.hasReady()) c.process(id, true);
      else c.crash(id);
    }
  } else if (roll < 0.96) {
    if (!member.up) c.restart(id, prng.int(1, 1 << 30));
  } else if (roll < 0.98) {
    if (prng.chance(0.6)) c.heal();
    else c.partition(...split(c, prng));
  } else if (roll < 0.99) {
    if (member.up) c.takeSnapshot(id, prng.int(0, 4));
  } else {
    const lossy = prng.chance(0.5);
    c.drop = lossy ? () => prng.chance(0.1) : () => false;
  }
}

/** Delivers a random in-flight message, sometimes twice, sometimes not at all. */
function deliverOne(c: Cluster, prng: Prng): void {
  if (c.inflight.length === 0) return;
  const index = prng.int(0, c.inflight.length);
  if (prng.chance(0.05)) {
    c.inflight.splice(index, 1);
    return;
  }
  if (prng.chance(0.05)) c.inflight.push(c.inflight[index]!);
  c.deliverAt(index);
}

/**
 * A read asked now must see every write already applied anywhere (a write is acknowledged only
 * once applied): its context carries that bound, checked when its read point arrives.
 */
function read(c: Cluster, id: number): void {
  const bound = Math.max(...c.ids.map((i) => c.member(i).applied.at(-1)?.index ?? 0));
  c.input(id, (n) => n.readIndex(utf8(String(bound))));
}

/** Checks the read points that arrived since the last call; `seen` counts them per member. */
function checkReads(c: Cluster, seen: Map<number, number>): void {
  for (const m of c.members.values()) {
    for (const r of m.readStates.slice(seen.get(m.id) ?? 0)) {
      assert.ok(r.index >= Number(fromUtf8(r.context)), `read point ${r.index} misses a write`);
    }
    seen.set(m.id, m.readStates.length);
  }
}

function split(c: Cluster, prng: Prng): number[][] {
  const groups: number[][] = [[], []];
  for (const id of c.ids) groups[prng.int(0, 2)]!.push(id);
  return groups;
}

test(`random faults over ${SEEDS} seeds: every safety check holds after every step, and the healed cluster makes progress`, () => {
  for (let seed = 1; seed <= SEEDS; seed++) runSeed(seed);
});
