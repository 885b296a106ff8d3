import assert from "node:assert/strict";
import { test } from "node:test";
import { logIndex, term } from "../util/ids.js";
import { appendTerms, compactTerms, logTerms, termAt } from "./log_terms.js";
import type { StoredEntry } from "./types.js";

const run = (first: number, last: number, t: number): StoredEntry[] =>
  Array.from({ length: last - first + 1 }, (_, k) => ({
    index: logIndex(first + k),
    term: term(t),
    kind: "normal",
    data: new Uint8Array(),
  }));

test("terms are looked up across runs, overwrites and snapshots", () => {
  const terms = logTerms(undefined, [...run(1, 4, 1), ...run(5, 9, 2), ...run(10, 12, 4)]);
  assert.deepEqual(
    [0, 1, 4, 5, 9, 10, 12, 13].map((i) => termAt(terms, i)),
    [0, 1, 1, 2, 2, 4, 4, undefined],
  );
  appendTerms(terms, run(7, 8, 3));
  assert.deepEqual(
    [6, 7, 8, 9].map((i) => termAt(terms, i)),
    [2, 3, 3, undefined],
  );
  assert.equal(compactTerms(terms, { index: logIndex(6), term: term(2) }), true);
  assert.deepEqual(
    [5, 6, 7, 8].map((i) => termAt(terms, i)),
    [undefined, 2, 3, 3],
  );
  assert.equal(compactTerms(terms, { index: logIndex(8), term: term(9) }), false);
  assert.deepEqual(terms, { offset: 8, offsetTerm: 9, last: 8, runs: [] });
});
