import { assert } from "../util/assert.js";
import { Reader, Writer, asciiBytes, asciiString, isVisibleAscii } from "./binary.js";
import { clientIdBytesMax, commandBytesMax, leaseCheckpointsMax, txnOpsMax } from "./limits.js";
import type { KvCommand, LeaseCheckpoint, Session, TxnCommand, TxnCompare, TxnOp } from "./commands.js";
import { isAuthCommand, principalOf, sessionOf } from "./commands.js";
import type { AuthCommand } from "./auth_commands.js";
import { authKindCodes, readAuthBody, readPrincipal, writeAuthBody } from "./auth_codec.js";
import { readEtcdTxnCommand, writeEtcdTxn } from "./etcd_codec.js";
import { at, checkKey, checkLeaseId, checkTtl, checkValue, commandSize, duplicateWrite } from "./command_checks.js";

/*
 * The binary form of the commands (commands.ts), the payload of a Raft log entry.
 *
 * Encoding v1, little-endian; every length is checked against limits.ts and the input must be used up
 * exactly (trailing bytes are an error):
 *   u8 version (1), u8 kind (1 put, 2 delete, 3 txn, 4 leaseGrant, 5 leaseRevoke, 6 leaseCheckpoint,
 *   7 compact, 8 to 18 the auth commands of auth_codec.ts, 19 etcdTxn), u8 flags (bit 0 session,
 *   bit 1 ifModRevision, bit 2 lease, bit 3 principal; only put, delete, txn and etcdTxn take a
 *   session, only put the next two, every kind but leaseCheckpoint a principal)
 *   session          u8 clientId length, clientId (visible ASCII), u64 seq
 *   principal        u8 length (0: noUser), name (visible ASCII)
 *   put              [u64 ifModRevision], [u64 lease], key, value
 *   delete           key
 *   txn              u16 count, compares; u16 count, success ops; u16 count, failure ops
 *     compare        u8 flags (bit 0 value, bit 1 modRevision; at least one), key, [value], [u64 modRevision]
 *     op             u8 kind (1 put, 2 get, 3 delete, 4 put with a lease), key, [value if a put], [u64 lease if 4]
 *   leaseGrant       u64 id, u64 ttlSeconds
 *   leaseRevoke      u64 id
 *   leaseCheckpoint  u16 count, count × (u64 id, u64 remainingMs)
 *   compact          u64 revision
 *   etcdTxn          the txn of etcd_codec.ts
 * where key = u16 length + bytes (1..keyBytesMax) and value = u32 length + bytes (0..valueBytesMax).
 * Unused flag bits must be 0, so each command has exactly one encoding.
 */

type DecodeResult = { readonly ok: true; readonly command: KvCommand } | { readonly ok: false; readonly error: string };

const commandVersion = 1;
const kindCodes = {
  put: 1,
  delete: 2,
  txn: 3,
  leaseGrant: 4,
  leaseRevoke: 5,
  leaseCheckpoint: 6,
  compact: 7,
  ...authKindCodes,
  etcdTxn: 19,
} as const;
const opCodes = { put: 1, get: 2, delete: 3, putWithLease: 4 } as const;
const flagSession = 1;
const flagIfModRevision = 2;
const flagLease = 4;
const flagPrincipal = 8;
const compareFlagValue = 1;
const compareFlagModRevision = 2;

/** The command's bytes. The command must pass `validateCommand` (a programmer error otherwise). */
export function encodeCommand(command: KvCommand): Uint8Array {
  const size = commandSize(command);
  assert(typeof size === "number", `encodeCommand: ${String(size)}`);
  const w = new Writer(size);
  w.u8(commandVersion);
  w.u8(kindCodes[command.type]);
  const session = sessionOf(command);
  const put = command.type === "put" ? command : undefined;
  const principal = principalOf(command);
  w.u8(
    (session !== undefined ? flagSession : 0) |
      (put?.ifModRevision !== undefined ? flagIfModRevision : 0) |
      (put?.lease !== undefined ? flagLease : 0) |
      (principal !== undefined ? flagPrincipal : 0),
  );
  if (session !== undefined) {
    w.u8(session.clientId.length);
    w.raw(asciiBytes(session.clientId)!);
    w.u64(session.seq);
  }
  if (principal !== undefined) {
    w.u8(principal.length);
    w.raw(asciiBytes(principal) ?? new Uint8Array(0));
  }
  writeBody(w, command);
  return w.finish();
}

function writeBody(w: Writer, command: KvCommand): void {
  if (isAuthCommand(command)) {
    writeAuthBody(w, command);
    return;
  }
  switch (command.type) {
    case "put":
      if (command.ifModRevision !== undefined) w.u64(command.ifModRevision);
      if (command.lease !== undefined) w.u64(command.lease);
      w.bytes16(command.key);
      w.bytes32(command.value);
      return;
    case "delete":
      w.bytes16(command.key);
      return;
    case "txn":
      writeTxn(w, command);
      return;
    case "leaseGrant":
      w.u64(command.id);
      w.u64(command.ttlSeconds);
      return;
    case "leaseRevoke":
      w.u64(command.id);
      return;
    case "leaseCheckpoint":
      w.u16(command.checkpoints.length);
      for (const c of command.checkpoints) {
        w.u64(c.id);
        w.u64(c.remainingMs);
      }
      return;
    case "compact":
      w.u64(command.revision);
      return;
    case "etcdTxn":
      writeEtcdTxn(w, command);
      return;
  }
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
      w.u8(op.type === "put" && op.lease !== undefined ? opCodes.putWithLease : opCodes[op.type]);
      w.bytes16(op.key);
      if (op.type === "put") w.bytes32(op.value);
      if (op.type === "put" && op.lease !== undefined) w.u64(op.lease);
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
  if ((flags & ~(flagSession | flagIfModRevision | flagLease | flagPrincipal)) !== 0)
    return fail(`unknown command flags 0x${flags.toString(16)}`);
  if (kind !== kindCodes.put && (flags & (flagIfModRevision | flagLease)) !== 0)
    return fail("ifModRevision or lease on a command that is not a put");
  if (kind > kindCodes.txn && kind !== kindCodes.etcdTxn && (flags & flagSession) !== 0)
    return fail("a session on a command that takes none");
  if (kind === kindCodes.leaseCheckpoint && (flags & flagPrincipal) !== 0)
    return fail("a principal on a leaseCheckpoint");
  let session: Session | undefined;
  if ((flags & flagSession) !== 0) {
    const decoded = readSession(r);
    if (typeof decoded === "string") return fail(decoded);
    session = decoded;
  }
  let principal: string | undefined;
  if ((flags & flagPrincipal) !== 0) {
    const decoded = readPrincipal(r);
    if (typeof decoded !== "string") return fail(`principal: ${decoded.problem}`);
    principal = decoded;
  }
  const command =
    kind >= authKindCodes.userAdd && kind !== kindCodes.etcdTxn
      ? readAuthBody(r, kind)
      : readBody(r, { kind, flags, session });
  if (typeof command === "string") return fail(command);
  if (r.remaining !== 0) return fail(`${r.remaining} trailing bytes after the command`);
  // A principal is set after the body is read: the body readers build objects without one.
  return { ok: true, command: principal === undefined ? command : withPrincipal(command, principal) };
}

function withPrincipal(command: KvCommand | AuthCommand, principal: string): KvCommand {
  return { ...command, principal } as KvCommand;
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
      return readPut(r, flags, session);
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
    case kindCodes.leaseGrant: {
      const id = readLeaseId(r, "leaseGrant");
      if (typeof id === "string") return id;
      const ttlSeconds = r.u64();
      if (ttlSeconds === undefined) return `leaseGrant ttlSeconds: ${u64Problem}`;
      return at("leaseGrant", checkTtl(ttlSeconds)) ?? { type: "leaseGrant", id, ttlSeconds };
    }
    case kindCodes.leaseRevoke: {
      const id = readLeaseId(r, "leaseRevoke");
      return typeof id === "string" ? id : { type: "leaseRevoke", id };
    }
    case kindCodes.leaseCheckpoint:
      return readCheckpoints(r);
    case kindCodes.compact: {
      const revision = r.u64();
      return revision === undefined ? `compact revision: ${u64Problem}` : { type: "compact", revision };
    }
    case kindCodes.etcdTxn:
      return readEtcdTxnCommand(r, session);
    default:
      return `unknown command kind ${kind}`;
  }
}

function readPut(r: Reader, flags: number, session: Session | undefined): KvCommand | string {
  let ifModRevision: number | undefined;
  if ((flags & flagIfModRevision) !== 0) {
    ifModRevision = r.u64();
    if (ifModRevision === undefined) return `put ifModRevision: ${u64Problem}`;
  }
  let lease: number | undefined;
  if ((flags & flagLease) !== 0) {
    const id = readLeaseId(r, "put");
    if (typeof id === "string") return id;
    lease = id;
  }
  const key = readKey(r, "put");
  if (typeof key === "string") return key;
  const value = readValue(r, "put");
  if (typeof value === "string") return value;
  // Built with only the fields present (exactOptionalPropertyTypes).
  const put: {
    type: "put";
    key: Uint8Array;
    value: Uint8Array;
    ifModRevision?: number;
    lease?: number;
    session?: Session;
  } = { type: "put", key, value };
  if (ifModRevision !== undefined) put.ifModRevision = ifModRevision;
  if (lease !== undefined) put.lease = lease;
  if (session !== undefined) put.session = session;
  return put;
}

function readLeaseId(r: Reader, where: string): number | string {
  const id = r.u64();
  if (id === undefined) return `${where} lease: ${u64Problem}`;
  return at(where, checkLeaseId(id)) ?? id;
}

function readCheckpoints(r: Reader): KvCommand | string {
  const count = r.u16();
  if (count === undefined) return "truncated leaseCheckpoint count";
  if (count === 0 || count > leaseCheckpointsMax)
    return `leaseCheckpoint of ${count} leases (1 to ${leaseCheckpointsMax})`;
  const checkpoints: LeaseCheckpoint[] = [];
  for (let i = 0; i < count; i++) {
    const id = readLeaseId(r, `leaseCheckpoint ${i}`);
    if (typeof id === "string") return id;
    const remainingMs = r.u64();
    if (remainingMs === undefined) return `leaseCheckpoint ${i} remainingMs: ${u64Problem}`;
    checkpoints.push({ id, remainingMs });
  }
  return { type: "leaseCheckpoint", checkpoints };
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
      case opCodes.putWithLease: {
        const value = readValue(r, where);
        if (typeof value === "string") return value;
        const lease = readLeaseId(r, where);
        if (typeof lease === "string") return lease;
        ops.push({ type: "put", key, value, lease });
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
