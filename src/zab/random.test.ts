import assert from "node:assert/strict";
import { test } from "node:test";
import { runSeed } from "./chaos.test.helper.js";

/*
 * The pump checks primary order, agreement, leader completeness and durable acknowledgements after
 * every Ready, and every member its own invariants after every input, through seeded chaos and
 * the liveness phase after it.
 */

const SEEDS = 120;
const STEPS = 1200;

test(`safety under loss, duplication, reordering, partitions and crashes over ${SEEDS} seeds, then liveness`, () => {
  let committed = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    try {
      committed += runSeed(seed, STEPS).ledger.agreed.length;
    } catch (error) {
      assert.fail(`seed ${seed}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  assert.ok(committed > SEEDS * 20, `the runs commit something (${committed} entries in all)`);
});
