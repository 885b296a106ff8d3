import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import {
  createHistogram,
  histogramRelativeErrorMax,
  histogramValueMax,
  mean,
  merge,
  quantile,
  record,
} from "./histogram.js";

const quantiles = [0, 0.001, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1];

/** The rank-⌈q·n⌉ smallest value: the definition the histogram approximates. */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] ?? 0;
}

function checkAgainstExact(values: number[], what: string): void {
  const histogram = createHistogram();
  for (const v of values) record(histogram, v);
  const sorted = [...values].sort((a, b) => a - b);
  for (const q of quantiles) {
    const exact = exactQuantile(sorted, q);
    const approx = quantile(histogram, q);
    const error = exact === 0 ? approx : Math.abs(approx - exact) / exact;
    assert.ok(
      error <= histogramRelativeErrorMax,
      `${what}: q=${q} exact ${exact} approx ${approx} (relative error ${error})`,
    );
    assert.ok(error <= 0.01);
  }
  assert.equal(histogram.count, values.length);
  assert.equal(histogram.min, sorted[0]);
  assert.equal(histogram.max, sorted.at(-1));
  assert.equal(quantile(histogram, 1), sorted.at(-1), "the maximum is exact");
}

test("quantiles of random data are within 1/256 of the exact sorted values", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const prng = new Prng(seed);
    // Log-uniform over 1 µs .. ~100 s: every octave the histogram has gets exercised.
    const logUniform = Array.from({ length: 20_000 }, () => Math.floor(Math.exp(prng.next() * Math.log(1e8))));
    checkAgainstExact(logUniform, `log-uniform seed ${seed}`);
    // A latency-like shape: a tight body around 1-3 ms with a long tail.
    const latencies = Array.from({ length: 20_000 }, () => {
      const body = 1000 + Math.floor(prng.next() * 2000);
      return prng.chance(0.01) ? body * (1 + Math.floor(prng.next() * 500)) : body;
    });
    checkAgainstExact(latencies, `latency-like seed ${seed}`);
    const uniformLarge = Array.from({ length: 5_000 }, () => prng.int(0, 2 ** 30) * 1000);
    checkAgainstExact(uniformLarge, `uniform large seed ${seed}`);
  }
});

test("small values are exact", () => {
  const histogram = createHistogram();
  for (let v = 0; v < 256; v++) record(histogram, v);
  for (let v = 0; v < 256; v++) assert.equal(quantile(histogram, (v + 1) / 256), v);
});

test("empty, single value, huge values and bad input", () => {
  const histogram = createHistogram();
  assert.equal(quantile(histogram, 0.5), 0);
  assert.equal(mean(histogram), 0);
  record(histogram, 123_456);
  for (const q of quantiles) assert.equal(quantile(histogram, q), 123_456, "one value: min = max clamps it exactly");
  record(histogram, histogramValueMax * 4);
  assert.equal(quantile(histogram, 1), histogramValueMax * 4, "beyond valueMax: counted, max exact");
  assert.throws(() => record(histogram, -1), RangeError);
  assert.throws(() => record(histogram, 1.5), RangeError);
  assert.throws(() => quantile(histogram, 1.1), RangeError);
});

test("merge equals recording everything into one", () => {
  const prng = new Prng(9);
  const a = createHistogram();
  const b = createHistogram();
  const all = createHistogram();
  for (let i = 0; i < 10_000; i++) {
    const v = prng.int(0, 10_000_000);
    record(i % 3 === 0 ? a : b, v);
    record(all, v);
  }
  merge(a, b);
  assert.deepEqual([a.count, a.min, a.max, a.sum], [all.count, all.min, all.max, all.sum]);
  for (const q of quantiles) assert.equal(quantile(a, q), quantile(all, q));
  assert.equal(mean(a), all.sum / all.count);
});
