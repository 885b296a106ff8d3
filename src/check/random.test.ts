import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import { checkHistory } from "./linearizability.js";
import type { KvOp, Operation, Outcome } from "./history.js";
import { cas, del, get, put, simulate } from "./histories.test.helper.js";
import type { Planned } from "./histories.test.helper.js";

/**
 * The definition, by exhaustion: some order of all ok operations and any subset of the unknown ones
 * (failed ones dropped), respecting real time (a before b when a completed strictly before b was
 * invoked), in which one register per key explains every result. No partitioning, no memoisation.
 */
function bruteForce(history: readonly Operation[]): boolean {
  const ops = history.filter((o) => o.outcome !== "fail");
  const done = ops.map(() => false);
  const state = new Map<string, string | null>();
  const mustPrecede = (a: Operation, b: Operation): boolean =>
    a.outcome === "ok" && (a.completedAt as number) < b.invokedAt;
  /** The register after `o`, or undefined when `o` cannot happen now. */
  const step = (o: Operation, current: string | null): { next: string | null } | undefined => {
    const known = o.outcome === "ok";
    switch (o.op.type) {
      case "get":
        return !known || o.result === current ? { next: current } : undefined;
      case "put":
        return { next: o.op.value };
      case "delete":
        return { next: null };
      case "cas": {
        const hit = current === o.op.expected;
        if (known && o.result !== hit) return undefined;
        return { next: hit ? o.op.value : current };
      }
    }
  };
  const search = (): boolean => {
    if (ops.every((o, i) => done[i] || o.outcome === "unknown")) return true;
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i] as Operation;
      if (done[i] || ops.some((p, j) => !done[j] && j !== i && mustPrecede(p, o))) continue;
      const before = state.get(o.key) ?? null;
      const after = step(o, before);
      if (after === undefined) continue;
      done[i] = true;
      state.set(o.key, after.next);
      const found = search();
      done[i] = false;
      state.set(o.key, before);
      if (found) return true;
    }
    return false;
  };
  return search();
}

function randomOp(prng: Prng): KvOp {
  const values = ["a", "b", "c"];
  const r = prng.next();
  if (r < 0.35) return get();
  if (r < 0.65) return put(prng.pick(values));
  if (r < 0.75) return del();
  return cas(prng.chance(0.25) ? null : prng.pick(values), prng.pick(values));
}

/**
 * A small history (≤ 8 operations, 1–2 keys, times on a coarse grid so ties happen). Half come from a
 * simulated register (linearizable), one result then corrupted half of the time; the rest have random results.
 */
function randomHistory(prng: Prng, unknownRate = 0.15): Operation[] {
  const keys = prng.chance(0.5) ? ["x"] : ["x", "y"];
  const planned: Planned[] = [];
  const count = prng.int(1, 9);
  for (let i = 0; i < count; i++) {
    const invokedAt = prng.int(0, 16);
    const completedAt = invokedAt + prng.int(0, 7);
    const r = prng.next();
    const outcome: Outcome = r < 0.9 - unknownRate ? "ok" : r < 0.9 ? "unknown" : "fail";
    const appliedAt =
      outcome === "fail" || (outcome === "unknown" && prng.chance(0.4))
        ? undefined
        : outcome === "ok"
          ? invokedAt + prng.next() * (completedAt - invokedAt)
          : invokedAt + prng.next() * 30;
    planned.push({ client: i, key: prng.pick(keys), op: randomOp(prng), invokedAt, completedAt, outcome, appliedAt });
  }
  const simulated = simulate(planned);
  const mode = prng.int(0, 4); // 0, 1: as simulated; 2: one result corrupted; 3: every result random
  return simulated.map((o) => {
    if (o.outcome !== "ok" || (o.op.type !== "get" && o.op.type !== "cas")) return o;
    if (mode < 2 || (mode === 2 && !prng.chance(0.3))) return o;
    const result = o.op.type === "get" ? prng.pick([null, "a", "b", "c"]) : prng.chance(0.5);
    return { ...o, result };
  });
}

test("random small histories: the checker agrees with brute force, and witnesses are sound", (t) => {
  const prng = new Prng(20_240_606);
  let linearizable = 0;
  let violations = 0;
  for (let round = 0; round < 6000; round++) {
    // A third of the rounds are mostly unknown operations, which the search handles apart.
    const h = randomHistory(prng, round % 3 === 2 ? 0.6 : 0.15);
    const expected = bruteForce(h);
    const result = checkHistory(h);
    const context = `round ${round}: ${JSON.stringify(h)}`;
    assert.equal(result.ok, expected, context);
    if (result.ok) {
      linearizable++;
      continue;
    }
    violations++;
    // The reported key is itself not linearizable; the witness lies on it, comes from the history,
    // is not linearizable, and is no bigger than the key's history.
    const onKey = h.filter((o) => o.key === result.key);
    assert.equal(bruteForce(onKey), false, context);
    assert.ok(result.witness.length > 0 && result.witness.length <= onKey.length, context);
    assert.ok(
      result.witness.every((o) => onKey.includes(o)),
      context,
    );
    assert.equal(bruteForce(result.witness), false, context);
    // Keys before the reported one (in order of first appearance) are linearizable.
    const firstKey = h.find((o) => !bruteForce(h.filter((p) => p.key === o.key)))?.key;
    assert.equal(result.key, firstKey, context);
  }
  t.diagnostic(`${linearizable} linearizable, ${violations} violations`);
  assert.ok(linearizable > 1000 && violations > 1000, `${linearizable} linearizable, ${violations} violations`);
});

test("random small histories: every read in a witness is needed", () => {
  // Dropping a read is always sound, and the shrinker's last pass tries each one: so a witness holds
  // no read whose removal would leave a violation (the witness is 1-minimal in its reads).
  const prng = new Prng(7);
  let checked = 0;
  for (let round = 0; round < 1500; round++) {
    const result = checkHistory(randomHistory(prng));
    if (result.ok) continue;
    assert.equal(result.witnessFrom, -Infinity, "small histories are shrunk whole");
    // The witness as the checker reads it: weakened operations are unknown.
    const weakened = new Set(result.weakened);
    const asRead = result.witness.map((o): Operation =>
      weakened.has(o) ? { ...o, outcome: "unknown", completedAt: Infinity } : o,
    );
    assert.equal(bruteForce(asRead), false, result.explanation);
    for (const o of asRead) {
      const readOnly = o.op.type === "get" || (o.op.type === "cas" && o.outcome === "ok" && o.result === false);
      if (!readOnly) continue;
      checked++;
      assert.ok(bruteForce(asRead.filter((p) => p !== o)), `needless read #${o.id} in ${result.explanation}`);
    }
  }
  assert.ok(checked > 50, `${checked} witness reads checked`);
});
