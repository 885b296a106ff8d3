/**
 * Shrinking a key's non-linearizable history to a small witness, and explaining it.
 *
 * Every step keeps the witness sound: if the witness is not linearizable, neither is the history.
 * 1. Cut after the point the search got stuck: operations invoked later took no part in the search,
 *    and those still running then are weakened to unknown (reads dropped).
 * 2. On a long history, look for a short window [from, stuck] that is not linearizable whatever the key
 *    held at `from`: operations completed before `from` are dropped, those running across it weakened.
 *    In any linearisation of the history, after the last dropped operation come only window ones, so
 *    a linearizable history would give a linearizable window starting from the state at that point.
 * 3. Delta debugging: drop chunks of halving size, then single operations until nothing more can go,
 *    keeping a drop only when it is sound (`removable`, for everything dropped so far) and what is
 *    left is still a violation.
 * Searches are budgeted; one that runs out counts as "keep".
 */
import { ABSENT, Kind, prepareUnknownPruned, referenced, removable, weaken } from "./model.js";
import type { Prepared } from "./model.js";
import { search } from "./search.js";

export interface Witness {
  /** Sorted by invocation. */
  readonly ops: readonly Prepared[];
  /** The witness holds whatever the key's value at this time; -∞: from the start, when it was absent. */
  readonly from: number;
  /** Operations invoked after this time were left out by the cut (+∞ when none were). */
  readonly until: number;
  /** Ok operations the witness treats as unknown (they overlap an edge of the window). */
  readonly weakened: ReadonlySet<Prepared>;
}

interface WitnessLimits {
  /** Search steps allowed to the whole shrinking. */
  readonly stepsMax: number;
}

/** Histories up to this size are shrunk whole, from their true initial state. */
const WHOLE_MAX = 64;
/** An id no operation uses: the search reads it as a value no operation tests. */
const UNTESTED = 0x3fff_ffff;

/** A small witness for `ops`, which are not linearizable; `stuck` is the search's `furthest`. */
export function findWitness(ops: readonly Prepared[], stuck: number, limits: WitnessLimits): Witness {
  const budget = { left: limits.stepsMax };
  const cut = cutAfter(ops, stuck);
  const result = (part: { ops: readonly Prepared[]; weakened: ReadonlySet<Prepared> }, from: number): Witness => {
    const ops = shrink(part.ops, { from, budget, dropped: cut.dropped });
    return { ops, from, until: cut.until, weakened: new Set(ops.filter((p) => part.weakened.has(p))) };
  };
  if (cut.ops.length <= WHOLE_MAX) return result(cut, -Infinity);
  for (let size = 16; size < cut.ops.length && budget.left > 0; size *= 2) {
    const from = (cut.ops[cut.ops.length - size] as Prepared).invokedAt;
    const window = windowFrom(cut, from);
    if (violates(window.ops, { from, budget })) return result(window, from);
  }
  return result(cut, -Infinity);
}

/**
 * Step 1: the operations invoked by `stuck`. Those still running then are weakened, unless dropping
 * the later ones is sound without that (`removable`).
 */
export function cutAfter(
  ops: readonly Prepared[],
  stuck: number,
): { ops: Prepared[]; weakened: Set<Prepared>; until: number; dropped: Prepared[] } {
  const prefix = ops.filter((p) => p.invokedAt <= stuck);
  const suffix = ops.filter((p) => p.invokedAt > stuck);
  if (suffix.length === 0) return { ops: prefix, weakened: new Set(), until: Infinity, dropped: [] };
  if (removable(suffix, prefix)) return { ops: prefix, weakened: new Set(), until: stuck, dropped: suffix };
  const kept: Prepared[] = [];
  const weakened = new Set<Prepared>();
  for (const p of prefix) {
    if (p.unknown || p.returnAt <= stuck) {
      kept.push(p);
      continue;
    }
    const weak = weaken(p);
    if (weak === undefined) continue;
    kept.push(weak);
    weakened.add(weak);
  }
  return { ops: kept, weakened, until: stuck, dropped: [] };
}

/**
 * Step 2: the operations of `cut` not completed before `from`, those invoked before it weakened,
 * without the unknown writes nothing left could observe.
 */
export function windowFrom(
  cut: { ops: readonly Prepared[]; weakened: ReadonlySet<Prepared>; until: number },
  from: number,
): { ops: Prepared[]; weakened: Set<Prepared>; until: number } {
  const kept: Prepared[] = [];
  const weakened = new Set<Prepared>();
  for (const p of cut.ops) {
    if (p.unknown || p.invokedAt >= from) {
      kept.push(p);
      if (cut.weakened.has(p)) weakened.add(p);
    } else if (p.returnAt >= from) {
      const weak = weaken(p);
      if (weak === undefined) continue;
      kept.push(weak);
      weakened.add(weak);
    }
  }
  const pruned = prepareUnknownPruned(kept);
  return { ops: pruned, weakened: new Set(pruned.filter((p) => weakened.has(p))), until: cut.until };
}

/**
 * Whether `ops` is not linearizable: from the absent state when `from` is -∞, else from every state
 * (every value some operation tests, and one none does, which stands for all the others).
 */
export function violates(ops: readonly Prepared[], options: { from: number; budget: { left: number } }): boolean {
  const initials = new Set<number>([ABSENT]);
  if (options.from !== -Infinity) {
    initials.add(UNTESTED);
    for (const p of ops) if (referenced(p) >= 0) initials.add(referenced(p));
  }
  for (const initial of initials) {
    if (options.budget.left <= 0) return false;
    const result = search(ops, { stepsMax: options.budget.left, initial });
    options.budget.left -= result.steps;
    if (result.outcome !== "violation") return false;
  }
  return true;
}

/**
 * For readable witnesses: a value some operation of `rest` reads or compares against keeps one of
 * its writers from `current`, if `current` had one. (Dropping the writer can be sound, when a later
 * write separates it from the read, but the witness would then show a read of a value nobody wrote.)
 */
function keepsWriters(rest: readonly Prepared[], current: readonly Prepared[]): boolean {
  const writtenIn = (ops: readonly Prepared[]): Set<number> => {
    const values = new Set<number>();
    for (const p of ops) if (writes(p) >= 0) values.add(writes(p));
    return values;
  };
  const before = writtenIn(current);
  const after = writtenIn(rest);
  return rest.every((p) => {
    const r = referenced(p);
    return r === ABSENT || r < 0 || !before.has(r) || after.has(r);
  });
}

/** The value `p` may write, or -1. */
function writes(p: Prepared): number {
  if (p.kind === Kind.write) return p.a;
  return p.kind === Kind.casTrue || p.kind === Kind.casUnknown ? p.b : -1;
}

/**
 * Step 3: delta debugging over `ops`, a violation. `dropped` (operations already left out on the
 * strength of `removable`) is checked again with each drop, against what is left then: so the final
 * witness alone justifies every drop, and never relies on an operation it no longer shows.
 */
function shrink(
  ops: readonly Prepared[],
  options: { from: number; budget: { left: number }; dropped: readonly Prepared[] },
): Prepared[] {
  let current = ops.slice();
  let dropped = options.dropped.slice();
  let chunk = 1;
  while (chunk * 2 <= current.length / 2) chunk *= 2;
  for (;;) {
    let changed = false;
    for (let start = 0; start < current.length && options.budget.left > 0;) {
      const end = Math.min(start + chunk, current.length);
      const rest = current.slice(0, start).concat(current.slice(end));
      const more = dropped.concat(current.slice(start, end));
      if (removable(more, rest) && keepsWriters(rest, current) && violates(rest, options)) {
        current = rest;
        dropped = more;
        changed = true;
      } else {
        start = end;
      }
    }
    if (options.budget.left <= 0) break;
    if (chunk > 1) chunk = Math.max(1, chunk >> 1);
    else if (!changed) break;
  }
  return current;
}
