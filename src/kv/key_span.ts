import { binaryString } from "./binary.js";
import { keyBounds, type RangeSpec } from "./key_range.js";

/** Keys k with `from` ≤ k < `to` as binary strings (binary.ts); no upper bound when `to` is undefined. */
export interface KeySpan {
  readonly from: string;
  readonly to: string | undefined;
}

/** The span of exactly one key: the next larger string is the key with a zero byte appended. */
export function keySpan(key: Uint8Array | string): KeySpan {
  const from = typeof key === "string" ? key : binaryString(key);
  return { from, to: from + "\u0000" };
}

/** The span of a range (key_range.ts). */
export function rangeSpan(spec: RangeSpec): KeySpan {
  return keyBounds(spec);
}

/**
 * Whether the union of `spans` holds every key of `want`: a request for a range needs permissions
 * covering the whole range, though several may share the work (etcd merges them the same way).
 */
export function covered(spans: readonly KeySpan[], want: KeySpan): boolean {
  if (want.to !== undefined && want.to <= want.from) return true;
  const sorted = [...spans].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  let reached = want.from;
  for (const span of sorted) {
    if (span.from > reached) break;
    if (span.to === undefined) return true;
    if (span.to > reached) reached = span.to;
    if (want.to !== undefined && reached >= want.to) return true;
  }
  return false;
}
