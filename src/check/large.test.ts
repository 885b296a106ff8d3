import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import { checkHistory } from "./linearizability.js";
import type { KvOp, Operation, Outcome } from "./history.js";
import { between, cas, del, get, put, simulate } from "./histories.test.helper.js";
import type { Planned } from "./histories.test.helper.js";

/**
 * What a fault test against a real cluster records: 10 clients, each sequential, for 60 simulated
 * seconds on 100 keys, half of the operations on 3 hot keys so that clients overlap on them; requests
 * take 1–25 ms (a few take 0.5 s, as across a leader change), 3% end unknown (applied or not, possibly
 * long after the client gave up) and 2% fail. Values are unique, as the fault test writes them.
 */
function largeHistory(seed: number): Operation[] {
  const prng = new Prng(seed);
  const planned: Planned[] = [];
  for (let client = 0; client < 10; client++) {
    let now = prng.next() * 10;
    let written = 0;
    while (now < 60_000) {
      const key = prng.chance(0.5) ? `hot${prng.int(0, 3)}` : `key${prng.int(0, 100)}`;
      const value = `c${client}-${written++}`;
      const r = prng.next();
      const op: KvOp =
        r < 0.5
          ? get()
          : r < 0.8
            ? put(value)
            : r < 0.85
              ? del()
              : cas(prng.chance(0.5) ? null : `c${prng.int(0, 10)}-${prng.int(0, written)}`, value);
      const invokedAt = now;
      const completedAt = now + (prng.chance(0.01) ? between(prng, 100, 500) : between(prng, 1, 25));
      const o = prng.next();
      const outcome: Outcome = o < 0.95 ? "ok" : o < 0.98 ? "unknown" : "fail";
      const appliedAt =
        outcome === "ok"
          ? between(prng, invokedAt, completedAt)
          : outcome === "unknown" && prng.chance(0.5)
            ? between(prng, invokedAt, completedAt + 1000)
            : undefined;
      planned.push({ client, key, op, invokedAt, completedAt, outcome, appliedAt });
      now = completedAt + between(prng, 0, 4);
    }
  }
  return simulate(planned);
}

test("a 60-second, 10-client history on 100 keys is accepted in steps linear in its size", (t) => {
  const history = largeHistory(60);
  const started = performance.now();
  const result = checkHistory(history);
  const ms = performance.now() - started;
  t.diagnostic(`${history.length} operations, ${result.steps} steps, ${ms.toFixed(0)} ms`);
  assert.ok(history.length > 30_000, `${history.length} operations`);
  assert.ok(result.ok, result.ok ? "" : result.explanation);
  assert.equal(result.keys, 103);
  // Machine-independent bound instead of a wall-clock one: a near-linear search visits each event a
  // few times; an exponential one would be far past this.
  assert.ok(result.steps < 20 * history.length, `${result.steps} steps for ${history.length} operations`);
});

test("one stale read hidden in the large history is found, on its key, with a small witness", (t) => {
  const history = largeHistory(61);
  // Take a read on a hot key halfway through and make it return the value of the write two writes earlier.
  const writes = (key: string, before: number): Operation[] =>
    history.filter(
      (o) => o.key === key && o.op.type === "put" && o.outcome === "ok" && (o.completedAt as number) < before,
    );
  const target = history.find(
    (o) =>
      o.key === "hot1" &&
      o.op.type === "get" &&
      o.outcome === "ok" &&
      o.invokedAt > 30_000 &&
      writes("hot1", o.invokedAt).length > 2,
  );
  assert.ok(target !== undefined);
  const earlier = writes("hot1", target.invokedAt);
  const stale = earlier[earlier.length - 3];
  assert.ok(stale !== undefined && stale.op.type === "put");
  const corrupted = history.map((o) =>
    o === target ? { ...o, result: stale.op.type === "put" ? stale.op.value : null } : o,
  );
  const started = performance.now();
  const result = checkHistory(corrupted);
  const ms = performance.now() - started;
  assert.equal(result.ok, false);
  t.diagnostic(
    `${corrupted.length} operations, ${result.steps} steps, ${ms.toFixed(0)} ms, witness of ${result.witness.length}`,
  );
  for (const line of result.explanation.split("\n")) t.diagnostic(line);
  assert.equal(result.key, "hot1");
  assert.ok(
    result.witness.some((o) => o.id === target.id),
    "the corrupted read is in the witness",
  );
  assert.ok(result.witness.length <= 6, `witness of ${result.witness.length}`);
  assert.equal(checkHistory(result.witness).ok, false);
  // Proving a violation means exhausting every linearisation up to it, which the unknown operations
  // multiply; still far from exponential.
  assert.ok(result.steps < 500 * corrupted.length, `${result.steps} steps`);
});
