import { binaryString } from "./binary.js";
import type { KeyValue } from "./key_value.js";

/**
 * The keys a range covers: those starting with `prefix` (all keys for an empty one), or those k with
 * `from` ≤ k < `to` (no upper bound without `to`), comparing bytes lexicographically.
 */
export type RangeSpec = { readonly prefix: Uint8Array } | { readonly from: Uint8Array; readonly to?: Uint8Array };

/** Up to `limit` key-values in ascending key order; `more` when the range held others past the last. */
export interface RangeResult {
  readonly kvs: readonly KeyValue[];
  readonly more: boolean;
}

/** The range as binary strings (binary.ts): `from` ≤ k < `to`, with no upper bound when `to` is undefined. */
export function keyBounds(spec: RangeSpec): { readonly from: string; readonly to: string | undefined } {
  if ("prefix" in spec) {
    const from = binaryString(spec.prefix);
    return { from, to: prefixEnd(from) };
  }
  return { from: binaryString(spec.from), to: spec.to === undefined ? undefined : binaryString(spec.to) };
}

/** The least string above every string starting with `prefix` (binary strings), or undefined if none is. */
function prefixEnd(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xff) end--;
  if (end === 0) return undefined;
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
}
