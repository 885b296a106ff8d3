/**
 * The keys a watch covers, as binary strings (one char per byte, see src/kv/binary.ts): one key,
 * every key starting with `prefix` (all keys for ""), or those k with `from` ≤ k < `to` (no upper
 * bound without `to`).
 */
import { binaryBytes } from "../kv/binary.js";
import { keySpan, rangeSpan, type KeySpan } from "../kv/index.js";
export type WatchRange =
  { readonly key: string } | { readonly prefix: string } | { readonly from: string; readonly to?: string };

/** Whether `range` covers `key`. */
export function rangeHolds(range: WatchRange, key: string): boolean {
  if ("key" in range) return key === range.key;
  if ("prefix" in range) return key.startsWith(range.prefix);
  return key >= range.from && (range.to === undefined || key < range.to);
}

/**
 * Finds the watchers whose range covers a key without looking at the others: exact-key watchers by
 * the key, prefix watchers by each of the key's prefixes whose length some watcher uses, and only
 * the from/to watchers (rare in practice) one by one. So thousands of watchers of distinct keys cost
 * a map lookup or two per event, not a pass over them all.
 */
export class WatcherIndex<W extends { readonly range: WatchRange }> {
  readonly #byKey = new Map<string, Set<W>>();
  readonly #byPrefix = new Map<string, Set<W>>();
  /** length → how many distinct prefixes of that length are watched. */
  readonly #prefixLengths = new Map<number, number>();
  readonly #ranges = new Set<W>();

  add(watcher: W): void {
    const range = watcher.range;
    if ("key" in range) addTo(this.#byKey, range.key, watcher);
    else if ("prefix" in range) {
      if (addTo(this.#byPrefix, range.prefix, watcher)) {
        const length = range.prefix.length;
        this.#prefixLengths.set(length, (this.#prefixLengths.get(length) ?? 0) + 1);
      }
    } else this.#ranges.add(watcher);
  }

  remove(watcher: W): void {
    const range = watcher.range;
    if ("key" in range) removeFrom(this.#byKey, range.key, watcher);
    else if ("prefix" in range) {
      if (removeFrom(this.#byPrefix, range.prefix, watcher)) {
        const length = range.prefix.length;
        const left = this.#prefixLengths.get(length)! - 1;
        if (left === 0) this.#prefixLengths.delete(length);
        else this.#prefixLengths.set(length, left);
      }
    } else this.#ranges.delete(watcher);
  }

  /** Calls `visit` once for each watcher whose range covers `key`. */
  forEachCovering(key: string, visit: (watcher: W) => void): void {
    this.#byKey.get(key)?.forEach(visit);
    for (const length of this.#prefixLengths.keys()) {
      if (length <= key.length) this.#byPrefix.get(key.slice(0, length))?.forEach(visit);
    }
    for (const watcher of this.#ranges) if (rangeHolds(watcher.range, key)) visit(watcher);
  }
}

/** Adds `watcher` under `name`; true when it is the first there. */
function addTo<W>(map: Map<string, Set<W>>, name: string, watcher: W): boolean {
  const set = map.get(name);
  if (set !== undefined) {
    set.add(watcher);
    return false;
  }
  map.set(name, new Set([watcher]));
  return true;
}

/** Removes `watcher` from under `name`; true when none is left there. */
function removeFrom<W>(map: Map<string, Set<W>>, name: string, watcher: W): boolean {
  const set = map.get(name);
  if (set?.delete(watcher) !== true) return false;
  if (set.size > 0) return false;
  map.delete(name);
  return true;
}

/** The keys `range` covers as a permission span, which auth checks a watch against (docs/auth.md). */
export function watchRangeSpan(range: WatchRange): KeySpan {
  if ("key" in range) return keySpan(range.key);
  if ("prefix" in range) return rangeSpan({ prefix: binaryBytes(range.prefix) });
  return { from: range.from, to: range.to };
}
