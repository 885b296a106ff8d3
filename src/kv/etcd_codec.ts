import type { Reader, Writer } from "./binary.js";
import type { KvCommand, Session } from "./commands.js";
import { etcdTxnProblemText, etcdTxnSize } from "./etcd_checks.js";
import type { CompareResult, CompareTarget, EtcdCompare, EtcdOp, EtcdTxn } from "./etcd_commands.js";
import type { SortOrder, SortTarget } from "./etcd_range.js";
import { txnOpsMax } from "./limits.js";

/*
 * The binary form of an etcd txn's body (command kind 19 in command_codec.ts), little-endian:
 *   txn          u16 count, compares; u16 count, success ops; u16 count, failure ops
 *   compare      u8 target (1 version, 2 create, 3 mod, 4 value, 5 lease), u8 result (1 equal,
 *                2 greater, 3 less, 4 notEqual), key, rangeEnd, then value (target 4) or u64 operand
 *   op           u8 kind (1 range, 2 put, 3 deleteRange, 4 txn), then
 *     range        u8 flags (bit 0 keysOnly, bit 1 countOnly), key, rangeEnd, u8 sort order (0 none,
 *                  1 ascend, 2 descend), u8 sort target (0 key, 1 version, 2 create, 3 mod, 4 value),
 *                  u64 limit, u64 minModRevision, u64 maxModRevision, u64 minCreateRevision,
 *                  u64 maxCreateRevision
 *     put          u8 flags (bit 0 prevKv, bit 1 ignoreValue, bit 2 ignoreLease), key, value, u64 lease
 *     deleteRange  u8 flags (bit 0 prevKv), key, rangeEnd
 *     txn          a txn, as above
 * where key and rangeEnd = u16 length + bytes and value = u32 length + bytes. Unused flag bits must be
 * 0. The decoder only checks the structure; etcd_checks.ts then checks the txn as a whole.
 */

const targetCodes: readonly CompareTarget[] = ["version", "create", "mod", "value", "lease"];
const resultCodes: readonly CompareResult[] = ["equal", "greater", "less", "notEqual"];
const orderCodes: readonly SortOrder[] = ["none", "ascend", "descend"];
const sortTargetCodes: readonly SortTarget[] = ["key", "version", "create", "mod", "value"];
const opKinds = { range: 1, put: 2, deleteRange: 3, txn: 4 } as const;

export function writeEtcdTxn(w: Writer, txn: EtcdTxn): void {
  w.u16(txn.compare.length);
  for (const c of txn.compare) {
    w.u8(targetCodes.indexOf(c.target) + 1);
    w.u8(resultCodes.indexOf(c.result) + 1);
    w.bytes16(c.key);
    w.bytes16(c.rangeEnd);
    if (c.target === "value") w.bytes32(c.value);
    else w.u64(c.number);
  }
  for (const ops of [txn.success, txn.failure]) {
    w.u16(ops.length);
    for (const op of ops) writeOp(w, op);
  }
}

function writeOp(w: Writer, op: EtcdOp): void {
  w.u8(opKinds[op.type]);
  switch (op.type) {
    case "range":
      w.u8((op.keysOnly ? 1 : 0) | (op.countOnly ? 2 : 0));
      w.bytes16(op.key);
      w.bytes16(op.rangeEnd);
      w.u8(orderCodes.indexOf(op.sortOrder));
      w.u8(sortTargetCodes.indexOf(op.sortTarget));
      for (const n of [op.limit, op.minModRevision, op.maxModRevision, op.minCreateRevision, op.maxCreateRevision])
        w.u64(n);
      return;
    case "put":
      w.u8((op.prevKv ? 1 : 0) | (op.ignoreValue ? 2 : 0) | (op.ignoreLease ? 4 : 0));
      w.bytes16(op.key);
      w.bytes32(op.value);
      w.u64(op.lease);
      return;
    case "deleteRange":
      w.u8(op.prevKv ? 1 : 0);
      w.bytes16(op.key);
      w.bytes16(op.rangeEnd);
      return;
    case "txn":
      writeEtcdTxn(w, op);
      return;
  }
}

/** An etcdTxn command's body, checked whole (etcd_checks.ts), or why not. */
export function readEtcdTxnCommand(r: Reader, session: Session | undefined): KvCommand | string {
  const txn = readEtcdTxn(r);
  if (typeof txn === "string") return `etcdTxn: ${txn}`;
  const size = etcdTxnSize(txn);
  if (typeof size !== "number") return `etcdTxn: ${etcdTxnProblemText(size)}`;
  return session === undefined ? { type: "etcdTxn", ...txn } : { type: "etcdTxn", ...txn, session };
}

const u64Problem = "truncated or above 2^53 - 1";

/**
 * The txn in the reader, or why not. Nesting deeper than txnOpsMax is refused here, before the
 * recursion could grow with the input (the checks allow less: each level takes at least one op).
 */
function readEtcdTxn(r: Reader, depth = 0): EtcdTxn | string {
  if (depth > txnOpsMax) return "txns nested too deep";
  const compareCount = readCount(r, "compare");
  if (typeof compareCount === "string") return compareCount;
  const compare: EtcdCompare[] = [];
  for (let i = 0; i < compareCount; i++) {
    const c = readCompare(r);
    if (typeof c === "string") return `compare ${i}: ${c}`;
    compare.push(c);
  }
  const success = readOps(r, "success", depth);
  if (typeof success === "string") return success;
  const failure = readOps(r, "failure", depth);
  if (typeof failure === "string") return failure;
  return { compare, success, failure };
}

function readCount(r: Reader, what: string): number | string {
  const count = r.u16();
  if (count === undefined) return `truncated ${what} count`;
  return count > txnOpsMax ? `${count} ${what} entries (at most ${txnOpsMax})` : count;
}

function readCompare(r: Reader): EtcdCompare | string {
  const target = targetCodes[(r.u8() ?? 0) - 1];
  const result = resultCodes[(r.u8() ?? 0) - 1];
  if (target === undefined || result === undefined) return "truncated, or an unknown target or result";
  const key = r.bytes16();
  const rangeEnd = r.bytes16();
  if (key === undefined || rangeEnd === undefined) return "truncated key or range end";
  if (target === "value") {
    const value = r.bytes32();
    return value === undefined ? "truncated value" : { key, rangeEnd, target, result, value };
  }
  const number = r.u64();
  return number === undefined ? `operand ${u64Problem}` : { key, rangeEnd, target, result, number };
}

function readOps(r: Reader, branch: string, depth: number): EtcdOp[] | string {
  const count = readCount(r, branch);
  if (typeof count === "string") return count;
  const ops: EtcdOp[] = [];
  for (let i = 0; i < count; i++) {
    const op = readOp(r, depth);
    if (typeof op === "string") return `${branch} op ${i}: ${op}`;
    ops.push(op);
  }
  return ops;
}

function readOp(r: Reader, depth: number): EtcdOp | string {
  const kind = r.u8();
  if (kind === opKinds.txn) {
    const txn = readEtcdTxn(r, depth + 1);
    return typeof txn === "string" ? txn : { type: "txn", ...txn };
  }
  const flags = r.u8();
  const key = r.bytes16();
  if (flags === undefined || key === undefined) return "truncated";
  switch (kind) {
    case opKinds.range:
      return flags > 3 ? `range flags 0x${flags.toString(16)}` : readRange(r, flags, key);
    case opKinds.put: {
      const value = r.bytes32();
      const lease = r.u64();
      if (value === undefined || lease === undefined) return `put value or lease truncated or above 2^53 - 1`;
      if (flags > 7) return `put flags 0x${flags.toString(16)}`;
      const [prevKv, ignoreValue, ignoreLease] = [(flags & 1) !== 0, (flags & 2) !== 0, (flags & 4) !== 0];
      return { type: "put", key, value, lease, prevKv, ignoreValue, ignoreLease };
    }
    case opKinds.deleteRange: {
      const rangeEnd = r.bytes16();
      if (rangeEnd === undefined) return "truncated deleteRange";
      return flags > 1
        ? `deleteRange flags 0x${flags.toString(16)}`
        : { type: "deleteRange", key, rangeEnd, prevKv: flags === 1 };
    }
    case undefined:
      return "truncated";
    default:
      return `unknown op kind ${kind}`;
  }
}

function readRange(r: Reader, flags: number, key: Uint8Array): EtcdOp | string {
  const rangeEnd = r.bytes16();
  const sortOrder = orderCodes[r.u8() ?? -1];
  const sortTarget = sortTargetCodes[r.u8() ?? -1];
  if (rangeEnd === undefined || sortOrder === undefined || sortTarget === undefined)
    return "range truncated, or an unknown sort order or target";
  const [limit, minModRevision, maxModRevision, minCreateRevision, maxCreateRevision] = [
    r.u64(),
    r.u64(),
    r.u64(),
    r.u64(),
    r.u64(),
  ];
  if (
    limit === undefined ||
    minModRevision === undefined ||
    maxModRevision === undefined ||
    minCreateRevision === undefined ||
    maxCreateRevision === undefined
  )
    return `range limit or revision bounds ${u64Problem}`;
  const [keysOnly, countOnly] = [(flags & 1) !== 0, (flags & 2) !== 0];
  return {
    type: "range",
    key,
    rangeEnd,
    limit,
    sortOrder,
    sortTarget,
    keysOnly,
    countOnly,
    minModRevision,
    maxModRevision,
    minCreateRevision,
    maxCreateRevision,
  };
}
