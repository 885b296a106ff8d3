import { assert } from "../util/assert.js";
import {
  Reader,
  Writer,
  asciiBytes,
  asciiString,
  binaryString,
  bytes16Size,
  bytes32Size,
  isVisibleAscii,
} from "./binary.js";
import { clientIdBytesMax, commandBytesMax, keyBytesMax, txnOpsMax, valueBytesMax } from "./limits.js";
import type { KvCommand, Session, TxnCommand, TxnCompare, TxnOp } from "./commands.js";

/*
 * The binary form of the commands (commands.ts), the payload of a Raft log entry.
 *
 * Encoding v1, little-endian; every length is checked against limits.ts and the input must be used up
 * exactly (trailing bytes are an error):
 *   u8 version (1), u8 kind (1 put, 2 delete, 3 txn), u8 flags (bit 0 session, bit 1 ifModRevision)
 *   session      u8 clientId length, clientId (visible ASCII), u64 seq
 *   put          [u64 ifModRevision], key, value
 *   delete       key
 *   txn          u16 count, compares; u16 count, success ops; u16 count, failure ops
 *     compare    u8 flags (bit 0 value, bit 1 modRevision; at least one), key, [value], [u64 modRevision]
 *     op         u8 kind (1 put, 2 get, 3 delete), key, [value if put]
 * where key = u16 length + bytes (1..keyBytesMax) and value = u32 length + bytes (0..valueBytesMax).
 * Unused flag bits must be 0, so each command has exactly one encoding.
 */

type DecodeResult = { readonly ok: true; readonly command: KvCommand } | { readonly ok: false; readonly error: string };

const commandVersion = 1;
const kindCodes = { put: 1, delete: 2, txn: 3 } as const;
const opCodes = { put: 1, get: 2, delete: 3 } as const;
const flagSession = 1;
const flagIfModRevision = 2;
const compareFlagValue = 1;
const compareFlagModRevision = 2;
const headerBytes = 3;

/**
 * Why `command` cannot be encoded (a limit or field it breaks), or undefined when it can. Callers
 * building commands from user input (the HTTP server) check this first; `encodeCommand` asserts it.
 */
export function validateCommand(command: KvCommand): string | undefined {
  const size = commandSize(command);
  return typeof size === "string" ? size : undefined;
}

/** The command's bytes. The command must pass `validateCommand` (a programmer error otherwise). */
export function encodeCommand(command: KvCommand): Uint8Array {
  const size = commandSize(command);
  assert(typeof size === "number", `encodeCommand: ${String(size)}`);
  const w = new Writer(size);
  w.u8(commandVersion);
  w.u8(kindCodes[command.type]);
  const putCas = command.type === "put" && command.ifModRevision !== undefined;
  w.u8((command.session !== undefined ? flagSession : 0) | (putCas ? flagIfModRevision : 0));
  if (command.session !== undefined) {
    w.u8(command.session.clientId.length);
    w.raw(asciiBytes(command.session.clientId)!);
    w.u64(command.session.seq);
  }
  switch (command.type) {
    case "put":
      if (command.ifModRevision !== undefined) w.u64(command.ifModRevision);
      w.bytes16(command.key);
      w.bytes32(command.value);
      break;
    case "delete":
      w.bytes16(command.key);
      break;
    case "txn":
      writeTxn(w, command);
      break;
  }
  return w.finish();
}

function writeTxn(w: Writer, txn: TxnCommand): void {
  w.u16(txn.compare.length);
  for (const c of txn.compare) {
    w.u8((c.value !== undefined ? compareFlagValue : 0) | (c.modRevision !== undefined ? compareFlagModRevision : 0));
    w.bytes16(c.key);
    if (c.value !== undefined) w.bytes32(c.value);
    if (c.modRevision !== undefined) w.u64(c.modRevision);
  }
  for (const ops of [txn.success, txn.failure]) {
    w.u16(ops.length);
    for (const op of ops) {
      w.u8(opCodes[op.type]);
      w.bytes16(op.key);
      if (op.type === "put") w.bytes32(op.value);
    }
  }
}

/**
 * The command in `bytes`, or why they are not one. Never throws and never reads outside `bytes`. The
 * command's keys and values are views into `bytes`: copy them to keep them past the input's lifetime.
 */
export function decodeCommand(bytes: Uint8Array): DecodeResult {
  if (bytes.length > commandBytesMax) return fail(`command of ${bytes.length} bytes exceeds ${commandBytesMax}`);
  const r = new Reader(bytes);
  const version = r.u8();
  const kind = r.u8();
  const flags = r.u8();
  if (version === undefined || kind === undefined || flags === undefined) return fail("truncated command header");
  if (version !== commandVersion) return fail(`unsupported command version ${version}`);
  if ((flags & ~(flagSession | flagIfModRevision)) !== 0) return fail(`unknown command flags 0x${flags.toString(16)}`);
  if (kind !== kindCodes.put && (flags & flagIfModRevision) !== 0)
    return fail("ifModRevision on a command that is not a put");
  let session: Session | undefined;
  if ((flags & flagSession) !== 0) {
    const decoded = readSession(r);
    if (typeof decoded === "string") return fail(decoded);
    session = decoded;
  }
  const command = readBody(r, { kind, flags, session });
  if (typeof command === "string") return fail(command);
  if (r.remaining !== 0) return fail(`${r.remaining} trailing bytes after the command`);
  return { ok: true, command };
}

function readBody(
  r: Reader,
  header: { kind: number; flags: number; session: Session | undefined },
): KvCommand | string {
  // Objects are built whole, with `session` only when present (exactOptionalPropertyTypes); the
  // literal shapes are cheaper than a spread on this path.
  const { kind, flags, session } = header;
  switch (kind) {
    case kindCodes.put: {
      let ifModRevision: number | undefined;
      if ((flags & flagIfModRevision) !== 0) {
        ifModRevision = r.u64();
        if (ifModRevision === undefined) return `put ifModRevision: ${u64Problem}`;
      }
      const key = readKey(r, "put");
      if (typeof key === "string") return key;
      const value = readValue(r, "put");
      if (typeof value === "string") return value;
      if (session === undefined)
        return ifModRevision === undefined ? { type: "put", key, value } : { type: "put", key, value, ifModRevision };
      return ifModRevision === undefined
        ? { type: "put", key, value, session }
        : { type: "put", key, value, ifModRevision, session };
    }
    case kindCodes.delete: {
      const key = readKey(r, "delete");
      if (typeof key === "string") return key;
      return session === undefined ? { type: "delete", key } : { type: "delete", key, session };
    }
    case kindCodes.txn: {
      const txn = readTxn(r);
      if (typeof txn === "string") return txn;
      return session === undefined ? txn : { ...txn, session };
    }
    default:
      return `unknown command kind ${kind}`;
  }
}

function readSession(r: Reader): Session | string {
  const length = r.u8();
  if (length === undefined) return "truncated session";
  if (length === 0 || length > clientIdBytesMax)
    return `session clientId of ${length} bytes (1 to ${clientIdBytesMax})`;
  const id = r.raw(length);
  if (id === undefined) return "truncated session clientId";
  if (!isVisibleAscii(id)) return "session clientId is not visible ASCII";
  const seq = r.u64();
  if (seq === undefined) return `session seq: ${u64Problem}`;
  return { clientId: asciiString(id), seq };
}

function readTxn(r: Reader): TxnCommand | string {
  const compareCount = readCount(r, "compare");
  if (typeof compareCount === "string") return compareCount;
  const compare: TxnCompare[] = [];
  for (let i = 0; i < compareCount; i++) {
    const c = readCompare(r, i);
    if (typeof c === "string") return c;
    compare.push(c);
  }
  const success = readOps(r, "success");
  if (typeof success === "string") return success;
  const failure = readOps(r, "failure");
  if (typeof failure === "string") return failure;
  return { type: "txn", compare, success, failure };
}

function readCompare(r: Reader, i: number): TxnCompare | string {
  const where = `txn compare ${i}`;
  const flags = r.u8();
  if (flags === undefined) return `truncated ${where}`;
  if (flags === 0 || (flags & ~(compareFlagValue | compareFlagModRevision)) !== 0) {
    return `${where}: flags 0x${flags.toString(16)} (must name a value, a modRevision or both)`;
  }
  const key = readKey(r, where);
  if (typeof key === "string") return key;
  let value: Uint8Array | undefined;
  if ((flags & compareFlagValue) !== 0) {
    const v = readValue(r, where);
    if (typeof v === "string") return v;
    value = v;
  }
  let modRevision: number | undefined;
  if ((flags & compareFlagModRevision) !== 0) {
    modRevision = r.u64();
    if (modRevision === undefined) return `${where} modRevision: ${u64Problem}`;
  }
  if (value !== undefined && modRevision !== undefined) return { key, value, modRevision };
  if (value !== undefined) return { key, value };
  return { key, modRevision: modRevision! }; // flags name at least one of the two
}

function readOps(r: Reader, branch: "success" | "failure"): TxnOp[] | string {
  const count = readCount(r, branch);
  if (typeof count === "string") return count;
  const ops: TxnOp[] = [];
  for (let i = 0; i < count; i++) {
    const where = `txn ${branch} op ${i}`;
    const code = r.u8();
    if (code === undefined) return `truncated ${where}`;
    const key = readKey(r, where);
    if (typeof key === "string") return key;
    switch (code) {
      case opCodes.put: {
        const value = readValue(r, where);
        if (typeof value === "string") return value;
        ops.push({ type: "put", key, value });
        break;
      }
      case opCodes.get:
        ops.push({ type: "get", key });
        break;
      case opCodes.delete:
        ops.push({ type: "delete", key });
        break;
      default:
        return `${where}: unknown op kind ${code}`;
    }
  }
  return duplicateWrite(ops, branch) ?? ops;
}

function readCount(r: Reader, what: string): number | string {
  const count = r.u16();
  if (count === undefined) return `truncated txn ${what} count`;
  if (count > txnOpsMax) return `txn has ${count} ${what} entries (at most ${txnOpsMax})`;
  return count;
}

function readKey(r: Reader, where: string): Uint8Array | string {
  const key = r.bytes16();
  if (key === undefined) return `truncated ${where} key`;
  return at(where, checkKey(key)) ?? key;
}

function readValue(r: Reader, where: string): Uint8Array | string {
  const value = r.bytes32();
  if (value === undefined) return `truncated ${where} value`;
  return at(where, checkValue(value)) ?? value;
}

const u64Problem = "truncated or above 2^53 - 1";

function fail(error: string): DecodeResult {
  return { ok: false, error };
}

/*
 * Sizing, which is also validation: each limit is checked while adding up the bytes, so a command
 * that encodes is a command that decodes, field for field.
 */

function commandSize(command: KvCommand): number | string {
  let size = headerBytes;
  if (command.session !== undefined) {
    const problem = checkSession(command.session);
    if (problem !== undefined) return problem;
    size += 1 + command.session.clientId.length + 8;
  }
  const body = bodySize(command);
  if (typeof body === "string") return body;
  size += body;
  if (size > commandBytesMax) return `command of ${size} bytes exceeds ${commandBytesMax}`;
  return size;
}

function bodySize(command: KvCommand): number | string {
  switch (command.type) {
    case "put": {
      const problem =
        at("put", checkKey(command.key)) ??
        at("put", checkValue(command.value)) ??
        (command.ifModRevision === undefined ? undefined : checkU64(command.ifModRevision, "put ifModRevision"));
      if (problem !== undefined) return problem;
      return (command.ifModRevision === undefined ? 0 : 8) + bytes16Size(command.key) + bytes32Size(command.value);
    }
    case "delete":
      return at("delete", checkKey(command.key)) ?? bytes16Size(command.key);
    case "txn":
      return txnSize(command);
    default:
      return `unknown command type ${String((command as { readonly type: unknown }).type)}`;
  }
}

function txnSize(txn: TxnCommand): number | string {
  let size = 0;
  for (const [what, list] of [
    ["compare", txn.compare],
    ["success", txn.success],
    ["failure", txn.failure],
  ] as const) {
    if (!Array.isArray(list)) return `txn ${what} is not a list`;
    if (list.length > txnOpsMax) return `txn has ${list.length} ${what} entries (at most ${txnOpsMax})`;
    size += 2;
  }
  for (const [i, c] of txn.compare.entries()) {
    const where = `txn compare ${i}`;
    if (c.value === undefined && c.modRevision === undefined) return `${where} names neither a value nor a modRevision`;
    const problem =
      at(where, checkKey(c.key)) ??
      (c.value === undefined ? undefined : at(where, checkValue(c.value))) ??
      (c.modRevision === undefined ? undefined : checkU64(c.modRevision, `${where} modRevision`));
    if (problem !== undefined) return problem;
    size +=
      1 +
      bytes16Size(c.key) +
      (c.value === undefined ? 0 : bytes32Size(c.value)) +
      (c.modRevision === undefined ? 0 : 8);
  }
  for (const [branch, ops] of [
    ["success", txn.success],
    ["failure", txn.failure],
  ] as const) {
    for (const [i, op] of ops.entries()) {
      const where = `txn ${branch} op ${i}`;
      if (!Object.hasOwn(opCodes, op.type)) return `${where}: unknown op type ${op.type as string}`;
      const problem = at(where, checkKey(op.key)) ?? (op.type === "put" ? at(where, checkValue(op.value)) : undefined);
      if (problem !== undefined) return problem;
      size += 1 + bytes16Size(op.key) + (op.type === "put" ? bytes32Size(op.value) : 0);
    }
    const duplicate = duplicateWrite(ops, branch);
    if (duplicate !== undefined) return duplicate;
  }
  return size;
}

/** Why the branch `ops` is invalid because it writes a key twice, or undefined. */
function duplicateWrite(ops: readonly TxnOp[], branch: string): string | undefined {
  if (ops.length < 2) return undefined;
  const written = new Set<string>();
  for (const [i, op] of ops.entries()) {
    if (op.type === "get") continue;
    const key = binaryString(op.key);
    if (written.has(key)) return `txn ${branch} op ${i}: writes a key an earlier op of the branch wrote`;
    written.add(key);
  }
  return undefined;
}

function checkSession(session: Session): string | undefined {
  const id = session.clientId;
  if (typeof id !== "string" || id.length === 0 || id.length > clientIdBytesMax) {
    return `session clientId must be 1 to ${clientIdBytesMax} characters`;
  }
  if (asciiBytes(id) === undefined) return "session clientId must be visible ASCII (0x21 to 0x7E)";
  return checkU64(session.seq, "session seq");
}

/** Why `key` is not a valid key (1 to keyBytesMax bytes), or undefined. For callers validating user input. */
export function checkKey(key: Uint8Array): string | undefined {
  if (!(key instanceof Uint8Array)) return "key is not bytes";
  if (key.length === 0) return "key is empty";
  if (key.length > keyBytesMax) return `key of ${key.length} bytes exceeds ${keyBytesMax}`;
  return undefined;
}

/** Why `value` is not a valid value (0 to valueBytesMax bytes), or undefined. */
export function checkValue(value: Uint8Array): string | undefined {
  if (!(value instanceof Uint8Array)) return "value is not bytes";
  if (value.length > valueBytesMax) return `value of ${value.length} bytes exceeds ${valueBytesMax}`;
  return undefined;
}

/** `problem`, said of `where`. */
function at(where: string, problem: string | undefined): string | undefined {
  return problem === undefined ? undefined : `${where}: ${problem}`;
}

function checkU64(n: number, what: string): string | undefined {
  return Number.isSafeInteger(n) && n >= 0 ? undefined : `${what} must be a non-negative safe integer`;
}
