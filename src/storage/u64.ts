/*
 * u64 fields for indexes and terms. They hold numbers up to Number.MAX_SAFE_INTEGER (2^53 - 1), so a
 * DataView's two u32 halves suffice and no BigInt is ever created on the write path.
 */
const twoTo32 = 0x1_0000_0000;

export function setU64(view: DataView, at: number, n: number): void {
  view.setUint32(at, n >>> 0, true);
  view.setUint32(at + 4, Math.floor(n / twoTo32), true);
}

/** The u64 at `at`, or undefined above Number.MAX_SAFE_INTEGER (which this code never writes). */
export function getU64(view: DataView, at: number): number | undefined {
  const high = view.getUint32(at + 4, true);
  if (high > 0x1f_ffff) return undefined;
  return high * twoTo32 + view.getUint32(at, true);
}
