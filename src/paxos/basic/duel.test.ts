import assert from "node:assert/strict";
import { test } from "node:test";
import { adversarialDuel, duel, histogram } from "./duel.js";

/* The duel of duel.ts, measured over 300 seeds with and without randomized backoff. */

const SEEDS = 300;

test("duelling proposers: with backoff off, each Prepare pre-empts the other's Accept for several rounds", (t) => {
  const runs = Array.from({ length: SEEDS }, (_, i) => duel(i + 1, 0));
  const counts = runs.map((r) => r.preemptions.length);
  t.diagnostic(`pre-emptions per run over ${SEEDS} seeds: ${histogram(counts)}`);
  t.diagnostic(`prepare rounds per run: ${histogram(runs.map((r) => r.rounds))}`);
  t.diagnostic(`ticks per run: ${histogram(runs.map((r) => r.ticks))}`);
  const sorted = [...counts].sort((a, b) => a - b);
  assert.ok(sorted[SEEDS / 2]! >= 3, `median ${sorted[SEEDS / 2]} pre-emptions`);
  assert.ok(counts.filter((n) => n >= 8).length >= 20, "duels of 8 and more rounds are common");
  // The longest duel, round by round: the proposers take turns pre-empting each other.
  const longest = runs.reduce((a, b) => (b.preemptions.length > a.preemptions.length ? b : a));
  t.diagnostic(`longest: ${longest.preemptions.map((p) => `${p.ballot}<${p.by}`).join(" ")}`);
  assert.ok(longest.preemptions.length >= 15, `longest duel ${longest.preemptions.length}`);
  for (const { ballot, by } of longest.preemptions) {
    assert.notEqual(ballot.split(".")[1], by.split(".")[1], `${ballot} was refused for the other proposer's ${by}`);
  }
  const turns = longest.preemptions.map((p) => p.ballot.split(".")[1]);
  const alternations = turns.filter((who, i) => i > 0 && who !== turns[i - 1]).length;
  assert.ok(alternations >= turns.length / 2, `S1 and S5 alternate: ${turns.join(" ")}`);
});

test("duelling proposers: randomized backoff in [4, 8) ticks settles every seed within 3 pre-emptions and 4 rounds", (t) => {
  const runs = Array.from({ length: SEEDS }, (_, i) => duel(i + 1, 4));
  const counts = runs.map((r) => r.preemptions.length);
  t.diagnostic(`pre-emptions per run over ${SEEDS} seeds: ${histogram(counts)}`);
  t.diagnostic(`prepare rounds per run: ${histogram(runs.map((r) => r.rounds))}`);
  t.diagnostic(`ticks per run: ${histogram(runs.map((r) => r.ticks))}`);
  assert.ok(Math.max(...counts) <= 3, `at most 3 pre-emptions, got ${Math.max(...counts)}`);
  assert.ok(Math.max(...runs.map((r) => r.rounds)) <= 4, "at most 4 prepare rounds");
  assert.ok(Math.max(...runs.map((r) => r.ticks)) <= 20, "both writes answered within 20 ticks");
});

test("duelling proposers, adversarial network: retrying at once livelocks (100 rounds, nothing chosen); a backoff ends it", () => {
  assert.deepEqual(adversarialDuel(0, 100), { rounds: 100, chosen: false, ticks: 0 });
  const withBackoff = adversarialDuel(4, 100);
  assert.ok(withBackoff.chosen, JSON.stringify(withBackoff));
  assert.ok(withBackoff.rounds <= 4, JSON.stringify(withBackoff));
});
