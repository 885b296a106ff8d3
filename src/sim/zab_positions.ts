import type { ZabTypes } from "../engine/zab.js";
import { compareZxid, type Zxid } from "../zab/index.js";

/** Where `z` sits in a member's history (0 for the zxid before every transaction, or one it lacks). */
export function positionOf(view: ZabTypes["view"], z: Zxid): number {
  let low = 1;
  let high = view.lastIndex();
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const order = compareZxid(view.historyEntry(mid)!.zxid, z);
    if (order === 0) return mid;
    if (order < 0) low = mid + 1;
    else high = mid - 1;
  }
  return 0;
}
