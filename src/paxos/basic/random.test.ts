import assert from "node:assert/strict";
import { test } from "node:test";
import { runSeed } from "./sweep.js";

/*
 * The sweep of sweep.ts over its first 30 seeds (the sweep's CLI runs thousands: see
 * docs/engines.md): loss, duplication, reordering and crashes, every step checked for broken
 * promises and two values chosen in one instance, every answer against the chosen values, and the
 * clients' history for linearizability. Also asserts that the runs reach every kind of answer, so
 * the checks are not passing vacuously.
 */

const seeds = 30;

test(`sweep: ${seeds} seeded runs with loss, duplication, reordering and crashes stay safe and linearizable, then finish`, (t) => {
  let answered = 0;
  let versions = 0;
  const tally = new Map<string, number>();
  for (let seed = 1; seed <= seeds; seed++) {
    const result = runSeed(seed);
    assert.deepEqual(result.violations, [], `seed ${seed}`);
    answered += result.answered;
    versions += result.versions;
    for (const [kind, n] of result.tally) tally.set(kind, (tally.get(kind) ?? 0) + n);
  }
  t.diagnostic(`answers: ${[...tally].map(([kind, n]) => `${kind} ${n}`).join(", ")}; versions chosen: ${versions}`);
  for (const kind of ["value", "written", "conflict above", "conflict below"]) {
    assert.ok((tally.get(kind) ?? 0) >= seeds, `only ${tally.get(kind) ?? 0} answers of kind ${kind}`);
  }
  assert.ok(answered > seeds * 20, `only ${answered} answers`);
  assert.ok(versions > seeds * 4, `only ${versions} versions chosen`);
});
