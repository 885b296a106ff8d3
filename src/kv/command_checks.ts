import { asciiBytes, binaryString, bytes16Size, bytes32Size } from "./binary.js";
import type { KvCommand, LeaseCheckpoint, Session, TxnCommand, TxnOp } from "./commands.js";
import { isAuthCommand, principalOf, sessionOf } from "./commands.js";
import { authBodySize, checkAuthName } from "./auth_codec.js";
import { etcdTxnProblemText, etcdTxnSize } from "./etcd_checks.js";
import { checkKey, checkValue } from "./key_checks.js";

export { checkKey, checkValue } from "./key_checks.js";
import { clientIdBytesMax, commandBytesMax, leaseCheckpointsMax, leaseTtlSecondsMax, txnOpsMax } from "./limits.js";

/** Bytes of the command header: version, kind, flags (command_codec.ts). */
const headerBytes = 3;
const opTypes = new Set<string>(["put", "get", "delete"]);

/**
 * Why `command` cannot be encoded (a limit or field it breaks), or undefined when it can. Callers
 * building commands from user input (the HTTP server) check this first; `encodeCommand` asserts it.
 */
export function validateCommand(command: KvCommand): string | undefined {
  const size = commandSize(command);
  return typeof size === "string" ? size : undefined;
}

/*
 * Sizing, which is also validation: each limit is checked while adding up the bytes, so a command
 * that encodes is a command that decodes, field for field.
 */

export function commandSize(command: KvCommand): number | string {
  let size = headerBytes;
  const session = sessionOf(command);
  if (session !== undefined) {
    const problem = checkSession(session);
    if (problem !== undefined) return problem;
    size += 1 + session.clientId.length + 8;
  }
  const principal = principalOf(command);
  if (principal !== undefined) {
    const problem = principal === "" ? undefined : checkAuthName(principal);
    if (problem !== undefined) return `principal: ${problem}`;
    size += 1 + principal.length;
  }
  const body = bodySize(command);
  if (typeof body === "string") return body;
  size += body;
  if (size > commandBytesMax) return `command of ${size} bytes exceeds ${commandBytesMax}`;
  return size;
}

function bodySize(command: KvCommand): number | string {
  if (isAuthCommand(command)) return authBodySize(command);
  switch (command.type) {
    case "put": {
      const problem =
        at("put", checkKey(command.key)) ??
        at("put", checkValue(command.value)) ??
        (command.ifModRevision === undefined ? undefined : checkU64(command.ifModRevision, "put ifModRevision")) ??
        (command.lease === undefined ? undefined : at("put", checkLeaseId(command.lease)));
      if (problem !== undefined) return problem;
      const optional = (command.ifModRevision === undefined ? 0 : 8) + (command.lease === undefined ? 0 : 8);
      return optional + bytes16Size(command.key) + bytes32Size(command.value);
    }
    case "delete":
      return at("delete", checkKey(command.key)) ?? bytes16Size(command.key);
    case "txn":
      return txnSize(command);
    case "leaseGrant":
      return at("leaseGrant", checkLeaseId(command.id) ?? checkTtl(command.ttlSeconds)) ?? 16;
    case "leaseRevoke":
      return at("leaseRevoke", checkLeaseId(command.id)) ?? 8;
    case "leaseCheckpoint":
      return checkpointsSize(command.checkpoints);
    case "compact":
      return checkU64(command.revision, "compact revision") ?? 8;
    case "etcdTxn": {
      const size = etcdTxnSize(command);
      return typeof size === "number" ? size : `etcdTxn: ${etcdTxnProblemText(size)}`;
    }
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
      if (!opTypes.has(op.type)) return `${where}: unknown op type ${op.type as string}`;
      const put = op.type === "put" ? op : undefined;
      const problem =
        at(where, checkKey(op.key)) ??
        (put === undefined ? undefined : at(where, checkValue(put.value))) ??
        (put?.lease === undefined ? undefined : at(where, checkLeaseId(put.lease)));
      if (problem !== undefined) return problem;
      size +=
        1 + bytes16Size(op.key) + (put === undefined ? 0 : bytes32Size(put.value) + (put.lease === undefined ? 0 : 8));
    }
    const duplicate = duplicateWrite(ops, branch);
    if (duplicate !== undefined) return duplicate;
  }
  return size;
}

function checkpointsSize(checkpoints: readonly LeaseCheckpoint[]): number | string {
  if (checkpoints.length === 0 || checkpoints.length > leaseCheckpointsMax)
    return `leaseCheckpoint must name 1 to ${leaseCheckpointsMax} leases`;
  for (const [i, c] of checkpoints.entries()) {
    const problem = checkLeaseId(c.id) ?? checkU64(c.remainingMs, "remainingMs");
    if (problem !== undefined) return `leaseCheckpoint ${i}: ${problem}`;
  }
  return 2 + 16 * checkpoints.length;
}

/** Why `id` cannot name a lease (a positive safe integer), or undefined. */
export function checkLeaseId(id: number): string | undefined {
  return Number.isSafeInteger(id) && id >= 1 ? undefined : "a lease id is a positive safe integer";
}

/** Why `ttlSeconds` cannot be a lease's TTL as the state machine sees it (the server asks for more), or undefined. */
export function checkTtl(ttlSeconds: number): string | undefined {
  return Number.isSafeInteger(ttlSeconds) && ttlSeconds >= 1 && ttlSeconds <= leaseTtlSecondsMax
    ? undefined
    : `a lease TTL is 1 to ${leaseTtlSecondsMax} seconds`;
}

/** Why the branch `ops` is invalid because it writes a key twice, or undefined. */
export function duplicateWrite(ops: readonly TxnOp[], branch: string): string | undefined {
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

/** `problem`, said of `where`. */
export function at(where: string, problem: string | undefined): string | undefined {
  return problem === undefined ? undefined : `${where}: ${problem}`;
}

function checkU64(n: number, what: string): string | undefined {
  return Number.isSafeInteger(n) && n >= 0 ? undefined : `${what} must be a non-negative safe integer`;
}
