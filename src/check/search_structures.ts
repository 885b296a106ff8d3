/*
 * The search's data structures: the frames it backtracks through, the set of linearised operations
 * (two bitsets and an incremental hash), and the cache of configurations explored (`remember`).
 */

const FULL_WORD = 0xffff_ffff;

/** Where to resume on backtracking, per linearised operation (struct of arrays). */
export class Frames {
  readonly op: Int32Array;
  readonly state: Int32Array;
  readonly context: Int32Array;
  /** -1: lifted in phase 0; else the phase-1 cursor that lifted it. */
  readonly cursor: Int32Array;
  readonly returnAt: Float64Array;
  readonly deadTried: Uint8Array;
  /** The cache entry of the configuration the operation led to, marked done when it is backtracked. */
  readonly entry: CacheEntry[] = [];

  constructor(size: number) {
    this.op = new Int32Array(size);
    this.state = new Int32Array(size);
    this.context = new Int32Array(size);
    this.cursor = new Int32Array(size);
    this.returnAt = new Float64Array(size);
    this.deadTried = new Uint8Array(size);
  }

  push(
    depth: number,
    frame: { op: number; state: number; context: number; cursor: number; returnAt: number; deadTried: boolean },
  ): void {
    this.op[depth] = frame.op;
    this.state[depth] = frame.state;
    this.context[depth] = frame.context;
    this.cursor[depth] = frame.cursor;
    this.returnAt[depth] = frame.returnAt;
    this.deadTried[depth] = frame.deadTried ? 1 : 0;
  }
}

/**
 * A bitset with the bounds `lo` (first word not all ones) and `hi` (one past the last non-zero word).
 * Its members are mostly added in index order, so the words below `lo` are full and those from `hi`
 * on are empty: a cache entry stores only `words[lo, hi)`, a word or two, instead of all of them.
 */
class Bits {
  readonly words: Uint32Array;
  lo = 0;
  hi = 0;

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32) + 1);
  }

  add(i: number): void {
    const w = i >>> 5;
    this.words[w] = (this.words[w] as number) | (1 << (i & 31));
    if (w >= this.hi) this.hi = w + 1;
    while (this.words[this.lo] === FULL_WORD) this.lo++;
  }

  remove(i: number): void {
    const w = i >>> 5;
    this.words[w] = (this.words[w] as number) & ~(1 << (i & 31));
    if (w < this.lo) this.lo = w;
    while (this.hi > 0 && this.words[this.hi - 1] === 0) this.hi--;
  }

  slice(): Uint32Array {
    return this.words.slice(this.lo, Math.max(this.lo, this.hi));
  }

  /** Whether this set holds every member of the set stored as (lo, words). */
  includes(lo: number, words: Uint32Array): boolean {
    if (this.lo < lo) return false; // the stored set is full below lo; this one is not
    for (let k = 0; k < words.length; k++) {
      const mine = this.words[lo + k] as number;
      if (((words[k] as number) & ~mine) !== 0) return false;
    }
    return true;
  }

  /** Whether this set equals the one stored as (lo, words). */
  matches(lo: number, words: Uint32Array): boolean {
    if (lo !== this.lo || words.length !== Math.max(this.lo, this.hi) - this.lo) return false;
    for (let k = 0; k < words.length; k++) {
      if (words[k] !== this.words[lo + k]) return false;
    }
    return true;
  }
}

/**
 * The set of linearised operations, with an incremental (Zobrist) hash of its ok part. Ok and unknown operations
 * live in separate bitsets, each numbered in invocation order: ok operations are linearised roughly
 * in that order, while an unknown one may stay out for ever; sharing one bitset, a single old unknown
 * operation would pin `lo` and make every cache entry as long as the history.
 */
export class LinearisedSet {
  readonly known: Bits;
  readonly unknown: Bits;
  readonly #local: Int32Array;
  readonly #isUnknown: Uint8Array;
  hash = 0;

  constructor(isUnknown: Uint8Array) {
    this.#isUnknown = isUnknown;
    this.#local = new Int32Array(isUnknown.length);
    let known = 0;
    let unknown = 0;
    isUnknown.forEach((u, i) => (this.#local[i] = u === 1 ? unknown++ : known++));
    this.known = new Bits(known);
    this.unknown = new Bits(unknown);
  }

  add(i: number): void {
    if (this.#isUnknown[i] === 1) this.unknown.add(this.#local[i] as number);
    else {
      this.known.add(this.#local[i] as number);
      this.hash ^= zobrist(i);
    }
  }

  remove(i: number): void {
    if (this.#isUnknown[i] === 1) this.unknown.remove(this.#local[i] as number);
    else {
      this.known.remove(this.#local[i] as number);
      this.hash ^= zobrist(i);
    }
  }
}

export interface CacheEntry {
  readonly state: number;
  readonly context: number;
  readonly knownLo: number;
  readonly knownWords: Uint32Array;
  readonly unknownLo: number;
  readonly unknownWords: Uint32Array;
  /** Explored to the end without success. */
  done: boolean;
}

/**
 * Records the configuration (linearised set, state, context) and returns its entry, or undefined when
 * it need not be explored: it was seen before, or a configuration with the same ok operations, state
 * and context but only some of its unknown operations failed. Linearising fewer unknown operations
 * leaves more choices (one never linearised never took effect), so that one is at least as good.
 * Only finished ones count: one still being explored could be an ancestor of this one.
 */
export function remember(
  cache: Map<number, CacheEntry[]>,
  set: LinearisedSet,
  state: number,
  context: number,
): CacheEntry | undefined {
  const key = (set.hash ^ Math.imul(state + 1, 0x9e37_79b1) ^ Math.imul(context + 1, 0x85eb_ca77)) | 0;
  let bucket = cache.get(key);
  if (bucket === undefined) cache.set(key, (bucket = []));
  for (const e of bucket) {
    if (e.state !== state || e.context !== context || !set.known.matches(e.knownLo, e.knownWords)) continue;
    if (set.unknown.matches(e.unknownLo, e.unknownWords)) return undefined;
    if (e.done && set.unknown.includes(e.unknownLo, e.unknownWords)) return undefined;
  }
  const entry: CacheEntry = {
    state,
    context,
    knownLo: set.known.lo,
    knownWords: set.known.slice(),
    unknownLo: set.unknown.lo,
    unknownWords: set.unknown.slice(),
    done: false,
  };
  bucket.push(entry);
  return entry;
}

/** A well-mixed 32-bit value per operation index (murmur3's finaliser). */
function zobrist(i: number): number {
  let z = Math.imul(i + 1, 0x9e37_79b9);
  z = Math.imul(z ^ (z >>> 16), 0x85eb_ca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
  return z ^ (z >>> 16);
}
