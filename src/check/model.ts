/**
 * The register model the checker searches with: one key's operations as small integers, the
 * transition function, and the rule for which operations can be dropped from a history soundly.
 */
import { assertNever } from "../util/assert.js";
import type { Operation } from "./history.js";

/** How an operation acts on the register; values are interned per key, ABSENT (0) = no value. */
export const Kind = {
  /** ok get: legal iff state = a. */
  get: 0,
  /** put or delete (ok or unknown): state := a. */
  write: 1,
  /** ok cas that succeeded: legal iff state = a; state := b. */
  casTrue: 2,
  /** ok cas that failed: legal iff state ≠ a. */
  casFalse: 3,
  /** unknown cas: if state = a, state := b (else it would change nothing, so the search leaves it out). */
  casUnknown: 4,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/**
 * One operation of one key, ready for the search. Invariants: `a` and `b` are interned value ids
 * (ABSENT for none); `unknown` exactly when `returnAt` is +∞, and then `kind` is write or casUnknown.
 * `unknown` may be set on an ok operation weakened while building a witness (`weaken`).
 */
export interface Prepared {
  readonly source: Operation;
  readonly kind: Kind;
  readonly a: number;
  readonly b: number;
  readonly invokedAt: number;
  readonly returnAt: number;
  readonly unknown: boolean;
}

export const ABSENT = 0;

/**
 * The register's transition: the state after `p`, or -1 when `p` cannot happen in `state` (for an
 * unknown cas whose comparison fails: it would change nothing, and leaving it out is as good).
 */
export function apply(p: Prepared, state: number): number {
  switch (p.kind) {
    case Kind.get:
      return state === p.a ? state : -1;
    case Kind.write:
      return p.a;
    case Kind.casTrue:
      return state === p.a ? p.b : -1;
    case Kind.casFalse:
      return state !== p.a ? state : -1;
    case Kind.casUnknown:
      return state === p.a ? p.b : -1;
    default:
      return assertNever(p.kind, "kind");
  }
}

/** The value whose presence `p` tests (the result of a get, the expected value of a cas), or -1. */
export function referenced(p: Prepared): number {
  return p.kind === Kind.write ? -1 : p.a;
}

/**
 * One key's operations, sorted by invocation, as the search reads them. Drops what cannot matter:
 * failed operations (never applied), unknown gets (they change nothing and report nothing), and
 * unknown writes that no operation could observe (see `removable`: skipping one is always allowed,
 * and any linearisation that applies one stays a linearisation without it).
 */
export function prepareKey(ops: readonly Operation[]): Prepared[] {
  const ids = new Map<string, number>();
  const intern = (value: string | null): number => {
    if (value === null) return ABSENT;
    let id = ids.get(value);
    if (id === undefined) ids.set(value, (id = ids.size + 1));
    return id;
  };
  const prepared: Prepared[] = [];
  const add = (source: Operation, kind: Kind, a: number, b: number): void => {
    const unknown = source.outcome !== "ok";
    const returnAt = unknown ? Infinity : (source.completedAt as number);
    prepared.push({ source, kind, a, b, invokedAt: source.invokedAt, returnAt, unknown });
  };
  for (const o of ops) {
    if (o.outcome === "fail") continue;
    const known = o.outcome === "ok";
    switch (o.op.type) {
      case "get":
        if (known) add(o, Kind.get, intern(o.result as string | null), 0);
        break;
      case "put":
        add(o, Kind.write, intern(o.op.value), 0);
        break;
      case "delete":
        add(o, Kind.write, ABSENT, 0);
        break;
      case "cas": {
        const kind = !known ? Kind.casUnknown : o.result === true ? Kind.casTrue : Kind.casFalse;
        add(o, kind, intern(o.op.expected), intern(o.op.value));
        break;
      }
      default:
        assertNever(o.op, "operation");
    }
  }
  prepared.sort((x, y) => x.invokedAt - y.invokedAt || x.source.id - y.source.id);
  return prepareUnknownPruned(prepared);
}

/**
 * `ops` without the unknown writes no other operation could observe (see `removable`; the observers
 * of the whole are a superset of those of the rest). Skipping an unknown write is always allowed, so
 * the result is linearizable exactly when `ops` is.
 */
export function prepareUnknownPruned(ops: Prepared[]): Prepared[] {
  const observers = new Observers(ops);
  const useless = ops.filter((p) => p.unknown && !observers.observe(p));
  if (useless.length === 0) return ops;
  const dropped = new Set(useless);
  return ops.filter((p) => !dropped.has(p));
}

/**
 * The operation as an unknown one: it may have taken effect once at any time after its invocation,
 * or never. Undefined for reads, which change nothing: weakening one means dropping it. Each history
 * an operation's weakening allows, the operation allowed already, so weakening keeps violations sound.
 */
export function weaken(p: Prepared): Prepared | undefined {
  switch (p.kind) {
    case Kind.get:
    case Kind.casFalse:
      return undefined;
    case Kind.write:
    case Kind.casUnknown:
      return { ...p, returnAt: Infinity, unknown: true };
    case Kind.casTrue:
      return { ...p, kind: Kind.casUnknown, returnAt: Infinity, unknown: true };
    default:
      return assertNever(p.kind, "kind");
  }
}

function isWriter(p: Prepared): boolean {
  return p.kind === Kind.write || p.kind === Kind.casTrue || p.kind === Kind.casUnknown;
}

function written(p: Prepared): number {
  return p.kind === Kind.write ? p.a : p.b;
}

/**
 * True when dropping `dropped` from a history leaves `rest` such that a linearisation of the whole
 * restricted to `rest` is still a linearisation of `rest`; then `rest` not linearizable implies the
 * whole is not. Read-only operations can always go. A write's effect lasts until the next write: its
 * window holds only operations that may follow it (not completed before it was invoked) and that no
 * ok write of `rest` must separate from it (one invoked after it completed and completed before they
 * were invoked). In that window, only a read of its value, a cas comparing against it, or a failed
 * cas (which its absence could make succeed) could notice it is gone. An unknown cas in the window
 * either matched the write's value, which counts as comparing against it, or did nothing.
 */
export function removable(dropped: readonly Prepared[], rest: readonly Prepared[]): boolean {
  const writers = dropped.filter(isWriter);
  if (writers.length === 0) return true;
  const observers = new Observers(rest);
  return !writers.some((w) => observers.observe(w));
}

/** Answers `removable`'s question for one writer in O(log n). */
class Observers {
  /** Ok writes sorted by invocation, and the earliest return among each one and those after it. */
  readonly #writesInvokedAt: number[] = [];
  readonly #writesReturnMin: number[] = [];
  /** Per tested value (and FAILED_CAS): testers sorted by invocation, and the latest return so far. */
  readonly #testers = new Map<number, { invokedAt: number[]; returnMax: number[] }>();

  constructor(ops: readonly Prepared[]) {
    const writes = ops.filter((o) => !o.unknown && isWriter(o)).sort((x, y) => x.invokedAt - y.invokedAt);
    let min = Infinity;
    for (let i = writes.length - 1; i >= 0; i--) {
      const w = writes[i] as Prepared;
      min = Math.min(min, w.returnAt);
      this.#writesInvokedAt[i] = w.invokedAt;
      this.#writesReturnMin[i] = min;
    }
    const sorted = ops.slice().sort((x, y) => x.invokedAt - y.invokedAt);
    for (const o of sorted) {
      if (o.kind === Kind.casFalse) this.#addTester(FAILED_CAS, o);
      const r = referenced(o);
      if (r >= 0) this.#addTester(r, o);
    }
  }

  #addTester(value: number, o: Prepared): void {
    let t = this.#testers.get(value);
    if (t === undefined) this.#testers.set(value, (t = { invokedAt: [], returnMax: [] }));
    t.returnMax.push(Math.max(t.returnMax[t.returnMax.length - 1] ?? -Infinity, o.returnAt));
    t.invokedAt.push(o.invokedAt);
  }

  /** Whether an operation in writer `w`'s window tests its value or is a failed cas. */
  observe(w: Prepared): boolean {
    if (!isWriter(w)) return false;
    // The window ends before any operation invoked after the earliest-returning separating write.
    const first = firstAbove(this.#writesInvokedAt, w.returnAt);
    const barrier = this.#writesReturnMin[first] ?? Infinity;
    return this.#tested(written(w), w.invokedAt, barrier) || this.#tested(FAILED_CAS, w.invokedAt, barrier);
  }

  /** Whether some tester of `value` returns at or after `from` and is invoked at or before `until`. */
  #tested(value: number, from: number, until: number): boolean {
    const t = this.#testers.get(value);
    if (t === undefined) return false;
    const last = firstAbove(t.invokedAt, until) - 1;
    return last >= 0 && (t.returnMax[last] as number) >= from;
  }
}

/** Stands for "a failed cas" among the tested values (value ids are never negative). */
const FAILED_CAS = -2;

/** The first index of sorted `values` holding a value greater than `x` (values.length if none). */
function firstAbove(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
