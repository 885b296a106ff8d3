/**
 * Linearizability checker for key-value histories.
 *
 * A register per key is P-compositional (Herlihy & Wing): a history is linearizable iff each key's
 * sub-history is, so keys are checked one by one (`search.ts`: Wing & Gong with Lowe's memoisation).
 * On a violation, the failing key's history is shrunk to a small witness that still fails (`witness.ts`).
 */
import { describeOperation, showValue, validateOperation } from "./history.js";
import type { History, Operation } from "./history.js";
import { prepareKey } from "./model.js";
import { search } from "./search.js";
import { findWitness } from "./witness.js";
import type { Witness } from "./witness.js";

interface CheckOk {
  readonly ok: true;
  /** Keys checked. */
  readonly keys: number;
  /** Operations in the history, of every outcome. */
  readonly operations: number;
  /** Search steps taken; a machine-independent measure of the work done. */
  readonly steps: number;
}

export interface CheckViolation {
  readonly ok: false;
  /** The first key (in order of first appearance) whose sub-history is not linearizable. */
  readonly key: string;
  /**
   * A small subset of that key's operations, sorted by invocation, that is not linearizable by itself
   * (from the key absent, as recorded) and whose violation implies the whole history's. Not always the
   * smallest; on long histories it may hold whatever value the key had at `witnessFrom`.
   */
  readonly witness: Operation[];
  /** -∞, or the time from which the witness holds whatever value the key had then. */
  readonly witnessFrom: number;
  /** Ok operations of the witness it treats as unknown: they overlap an edge of its window. */
  readonly weakened: Operation[];
  /** Human-readable: the witness with times and results, and a hint when one is obvious. */
  readonly explanation: string;
  readonly steps: number;
}

export type CheckResult = CheckOk | CheckViolation;

interface CheckOptions {
  /** Search steps allowed to shrinking the witness (default 4 000 000); the check itself is never cut short. */
  readonly witnessStepsMax?: number;
}

/** Checks every key of `history`; stops at the first key that is not linearizable. */
export function checkHistory(history: History, options: CheckOptions = {}): CheckResult {
  const byKey = new Map<string, Operation[]>();
  for (const o of history) {
    validateOperation(o);
    let list = byKey.get(o.key);
    if (list === undefined) byKey.set(o.key, (list = []));
    list.push(o);
  }
  let steps = 0;
  for (const [key, ops] of byKey) {
    const prepared = prepareKey(ops);
    const result = search(prepared);
    steps += result.steps;
    if (result.outcome === "violation") {
      const found = findWitness(prepared, result.furthest, { stepsMax: options.witnessStepsMax ?? 4_000_000 });
      const witness = found.ops.map((p) => p.source);
      const weakened = found.ops.filter((p) => found.weakened.has(p)).map((p) => p.source);
      const explanation = explain(key, found, ops);
      return { ok: false, key, witness, witnessFrom: found.from, weakened, explanation, steps };
    }
  }
  return { ok: true, keys: byKey.size, operations: history.length, steps };
}

/** Operations listed in an explanation; the rest are counted. */
const LISTED_MAX = 60;

function explain(key: string, found: Witness, all: readonly Operation[]): string {
  const n = found.ops.length;
  const edges = [
    ...(found.from === -Infinity ? [] : [`whatever value the key held at time ${found.from}`]),
    ...(found.until === Infinity
      ? []
      : [`ignoring operations invoked after time ${found.until} (they cannot precede those completed by then)`]),
  ];
  const lines = [
    `key ${JSON.stringify(key)} is not linearizable: no order of these ${n} operation(s) that respects real ` +
      `time explains their results${edges.length === 0 ? "" : `, ${edges.join(", ")}`}; the key's other ` +
      "operations cannot change that",
    "(times are [invoked, completed]; an unknown operation may take effect once at any time after its invocation, " +
      "or never" +
      (found.weakened.size === 0 ? "" : "; one marked * is taken as unknown, as it overlaps an edge of the window") +
      "):",
    ...found.ops
      .slice(0, LISTED_MAX)
      .map((p) => `  ${describeOperation(p.source)}${found.weakened.has(p) ? " *" : ""}`),
  ];
  if (n > LISTED_MAX) lines.push(`  ... and ${n - LISTED_MAX} more`);
  const inWitness = new Set(found.ops.map((p) => p.source));
  for (const { source: o } of found.ops) {
    if (o.outcome !== "ok") continue;
    if (o.op.type === "get" && o.result !== null) lines.push(...writersHint(o, o.result as string, { all, inWitness }));
    if (o.op.type === "cas" && o.result === true && o.op.expected !== null) {
      lines.push(...writersHint(o, o.op.expected, { all, inWitness }));
    }
  }
  return lines.join("\n");
}

/** For an operation that saw `value` written by no operation of the witness: who wrote it, if anyone. */
function writersHint(
  o: Operation,
  value: string,
  context: { all: readonly Operation[]; inWitness: ReadonlySet<Operation> },
): string[] {
  const writers = context.all.filter(
    (w) =>
      w.outcome !== "fail" &&
      (w.op.type === "put" || (w.op.type === "cas" && w.result !== false)) &&
      w.op.value === value,
  );
  if (writers.some((w) => context.inWitness.has(w))) return [];
  const seen = o.op.type === "get" ? "read" : "succeeded against";
  if (writers.length === 0) return [`#${o.id} ${seen} ${showValue(value)}, which no operation on this key wrote.`];
  const shown = writers.slice(0, 3).map(describeOperation).join("; ");
  return [`#${o.id} ${seen} ${showValue(value)}, written only by ${shown}${writers.length > 3 ? "; ..." : ""}.`];
}
