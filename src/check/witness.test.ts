import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import { checkHistory } from "./linearizability.js";
import type { KvOp, Operation, Outcome } from "./history.js";
import { prepareKey } from "./model.js";
import type { Prepared } from "./model.js";
import { search } from "./search.js";
import { cutAfter, violates, windowFrom } from "./witness.js";
import { between, cas, del, get, put, simulate } from "./histories.test.helper.js";
import type { Planned } from "./histories.test.helper.js";

/**
 * A medium single-key history from a simulated register (linearizable): 5 clients, some unknown
 * writes applied late or never, cas against recent and random values, values reused now and then.
 */
function mediumHistory(prng: Prng, count: number): Operation[] {
  const planned: Planned[] = [];
  const clock = [0, 0, 0, 0, 0];
  for (let i = 0; i < count; i++) {
    const client = prng.int(0, clock.length);
    const invokedAt = (clock[client] as number) + prng.int(0, 3);
    const completedAt = invokedAt + (prng.chance(0.05) ? prng.int(10, 40) : prng.int(0, 6));
    clock[client] = completedAt + 1;
    const value = prng.chance(0.2) ? prng.pick(["a", "b"]) : `v${i}`;
    const r = prng.next();
    const op: KvOp =
      r < 0.45
        ? get()
        : r < 0.75
          ? put(value)
          : r < 0.82
            ? del()
            : cas(prng.chance(0.3) ? null : `v${prng.int(0, i + 1)}`, value);
    const o = prng.next();
    const outcome: Outcome = o < 0.85 ? "ok" : o < 0.95 ? "unknown" : "fail";
    const appliedAt =
      outcome === "ok"
        ? between(prng, invokedAt, completedAt)
        : outcome === "unknown" && prng.chance(0.6)
          ? between(prng, invokedAt, completedAt + 30)
          : undefined;
    planned.push({ client, key: "k", op, invokedAt, completedAt, outcome, appliedAt });
  }
  return simulate(planned);
}

test("the witness's cuts keep linearizable histories linearizable (so they never invent a violation)", () => {
  const prng = new Prng(99);
  let windows = 0;
  for (let round = 0; round < 60; round++) {
    const h = mediumHistory(prng, prng.int(40, 200));
    const ops = prepareKey(h);
    assert.equal(search(ops).outcome, "linearizable");
    const end = Math.max(...h.map((o) => o.invokedAt));
    for (let k = 0; k < 6; k++) {
      // Cutting after any time: what is left stays linearizable from the absent state.
      const cut = cutAfter(ops, prng.int(0, end + 1));
      assert.equal(search(cut.ops).outcome, "linearizable", `round ${round}: cut`);
      // A window from any time: linearizable from some state (the one the key held then).
      const from = prng.int(0, end + 1);
      const window = windowFrom(cut, from);
      assert.equal(
        violates(window.ops, { from, budget: { left: 10_000_000 } }),
        false,
        `round ${round}: window from ${from}`,
      );
      windows++;
    }
  }
  assert.ok(windows >= 300);
});

test("medium histories with one corrupted read: small sound witnesses, from windows when the history is long", () => {
  const prng = new Prng(7);
  let fromWindow = 0;
  let found = 0;
  for (let round = 0; round < 60; round++) {
    const h = mediumHistory(prng, prng.int(60, 300));
    const reads = h.filter((o) => o.op.type === "get" && o.outcome === "ok");
    const target = reads[prng.int(Math.floor(reads.length / 2), reads.length)];
    if (target === undefined) continue;
    const corrupted = h.map((o) => (o === target ? { ...o, result: prng.pick(["a", "b", "v0", null, "ghost"]) } : o));
    const result = checkHistory(corrupted);
    if (result.ok) continue; // the new value may still be explainable
    found++;
    // Unknown operations that could explain the read belong to the witness: it must refute them too.
    const known = result.witness.filter((o) => o.outcome === "ok").length;
    assert.ok(
      known <= 6 && result.witness.length <= 16,
      `round ${round}: witness of ${result.witness.length}\n${result.explanation}`,
    );
    // The witness as the checker reads it (weakened operations unknown) is a violation from every
    // initial state when it starts at a window, and from the absent state otherwise.
    const weakened = new Set(result.weakened);
    const asRead = result.witness.map((o): Operation =>
      weakened.has(o) ? { ...o, outcome: "unknown", completedAt: Infinity } : o,
    );
    const prepared: Prepared[] = prepareKey(asRead);
    assert.ok(violates(prepared, { from: result.witnessFrom, budget: { left: 10_000_000 } }), result.explanation);
    if (result.witnessFrom !== -Infinity) fromWindow++;
  }
  assert.ok(found >= 20, `${found} violations`);
  assert.ok(fromWindow >= 5, `${fromWindow} witnesses from a window`);
});
