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
import { NIL, lift, linkEvents, unlift } from "./event_list.js";
import { ABSENT, Kind, apply, referenced } from "./model.js";
import type { Prepared } from "./model.js";
import { Frames, LinearisedSet, remember, type CacheEntry } from "./search_structures.js";

type SearchOutcome = "linearizable" | "violation" | "budget";

interface SearchResult {
  readonly outcome: SearchOutcome;
  readonly steps: number;
  /**
   * The latest return time at which some partial linearisation got stuck. After a violation, no
   * linearisation of the operations invoked up to then gets past the ok operations returning up to
   * then: operations invoked later never took part in the search.
   */
  readonly furthest: number;
}

interface SearchOptions {
  /** Gives up with "budget" after this many steps (default: never). */
  readonly stepsMax?: number;
  /** The register's value before the first operation (default ABSENT); any id not in use = a value none tests. */
  readonly initial?: number;
}

const NONE: readonly number[] = [];

/** Searches `ops` (sorted by invocation). */
export function search(ops: readonly Prepared[], options: SearchOptions = {}): SearchResult {
  return new KeySearch(ops, options.initial ?? ABSENT).run(options.stepsMax ?? Infinity);
}

/** One search's state: what is linearised so far, and where the search stands (see the header). */
class KeySearch {
  readonly #ops: readonly Prepared[];
  readonly #facts: OpFacts;
  /** How many operations not linearised test each value: 0 makes it dead. */
  readonly #refCount: Int32Array;
  /** Unknown writes of each value linearised (a prefix of them). */
  readonly #consumed: Int32Array;
  readonly #next: Int32Array;
  readonly #prev: Int32Array;
  readonly #head: number;
  readonly #lifted: Uint8Array;
  readonly #linearised: LinearisedSet;
  readonly #cache = new Map<number, CacheEntry[]>();
  readonly #frames: Frames;
  #depth = 0;
  #state: number;
  #context = 0;
  /** Phase 0: position in the event list. */
  #event: number;
  /** Phase 1 when ≥ 0: position in `#unknownList()`. */
  #cursor = -1;
  /** Phase 1: time of the first return left. */
  #returnAt = 0;
  /** Phase 1: the first dead unknown write was already tried. */
  #deadTried = false;

  constructor(ops: readonly Prepared[], initial: number) {
    const n = ops.length;
    this.#ops = ops;
    this.#facts = opFacts(ops);
    const dead = this.#facts.dead;
    this.#refCount = countReferences(ops, dead + 1);
    this.#consumed = new Int32Array(dead + 1);
    const { next, prev, head } = linkEvents(ops, this.#facts.unknown);
    this.#next = next;
    this.#prev = prev;
    this.#head = head;
    this.#lifted = new Uint8Array(n);
    this.#linearised = new LinearisedSet(this.#facts.unknown);
    this.#frames = new Frames(n);
    this.#state = this.#canon(Math.min(initial, dead));
    this.#event = next[head] as number;
  }

  run(stepsMax: number): SearchResult {
    const ops = this.#ops;
    const n = ops.length;
    const next = this.#next;
    let steps = 0;
    let furthest = -Infinity;
    for (;;) {
      if (++steps > stepsMax) return { outcome: "budget", steps, furthest };
      if (this.#cursor < 0) {
        const event = this.#event;
        if (event === NIL) return { outcome: "linearizable", steps, furthest }; // every ok op is in
        if (event >= n) {
          // The first return left: no ok op can go next; try the unknown ones invoked before it.
          this.#returnAt = (ops[event - n] as Prepared).returnAt;
          furthest = Math.max(furthest, this.#returnAt);
          this.#cursor = 0;
          this.#deadTried = false;
          continue;
        }
        this.#event = next[event] as number;
        if (this.#tryLift(event)) this.#event = next[this.#head] as number;
        continue;
      }
      const u = this.#unknownList()[this.#cursor];
      if (u !== undefined && (ops[u] as Prepared).invokedAt <= this.#returnAt) {
        this.#cursor++;
        if (this.#lifted[u] === 0 && this.#representative(u) && this.#tryLift(u)) {
          this.#cursor = -1;
          this.#event = next[this.#head] as number;
        }
        continue;
      }
      if (!this.#backtrack()) return { outcome: "violation", steps, furthest };
    }
  }

  #canon(value: number): number {
    return this.#refCount[value] === 0 ? this.#facts.dead : value;
  }

  #unknownList(): readonly number[] {
    return this.#context > 0 ? (this.#facts.casUnknownByExpected.get(this.#state) ?? NONE) : this.#facts.allUnknown;
  }

  /** Whether unknown op `u` stands for its class of interchangeable unknown writes (see the header). */
  #representative(u: number): boolean {
    if (this.#facts.unknownWrite[u] === 0) return true;
    const value = (this.#ops[u] as Prepared).a;
    if (this.#refCount[value] !== 0) return this.#facts.classPosition[u] === this.#consumed[value];
    if (this.#deadTried) return false;
    this.#deadTried = true;
    return true;
  }

  #tryLift(c: number): boolean {
    const { unknown, unknownWrite, ref } = this.#facts;
    const refCount = this.#refCount;
    const p = this.#ops[c] as Prepared;
    const state = this.#state;
    const after = apply(p, state);
    let nextContext = after >= 0 ? successorContext(p, state, this.#context) : -1;
    if (nextContext < 0) return false;
    const r = ref[c] as number;
    if (r >= 0) refCount[r] = (refCount[r] as number) - 1;
    const canonicalAfter = this.#canon(after);
    if (nextContext > 0) nextContext = this.#canon(nextContext - 1) + 1;
    const pointless = unknown[c] === 1 && canonicalAfter === this.#canon(state);
    this.#linearised.add(c);
    const entry = pointless ? undefined : remember(this.#cache, this.#linearised, canonicalAfter, nextContext);
    if (entry === undefined) {
      this.#linearised.remove(c);
      if (r >= 0) refCount[r] = (refCount[r] as number) + 1;
      return false;
    }
    const cursor = this.#cursor;
    this.#frames.entry[this.#depth] = entry;
    this.#frames.push(this.#depth++, {
      op: c,
      state,
      context: this.#context,
      cursor: cursor < 0 ? -1 : cursor - 1,
      returnAt: this.#returnAt,
      deadTried: this.#deadTried,
    });
    this.#lifted[c] = 1;
    if (unknownWrite[c] === 1) this.#consumed[p.a] = (this.#consumed[p.a] as number) + 1;
    if (unknown[c] === 0) lift(c, this.#ops.length, this.#next, this.#prev);
    this.#state = canonicalAfter;
    this.#context = nextContext;
    return true;
  }

  /** Undoes linearisations until one leaves alternatives; false when none does. */
  #backtrack(): boolean {
    const { unknown, readOnly, unknownWrite, ref } = this.#facts;
    const frames = this.#frames;
    const refCount = this.#refCount;
    let op: number;
    do {
      if (this.#depth === 0) return false;
      const depth = --this.#depth;
      op = frames.op[depth] as number;
      (frames.entry[depth] as CacheEntry).done = true;
      this.#state = frames.state[depth] as number;
      this.#context = frames.context[depth] as number;
      this.#linearised.remove(op);
      this.#lifted[op] = 0;
      const r = ref[op] as number;
      if (r >= 0) refCount[r] = (refCount[r] as number) + 1;
      const p = this.#ops[op] as Prepared;
      if (unknownWrite[op] === 1) this.#consumed[p.a] = (this.#consumed[p.a] as number) - 1;
      if (unknown[op] === 0) unlift(op, this.#ops.length, this.#next, this.#prev);
      // A read linearised as soon as it was legal stood for every alternative at its point.
    } while (readOnly[op] === 1);
    this.#cursor = frames.cursor[this.#depth] as number;
    if (this.#cursor < 0) {
      this.#event = this.#next[op] as number;
    } else {
      this.#cursor++;
      this.#returnAt = frames.returnAt[this.#depth] as number;
      this.#deadTried = frames.deadTried[this.#depth] === 1;
    }
    return true;
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
interface OpFacts {
  readonly unknown: Uint8Array;
  readonly readOnly: Uint8Array;
  readonly unknownWrite: Uint8Array;
  readonly ref: Int32Array;
  /** For an unknown write: how many unknown writes of the same value come before it. */
  readonly classPosition: Int32Array;
  /** A value id no operation uses. */
  readonly dead: number;
  readonly allUnknown: readonly number[];
  readonly casUnknownByExpected: ReadonlyMap<number, readonly number[]>;
}

function opFacts(ops: readonly Prepared[]): OpFacts {
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
      classSizes.set(p.a, classPosition[i] + 1);
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
