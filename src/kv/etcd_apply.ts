import { binaryString } from "./binary.js";
import type { EtcdCompare, EtcdOp, EtcdResponse, EtcdTxn } from "./etcd_commands.js";
import { etcdSpan, type RangeAnswer, type RangeEntry, type RangeRequest } from "./etcd_range.js";
import type { KeySpan } from "./key_span.js";
import type { StoredKv } from "./stored_kv.js";
import { toKeyValue } from "./stored_kv.js";

/** What applying an etcd txn needs of the store: reads of the state as it is now, and the two writes. */
export interface EtcdTxnStore {
  entries(span: KeySpan): RangeEntry[];
  range(request: RangeRequest): RangeAnswer;
  hasLease(id: number): boolean;
  put(key: string, value: string, lease: number, revision: number): void;
  remove(key: string, revision: number): void;
}

/** The outcome of an etcd txn; `wrote` tells the store to move to the txn's revision. */
type EtcdTxnOutcome =
  | {
      readonly type: "etcdTxn";
      readonly succeeded: boolean;
      readonly responses: EtcdResponse[];
      readonly wrote: boolean;
    }
  | { readonly type: "keyNotFound" }
  | { readonly type: "leaseNotFound"; readonly id: number };

/** Which branch each txn takes, decided before any op runs: the txn's, then its chosen branch's nested txns'. */
interface Path {
  readonly succeeded: boolean;
  readonly nested: readonly Path[];
}

/**
 * Applies `txn` as etcd's applier does: every compare, nested txns' included, reads the state before
 * the txn; then the puts of the chosen branches are checked (a missing key under ignoreValue or
 * ignoreLease, a missing lease: the first such op fails the whole txn and nothing is written); then the
 * ops run in order at `revision`, each seeing the writes before it.
 */
export function applyEtcdTxn(store: EtcdTxnStore, txn: EtcdTxn, revision: number): EtcdTxnOutcome {
  const path = decide(store, txn);
  const refusal = check(store, txn, path);
  if (refusal !== undefined) return refusal;
  const run = { wrote: false };
  const responses = execute(store, txn, path, revision, run);
  return { type: "etcdTxn", succeeded: path.succeeded, responses, wrote: run.wrote };
}

function branch(txn: EtcdTxn, path: Path): readonly EtcdOp[] {
  return path.succeeded ? txn.success : txn.failure;
}

function decide(store: EtcdTxnStore, txn: EtcdTxn): Path {
  const succeeded = txn.compare.every((c) => holds(store, c));
  const nested: Path[] = [];
  for (const op of succeeded ? txn.success : txn.failure) if (op.type === "txn") nested.push(decide(store, op));
  return { succeeded, nested };
}

/** etcd's applyCompare: over every key in the range; with none, a value compare fails and others see zeros. */
function holds(store: EtcdTxnStore, compare: EtcdCompare): boolean {
  const entries = store.entries(etcdSpan(compare.key, compare.rangeEnd));
  if (entries.length === 0) return compare.target !== "value" && compareKv(compare, undefined);
  return entries.every(({ kv }) => compareKv(compare, kv));
}

function compareKv(compare: EtcdCompare, kv: StoredKv | undefined): boolean {
  let order: number;
  if (compare.target === "value") {
    const value = kv?.value ?? "";
    const operand = binaryString(compare.value);
    order = value < operand ? -1 : value > operand ? 1 : 0;
  } else {
    const field =
      kv === undefined
        ? 0
        : compare.target === "version"
          ? kv.version
          : compare.target === "create"
            ? kv.createRevision
            : compare.target === "mod"
              ? kv.modRevision
              : kv.lease;
    order = Math.sign(field - compare.number);
  }
  switch (compare.result) {
    case "equal":
      return order === 0;
    case "notEqual":
      return order !== 0;
    case "greater":
      return order > 0;
    case "less":
      return order < 0;
  }
}

function check(store: EtcdTxnStore, txn: EtcdTxn, path: Path): EtcdTxnOutcome | undefined {
  let nested = 0;
  for (const op of branch(txn, path)) {
    if (op.type === "txn") {
      const refusal = check(store, op, path.nested[nested++]!);
      if (refusal !== undefined) return refusal;
    } else if (op.type === "put") {
      if ((op.ignoreValue || op.ignoreLease) && store.entries(etcdSpan(op.key, undefined)).length === 0)
        return { type: "keyNotFound" };
      if (op.lease !== 0 && !store.hasLease(op.lease)) return { type: "leaseNotFound", id: op.lease };
    }
  }
  return undefined;
}

function execute(
  store: EtcdTxnStore,
  txn: EtcdTxn,
  path: Path,
  revision: number,
  run: { wrote: boolean },
): EtcdResponse[] {
  let nested = 0;
  return branch(txn, path).map((op): EtcdResponse => {
    switch (op.type) {
      case "range": {
        return { type: "range", ...store.range(op) };
      }
      case "put": {
        const key = binaryString(op.key);
        const prev = store.entries(etcdSpan(op.key, undefined))[0]?.kv;
        // check() found the key before the txn ran; only a delete with a range end of one zero byte,
        // which etcd's duplicate check lets through, can have removed it since. etcd panics there; here
        // the key is written as new, with an empty value and no lease.
        const value = op.ignoreValue ? (prev?.value ?? "") : binaryString(op.value);
        store.put(key, value, op.ignoreLease ? (prev?.lease ?? 0) : op.lease, revision);
        run.wrote = true;
        return { type: "put", prevKv: op.prevKv && prev !== undefined ? toKeyValue(key, prev) : null };
      }
      case "deleteRange": {
        const entries = store.entries(etcdSpan(op.key, op.rangeEnd));
        for (const { key } of entries) store.remove(key, revision);
        if (entries.length > 0) run.wrote = true;
        const prevKvs = op.prevKv ? entries.map(({ key, kv }) => toKeyValue(key, kv)) : [];
        return { type: "deleteRange", deleted: entries.length, prevKvs };
      }
      case "txn": {
        const nestedPath = path.nested[nested++]!;
        const responses = execute(store, op, nestedPath, revision, run);
        return { type: "txn", succeeded: nestedPath.succeeded, responses };
      }
    }
  });
}
