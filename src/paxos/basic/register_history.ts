import { bytesEqual } from "../../util/bytes.js";
import type { Instance, RegisterName } from "./messages.js";
import type { Outcome } from "./state.js";

/*
 * Linearizability of compare-and-set register histories, as clients saw them (the simulator's sweep
 * and the real-process fault test both check theirs here). Every compare-and-set must write a value
 * no other one writes, so each version's writer is known from its value.
 *
 * A register's versions are totally ordered, so a history is linearizable exactly when each version
 * v can be given a moment t(v), increasing with v, such that:
 * - its writer's call spans it: invokedAt ≤ t(v) ≤ answeredAt (no upper bound without an answer);
 * - every read, and every conflict naming a version below the expected one, that answered v was
 *   called before v was replaced and answered after v was written: t(v) ≤ answeredAt < ... and
 *   invokedAt < t(v + 1);
 * - every conflict naming v = expected + 1 answered after v was written: t(v) ≤ answeredAt;
 * and the answers agree: one value per version, a write answered "written v" has its value at v, a
 * conflict's own value is never chosen, and every value a version holds was written by some call.
 * Reads, failed writes and the writers' moments are then ordered by these t's, which is a legal
 * sequential history. The earliest t's that meet the lower bounds are found in one pass up the
 * versions, and checked against the upper bounds.
 */

/** One client call on a register. Times are any increasing clock; equal times are concurrent. */
export interface RegisterOperation {
  readonly register: RegisterName;
  readonly invokedAt: number;
  /** Undefined when the call got no answer (a timeout, a crash): it may or may not have taken effect. */
  readonly answeredAt: number | undefined;
  /** The compare-and-set's expected version and value; undefined for a read. */
  readonly cas: { readonly expected: Instance; readonly value: Uint8Array } | undefined;
  readonly outcome: Outcome | undefined;
}

/** A lower bound on a moment: t ≥ at, or t > at when `open`. */
interface Bound {
  readonly at: number;
  readonly open: boolean;
}

const NONE: Bound = { at: -Infinity, open: false };

function later(a: Bound, b: Bound): Bound {
  if (a.at !== b.at) return a.at > b.at ? a : b;
  return { at: a.at, open: a.open || b.open };
}

/** Returns one line per violation; none means the history is linearizable. */
export function checkRegisterHistory(operations: readonly RegisterOperation[]): string[] {
  const byRegister = new Map<RegisterName, RegisterOperation[]>();
  for (const op of operations) byRegister.set(op.register, [...(byRegister.get(op.register) ?? []), op]);
  return [...byRegister].flatMap(([register, ops]) => checkOne(JSON.stringify(register), ops));
}

function checkOne(where: string, ops: readonly RegisterOperation[]): string[] {
  const out: string[] = [];
  const values = new Map<Instance, Uint8Array>();
  const note = (version: Instance, value: Uint8Array | undefined, op: RegisterOperation): void => {
    if (version === 0) {
      if (value !== undefined) out.push(`${where}: version 0 answered with a value (invoked at ${op.invokedAt})`);
      return;
    }
    const known = values.get(version);
    if (value === undefined) out.push(`${where}: version ${version} answered without a value`);
    else if (known === undefined) values.set(version, value);
    else if (!bytesEqual(known, value)) out.push(`${where}: two values answered for version ${version}`);
  };
  for (const op of ops) {
    const { outcome } = op;
    if (outcome === undefined) continue;
    if (outcome.type === "written") {
      if (op.cas === undefined || outcome.version !== op.cas.expected + 1) {
        out.push(`${where}: written at version ${outcome.version}, not the expected version's successor`);
        continue;
      }
      note(outcome.version, op.cas.value, op);
    } else note(outcome.version, outcome.value, op);
  }
  const top = Math.max(0, ...values.keys());
  const lower = new Map<Instance, Bound>();
  const upper = new Map<Instance, number>();
  const atLeast = (v: Instance, bound: Bound): void => {
    if (v >= 1 && v <= top) lower.set(v, later(lower.get(v) ?? NONE, bound));
  };
  const atMost = (v: Instance, at: number | undefined): void => {
    if (v >= 1 && at !== undefined) upper.set(v, Math.min(upper.get(v) ?? Infinity, at));
  };
  for (const op of ops) {
    const { outcome, cas } = op;
    if (cas !== undefined) {
      const version = [...values].find(([, value]) => bytesEqual(value, cas.value))?.[0];
      if (version !== undefined) {
        if (version !== cas.expected + 1)
          out.push(`${where}: a value expected at ${cas.expected + 1} is version ${version}`);
        if (outcome?.type === "conflict")
          out.push(`${where}: version ${version} holds the value of a call answered conflict`);
        atLeast(version, { at: op.invokedAt, open: false });
        atMost(version, op.answeredAt);
      }
    }
    if (outcome === undefined || outcome.type === "written") continue;
    if (outcome.type === "conflict" && (outcome.version === cas!.expected || outcome.version > cas!.expected + 1)) {
      out.push(`${where}: a conflict from version ${cas!.expected} names version ${outcome.version}`);
    }
    atMost(outcome.version, op.answeredAt);
    const above = outcome.type === "conflict" && outcome.version > cas!.expected;
    if (!above) atLeast(outcome.version + 1, { at: op.invokedAt, open: true });
  }
  for (const version of values.keys()) {
    const writers = ops.filter((op) => op.cas !== undefined && bytesEqual(op.cas.value, values.get(version)!));
    if (writers.length !== 1) out.push(`${where}: version ${version} holds a value written by ${writers.length} calls`);
  }
  let previous = NONE;
  for (let v = 1; v <= top; v++) {
    const bound = later(lower.get(v) ?? NONE, { at: previous.at, open: previous.at !== -Infinity });
    const ceiling = upper.get(v) ?? Infinity;
    if (bound.at > ceiling || (bound.at === ceiling && bound.open)) {
      out.push(`${where}: version ${v} must be written after ${bound.at} and by ${ceiling}: not linearizable`);
    }
    previous = bound;
  }
  return out;
}
