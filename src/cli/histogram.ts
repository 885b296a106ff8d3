/**
 * A log-linear (HDR-style) histogram of non-negative integers, e.g. latencies in microseconds.
 *
 * Values below 2^precisionBits are counted exactly. Above, each power-of-two range [2^k, 2^(k+1)) is
 * split into 2^(precisionBits-1) equal buckets, so a bucket is never wider than 2^-(precisionBits-1)
 * of its lowest value; reporting a bucket's midpoint bounds the relative error of every quantile by
 * 2^-precisionBits (1/256 ≈ 0.4% here). Memory is fixed: one counter per bucket up to `valueMax`;
 * larger values land in the top bucket, and min/max are kept exactly.
 */

const precisionBits = 8;
const exactBelow = 2 ** precisionBits; // 256: values below are their own bucket
const subBuckets = exactBelow / 2; // 128 buckets per power of two above that

/** Values above this (2^40 µs ≈ 12.7 days) are counted in the top bucket. */
export const histogramValueMax = 2 ** 40;

/** The largest relative error a quantile can have: half a bucket over the bucket's lowest value. */
export const histogramRelativeErrorMax = 1 / exactBelow;

export interface Histogram {
  /** counts[i] is the number of values in bucket i (see bucketOf). */
  readonly counts: Float64Array;
  count: number;
  /** Exact; +Infinity while empty. */
  min: number;
  /** Exact; 0 while empty. */
  max: number;
  sum: number;
}

export function createHistogram(): Histogram {
  return { counts: new Float64Array(bucketOf(histogramValueMax) + 1), count: 0, min: Infinity, max: 0, sum: 0 };
}

/** Number of bits needed for v (0 for 0), for v up to 2^53. */
function bitLength(v: number): number {
  if (v < 0x1_0000_0000) return 32 - Math.clz32(v);
  return 64 - Math.clz32(Math.floor(v / 0x1_0000_0000));
}

function bucketOf(value: number): number {
  if (value < exactBelow) return value;
  const shift = bitLength(value) - precisionBits;
  return shift * subBuckets + Math.floor(value / 2 ** shift);
}

/** The smallest value of bucket i and the bucket's width. */
function bucketRange(index: number): { lowest: number; width: number } {
  if (index < exactBelow) return { lowest: index, width: 1 };
  const shift = Math.floor(index / subBuckets) - 1;
  return { lowest: (index - shift * subBuckets) * 2 ** shift, width: 2 ** shift };
}

export function record(histogram: Histogram, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`a histogram value must be a non-negative integer, got ${value}`);
  const index = bucketOf(Math.min(value, histogramValueMax));
  histogram.counts[index] = (histogram.counts[index] ?? 0) + 1;
  histogram.count++;
  histogram.sum += value;
  if (value < histogram.min) histogram.min = value;
  if (value > histogram.max) histogram.max = value;
}

/** Adds `from`'s values into `into`. */
export function merge(into: Histogram, from: Histogram): void {
  for (let i = 0; i < from.counts.length; i++) into.counts[i] = (into.counts[i] ?? 0) + (from.counts[i] ?? 0);
  into.count += from.count;
  into.sum += from.sum;
  into.min = Math.min(into.min, from.min);
  into.max = Math.max(into.max, from.max);
}

/**
 * The value at quantile q ∈ [0, 1]: the rank-⌈q·count⌉ smallest value (the minimum for q = 0), to
 * within {@link histogramRelativeErrorMax}; the lowest and highest ranks are exact. 0 when empty.
 */
export function quantile(histogram: Histogram, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`a quantile is in [0, 1], got ${q}`);
  if (histogram.count === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * histogram.count));
  if (rank === 1) return histogram.min;
  if (rank === histogram.count) return histogram.max;
  let seen = 0;
  for (let i = 0; i < histogram.counts.length; i++) {
    seen += histogram.counts[i] ?? 0;
    if (seen >= rank) {
      const { lowest, width } = bucketRange(i);
      return Math.min(histogram.max, Math.max(histogram.min, lowest + (width - 1) / 2));
    }
  }
  return histogram.max;
}

export function mean(histogram: Histogram): number {
  return histogram.count === 0 ? 0 : histogram.sum / histogram.count;
}
