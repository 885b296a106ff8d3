/**
 * The search for one key: Wing & Gong's algorithm with Lowe's memoisation, as in Knossos and
 * Porcupine's checkSingle. The ok operations' call and return events sit in a doubly linked list
 * sorted by time; an operation is a candidate while its call comes before the first return left.
 * Linearising one ("lift") unlinks its call and return; when no candidate can go, the search
 * backtracks ("unlift") the last one and tries the next. A cache of the configurations already
 * explored keeps it from exploring one twice.
 *
 * Unknown operations are optional and return at +∞, so they stay out of the list:
 * - the search succeeds once every ok operation is linearised (the unknown ones left never took effect);
 * - it tries unknown operations invoked before the first return left only when no ok operation can go
 *   next ("phase" 1), and never one that would change nothing;
 * - it never lets an unknown operation's effect be overwritten unobserved (`successorContext`), and
 *   while one is unobserved, only unknown cas operations comparing against its value may follow;
 * - of unknown writes that are interchangeable from here on (same value, or values no operation left
 *   tests: "dead"), it tries only the first.
 * Without these, a history with many pending unknown writes is explored once per subset of them.
 *
 * Two more cuts keep real histories near linear:
 * - a read (get, failed cas) is linearised as soon as it is legal, without trying alternatives: one that
 *   changes no state and is legal now can move to now in any linearisation, as everything that must
 *   precede it already has (it is a candidate);
 * - a dead value is replaced by one DEAD value: no operation left can tell dead values apart, so
 *   configurations that differ only by which dead value the register holds are one.
 * Configuration = (linearised set, state, context). The cache also skips a configuration when one with
 * the same ok operations, state and context but a subset of its unknown operations was explored to
 * the end and failed (`remember`). Each cut above keeps the search exact: what it skips, something
 * explored instead can do as well (random histories are checked against brute force in the tests).
 */
import { assert } from "../util/assert.js";
import { ABSENT, Kind, apply, referenced } from "./model.js";
import type { Prepared } from "./model.js";

export type SearchOutcome = "linearizable" | "violation" | "budget";

export interface SearchResult {
  readonly outcome: SearchOutcome;
  readonly steps: number;
  /**
   * The latest return time at which some partial linearisation got stuck. After a violation, no
   * linearisation of the operations invoked up to then gets past the ok operations returning up to
   * then: operations invoked later never took part in the search.
   */
  readonly furthest: number;
}

export interface SearchOptions {
  /** Gives up with "budget" after this many steps (default: never). */
  readonly stepsMax?: number;
  /** The register's value before the first operation (default ABSENT); any id not in use = a value none tests. */
  readonly initial?: number;
}

const NIL = -1;
const FULL_WORD = 0xffff_ffff;
const NONE: readonly number[] = [];

/** Searches `ops` (sorted by invocation). */
export function search(ops: readonly Prepared[], options: SearchOptions = {}): SearchResult {
  const stepsMax = options.stepsMax ?? Infinity;
  const n = ops.length;
  const facts = opFacts(ops);
  const { unknown, readOnly, unknownWrite, ref, classPosition, dead: DEAD } = facts;
  const refCount = countReferences(ops, DEAD + 1);
  const consumed = new Int32Array(DEAD + 1); // unknown writes of each value linearised (a prefix of them)
  const list = linkEvents(ops, unknown);
  const { next, prev, head } = list;
  const lifted = new Uint8Array(n);
  const linearised = new LinearisedSet(unknown);
  const cache = new Map<number, CacheEntry[]>();
  const frames = new Frames(n);
  const canon = (value: number): number => (refCount[value] === 0 ? DEAD : value);

  let depth = 0;
  let state = canon(Math.min(options.initial ?? ABSENT, DEAD));
  let context = 0;
  let event = next[head] as number; // phase 0: position in the list
  let cursor = -1; // phase 1 when ≥ 0: position in `unknownList()`
  let returnAt = 0; // phase 1: time of the first return left
  let deadTried = false; // phase 1: the first dead unknown write was already tried
  const unknownList = (): readonly number[] =>
    context > 0 ? (facts.casUnknownByExpected.get(state) ?? NONE) : facts.allUnknown;

  /** Whether unknown op `u` stands for its class of interchangeable unknown writes (see the header). */
  const representative = (u: number): boolean => {
    if (unknownWrite[u] === 0) return true;
    const value = (ops[u] as Prepared).a;
    if (refCount[value] !== 0) return classPosition[u] === consumed[value];
    if (deadTried) return false;
    deadTried = true;
    return true;
  };

  const tryLift = (c: number): boolean => {
    const p = ops[c] as Prepared;
    const after = apply(p, state);
    let nextContext = after >= 0 ? successorContext(p, state, context) : -1;
    if (nextContext < 0) return false;
    const r = ref[c] as number;
    if (r >= 0) refCount[r] = (refCount[r] as number) - 1;
    const canonicalAfter = canon(after);
    if (nextContext > 0) nextContext = canon(nextContext - 1) + 1;
    const pointless = unknown[c] === 1 && canonicalAfter === canon(state);
    linearised.add(c);
    const entry = pointless ? undefined : remember(cache, linearised, canonicalAfter, nextContext);
    if (entry === undefined) {
      linearised.remove(c);
      if (r >= 0) refCount[r] = (refCount[r] as number) + 1;
      return false;
    }
    frames.entry[depth] = entry;
    frames.push(depth++, { op: c, state, context, cursor: cursor < 0 ? -1 : cursor - 1, returnAt, deadTried });
    lifted[c] = 1;
    if (unknownWrite[c] === 1) consumed[p.a] = (consumed[p.a] as number) + 1;
    if (unknown[c] === 0) lift(c, n, next, prev);
    state = canonicalAfter;
    context = nextContext;
    return true;
  };

  /** Undoes linearisations until one leaves alternatives; false when none does. */
  const backtrack = (): boolean => {
    let op: number;
    do {
      if (depth === 0) return false;
      op = frames.op[--depth] as number;
      (frames.entry[depth] as CacheEntry).done = true;
      state = frames.state[depth] as number;
      context = frames.context[depth] as number;
      linearised.remove(op);
      lifted[op] = 0;
      const r = ref[op] as number;
      if (r >= 0) refCount[r] = (refCount[r] as number) + 1;
      const p = ops[op] as Prepared;
      if (unknownWrite[op] === 1) consumed[p.a] = (consumed[p.a] as number) - 1;
      if (unknown[op] === 0) unlift(op, n, next, prev);
      // A read linearised as soon as it was legal stood for every alternative at its point.
    } while (readOnly[op] === 1);
    cursor = frames.cursor[depth] as number;
    if (cursor < 0) {
      event = next[op] as number;
    } else {
      cursor++;
      returnAt = frames.returnAt[depth] as number;
      deadTried = frames.deadTried[depth] === 1;
    }
    return true;
  };

  let steps = 0;
  let furthest = -Infinity;
  for (;;) {
    if (++steps > stepsMax) return { outcome: "budget", steps, furthest };
    if (cursor < 0) {
      if (event === NIL) return { outcome: "linearizable", steps, furthest }; // every ok op is in
      if (event >= n) {
        // The first return left: no ok op can go next; try the unknown ones invoked before it.
        returnAt = (ops[event - n] as Prepared).returnAt;
        furthest = Math.max(furthest, returnAt);
        cursor = 0;
        deadTried = false;
        continue;
      }
      const candidate = event;
      event = next[event] as number;
      if (tryLift(candidate)) event = next[head] as number;
      continue;
    }
    const u = unknownList()[cursor];
    if (u !== undefined && (ops[u] as Prepared).invokedAt <= returnAt) {
      cursor++;
      if (lifted[u] === 0 && representative(u) && tryLift(u)) {
        cursor = -1;
        event = next[head] as number;
      }
      continue;
    }
    if (!backtrack()) return { outcome: "violation", steps, furthest };
  }
}

/**
 * The search's context after linearising `p` in `state`, or -1 to skip `p` there. The context is 0,
 * or s + 1 while the last unknown operation linearised (X) has not been observed: every operation
 * since X would also have been legal, with the same effect, in the state s it found. If `p` is then
 * a blind write (put, delete), X changed nothing anyone saw before being overwritten: dropping X
 * from the linearisation leaves a valid one (X is unknown, so may never have taken effect), which the
 * search explores anyway, so this one is skipped. X is observed by an operation illegal in s (a read
 * of X's value, a cas comparing against it, a failed cas against s).
 */
function successorContext(p: Prepared, state: number, context: number): number {
  let open = context > 0;
  if (open) {
    if (p.kind === Kind.write) return -1;
    // Observed, or X's effect is overwritten by a cas that would have succeeded in s too.
    if (apply(p, context - 1) < 0 || p.kind === Kind.casTrue || p.kind === Kind.casUnknown) open = false;
  }
  if (p.unknown) return state + 1;
  return open ? context : 0;
}

/** Per-operation facts the search reads in its inner loop, as typed arrays. */
function opFacts(ops: readonly Prepared[]): {
  unknown: Uint8Array;
  readOnly: Uint8Array;
  unknownWrite: Uint8Array;
  ref: Int32Array;
  /** For an unknown write: how many unknown writes of the same value come before it. */
  classPosition: Int32Array;
  /** A value id no operation uses. */
  dead: number;
  allUnknown: number[];
  casUnknownByExpected: Map<number, number[]>;
} {
  const n = ops.length;
  const unknown = new Uint8Array(n);
  const readOnly = new Uint8Array(n);
  const unknownWrite = new Uint8Array(n);
  const ref = new Int32Array(n);
  const classPosition = new Int32Array(n);
  const classSizes = new Map<number, number>();
  const allUnknown: number[] = [];
  const casUnknownByExpected = new Map<number, number[]>();
  let dead = ABSENT + 1;
  ops.forEach((p, i) => {
    dead = Math.max(dead, p.a + 1, p.b + 1);
    ref[i] = referenced(p);
    readOnly[i] = p.kind === Kind.get || p.kind === Kind.casFalse ? 1 : 0;
    if (!p.unknown) return;
    unknown[i] = 1;
    allUnknown.push(i);
    if (p.kind === Kind.write) {
      unknownWrite[i] = 1;
      classPosition[i] = classSizes.get(p.a) ?? 0;
      classSizes.set(p.a, (classPosition[i] as number) + 1);
    } else {
      assert(p.kind === Kind.casUnknown, "an unknown operation is a write or a cas");
      const list = casUnknownByExpected.get(p.a);
      if (list === undefined) casUnknownByExpected.set(p.a, [i]);
      else list.push(i);
    }
  });
  return { unknown, readOnly, unknownWrite, ref, classPosition, dead, allUnknown, casUnknownByExpected };
}

/** How many operations test each value. */
function countReferences(ops: readonly Prepared[], values: number): Int32Array {
  const counts = new Int32Array(values);
  for (const p of ops) {
    const r = referenced(p);
    if (r >= 0) counts[r] = (counts[r] as number) + 1;
  }
  return counts;
}

/** Where to resume on backtracking, per linearised operation (struct of arrays). */
class Frames {
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
 * The events of the ok operations sorted by time, calls before returns at equal times (equal times
 * overlap): event i < n is the call of op i, n + i its return, and `head` (2n) starts the list.
 */
function linkEvents(
  ops: readonly Prepared[],
  unknown: Uint8Array,
): { next: Int32Array; prev: Int32Array; head: number } {
  const n = ops.length;
  const head = 2 * n;
  const next = new Int32Array(2 * n + 1);
  const prev = new Int32Array(2 * n + 1);
  const time = (e: number): number => (e < n ? (ops[e] as Prepared).invokedAt : (ops[e - n] as Prepared).returnAt);
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (unknown[i] === 0) order.push(i, n + i);
  order.sort((x, y) => time(x) - time(y) || (x < n ? 0 : 1) - (y < n ? 0 : 1) || x - y);
  let last = head;
  for (const e of order) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  next[last] = NIL;
  prev[head] = NIL;
  return { next, prev, head };
}

/** Unlinks call `e` and its return (dancing links: their own pointers stay for `unlift`). */
function lift(e: number, n: number, next: Int32Array, prev: Int32Array): void {
  const r = e + n;
  next[prev[e] as number] = next[e] as number;
  prev[next[e] as number] = prev[e] as number;
  const after = next[r] as number;
  next[prev[r] as number] = after;
  if (after !== NIL) prev[after] = prev[r] as number;
}

/** Undoes the matching `lift` (the most recent one still in effect). */
function unlift(e: number, n: number, next: Int32Array, prev: Int32Array): void {
  const r = e + n;
  const after = next[r] as number;
  next[prev[r] as number] = r;
  if (after !== NIL) prev[after] = r;
  next[prev[e] as number] = e;
  prev[next[e] as number] = e;
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
class LinearisedSet {
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

interface CacheEntry {
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
function remember(
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
