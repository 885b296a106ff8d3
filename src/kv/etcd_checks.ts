import { binaryString, bytes16Size, bytes32Size } from "./binary.js";
import { checkKey, checkValue } from "./key_checks.js";
import type { EtcdCompare, EtcdOp, EtcdTxn } from "./etcd_commands.js";
import { keyBytesMax, txnOpsMax } from "./limits.js";

/*
 * Validation of etcd txns (etcd_commands.ts), before proposing and again when decoding: etcd's
 * checkTxnRequest and checkIntervals, plus the bounds every command obeys. Sizing is validation
 * too: the size of a txn that passes is its encoded size (etcd_codec.ts).
 */

/**
 * Why etcd refuses a txn, by etcd's error: too many ops at one level (etcd's `etcdserver: too many
 * operations in txn request`), a put with both ignore_value and a value (`etcdserver: value is
 * provided`) or ignore_lease and a lease (`etcdserver: lease is provided`), a branch writing a key
 * twice (`etcdserver: duplicate key given in txn request`); `invalid`: any other bound broken.
 */
type EtcdTxnProblem =
  | { readonly type: "tooManyOps" | "valueProvided" | "leaseProvided" | "duplicateKey" }
  | { readonly type: "invalid"; readonly reason: string };

/** etcd's text for each problem (etcd's rpctypes), `invalid` spelled out. */
export function etcdTxnProblemText(problem: EtcdTxnProblem): string {
  switch (problem.type) {
    case "tooManyOps":
      return "etcdserver: too many operations in txn request";
    case "valueProvided":
      return "etcdserver: value is provided";
    case "leaseProvided":
      return "etcdserver: lease is provided";
    case "duplicateKey":
      return "etcdserver: duplicate key given in txn request";
    case "invalid":
      return problem.reason;
  }
}

/** What etcd refuses in `txn` before proposing it, or undefined when it is valid. */
export function checkEtcdTxn(txn: EtcdTxn): EtcdTxnProblem | undefined {
  const size = etcdTxnSize(txn);
  return typeof size === "number" ? undefined : size;
}

/**
 * The encoded size of `txn`'s body, or why it is refused. As in etcd, a level's compares and each
 * of its branches hold at most `opsMax` entries, and a nested txn at most `opsMax` less the largest
 * of its parent's lists (so nesting is bounded too).
 */
export function etcdTxnSize(txn: EtcdTxn): number | EtcdTxnProblem {
  const size = levelSize(txn, txnOpsMax);
  if (typeof size !== "number") return size;
  // After the sizes, as in etcd: this check looks into the nested txns itself.
  return branchWrites(txn.success) === "duplicate" || branchWrites(txn.failure) === "duplicate"
    ? { type: "duplicateKey" }
    : size;
}

function levelSize(txn: EtcdTxn, opsMax: number): number | EtcdTxnProblem {
  const lists = Math.max(txn.compare.length, txn.success.length, txn.failure.length);
  if (lists > opsMax) return { type: "tooManyOps" };
  let size = 6;
  for (const [i, compare] of txn.compare.entries()) {
    const one = compareSize(compare);
    if (typeof one === "string") return { type: "invalid", reason: `compare ${i}: ${one}` };
    size += one;
  }
  for (const [branch, ops] of [
    ["success", txn.success],
    ["failure", txn.failure],
  ] as const) {
    for (const [i, op] of ops.entries()) {
      const one = opSize(op, opsMax - lists);
      if (typeof one !== "number")
        return one.type === "invalid" ? { type: "invalid", reason: `${branch} op ${i}: ${one.reason}` } : one;
      size += one;
    }
  }
  return size;
}

function compareSize(compare: EtcdCompare): number | string {
  const problem = checkKey(compare.key) ?? checkRangeEnd(compare.rangeEnd);
  if (problem !== undefined) return problem;
  if (!compareResults.has(compare.result)) return `unknown compare result ${compare.result}`;
  const head = 2 + bytes16Size(compare.key) + bytes16Size(compare.rangeEnd);
  if (compare.target === "value") return checkValue(compare.value) ?? head + bytes32Size(compare.value);
  if (!numberTargets.has(compare.target)) return `unknown compare target ${compare.target}`;
  return checkCount(compare.number, "compare operand") ?? head + 8;
}

const compareResults = new Set<string>(["equal", "greater", "less", "notEqual"]);
const numberTargets = new Set<string>(["version", "create", "mod", "lease"]);
const sortOrders = new Set<string>(["none", "ascend", "descend"]);
const sortTargets = new Set<string>(["key", "version", "create", "mod", "value"]);

function opSize(op: EtcdOp, opsMax: number): number | EtcdTxnProblem {
  const invalid = (reason: string | undefined): EtcdTxnProblem | undefined =>
    reason === undefined ? undefined : { type: "invalid", reason };
  switch (op.type) {
    case "range": {
      const problem =
        checkKey(op.key) ??
        checkRangeEnd(op.rangeEnd) ??
        (sortOrders.has(op.sortOrder) ? undefined : `unknown sort order ${op.sortOrder}`) ??
        (sortTargets.has(op.sortTarget) ? undefined : `unknown sort target ${op.sortTarget}`) ??
        [op.limit, op.minModRevision, op.maxModRevision, op.minCreateRevision, op.maxCreateRevision]
          .map((n) => checkCount(n, "range limit or revision bound"))
          .find((p) => p !== undefined);
      return invalid(problem) ?? 2 + bytes16Size(op.key) + bytes16Size(op.rangeEnd) + 2 + 5 * 8;
    }
    case "put": {
      const problem = invalid(
        checkKey(op.key) ?? checkValue(op.value) ?? (op.lease === 0 ? undefined : checkCount(op.lease, "put lease")),
      );
      if (problem !== undefined) return problem;
      if (op.ignoreValue && op.value.length > 0) return { type: "valueProvided" };
      if (op.ignoreLease && op.lease !== 0) return { type: "leaseProvided" };
      return 2 + bytes16Size(op.key) + bytes32Size(op.value) + 8;
    }
    case "deleteRange":
      return (
        invalid(checkKey(op.key) ?? checkRangeEnd(op.rangeEnd)) ?? 2 + bytes16Size(op.key) + bytes16Size(op.rangeEnd)
      );
    case "txn": {
      const body = levelSize(op, opsMax);
      return typeof body === "number" ? 1 + body : body;
    }
    default:
      return { type: "invalid", reason: `unknown op type ${String((op as { readonly type: unknown }).type)}` };
  }
}

function checkRangeEnd(rangeEnd: Uint8Array): string | undefined {
  if (!(rangeEnd instanceof Uint8Array)) return "range end is not bytes";
  return rangeEnd.length > keyBytesMax ? `range end of ${rangeEnd.length} bytes exceeds ${keyBytesMax}` : undefined;
}

function checkCount(n: number, what: string): string | undefined {
  return Number.isSafeInteger(n) && n >= 0 ? undefined : `${what} must be a non-negative safe integer`;
}

/** Keys a branch puts, and the ranges it deletes, nested txns included (etcd's checkIntervals). */
interface Writes {
  readonly puts: Set<string>;
  readonly deletes: Interval[];
}

interface Interval {
  readonly from: string;
  readonly to: string;
}

/**
 * A delete range as etcd's check sees it: the literal interval [key, rangeEnd), so that a range end of
 * one zero byte ("every key from key on" when deleting) covers no key here, as in etcd.
 */
function branchWrites(ops: readonly EtcdOp[]): Writes | "duplicate" {
  const deletes: Interval[] = [];
  for (const op of ops) {
    if (op.type !== "deleteRange") continue;
    const from = binaryString(op.key);
    deletes.push({ from, to: op.rangeEnd.length === 0 ? from + "\u0000" : binaryString(op.rangeEnd) });
  }
  let deleted = coverage(deletes);
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.type !== "txn") continue;
    const then = branchWrites(op.success);
    const otherwise = branchWrites(op.failure);
    if (then === "duplicate" || otherwise === "duplicate") return "duplicate";
    for (const key of then.puts) {
      if (puts.has(key) || deleted(key)) return "duplicate";
      puts.add(key);
    }
    // Then and else exclude each other, so they may put the same key.
    for (const key of otherwise.puts) {
      if ((puts.has(key) && !then.puts.has(key)) || deleted(key)) return "duplicate";
      puts.add(key);
    }
    deletes.push(...then.deletes, ...otherwise.deletes);
  }
  deleted = coverage(deletes);
  for (const op of ops) {
    if (op.type !== "put") continue;
    const key = binaryString(op.key);
    if (puts.has(key) || deleted(key)) return "duplicate";
    puts.add(key);
  }
  return { puts, deletes };
}

/**
 * Whether a key lies in one of `intervals`, answered by a binary search over their sorted union, so
 * that a txn of many puts and deletes is checked in O(n log n) (etcd uses an interval tree).
 */
function coverage(intervals: readonly Interval[]): (key: string) => boolean {
  const sorted = intervals
    .filter(({ from, to }) => from < to)
    .sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  const merged: { from: string; to: string }[] = [];
  for (const { from, to } of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && from <= last.to) {
      if (to > last.to) last.to = to;
    } else merged.push({ from, to });
  }
  return (key) => {
    let low = 0;
    let high = merged.length;
    // The last interval starting at or before the key is the only one that can hold it.
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (merged[middle]!.from <= key) low = middle + 1;
      else high = middle;
    }
    return low > 0 && key < merged[low - 1]!.to;
  };
}
