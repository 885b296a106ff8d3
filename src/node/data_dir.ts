import { join } from "node:path";
import type { EngineName } from "../engine/engine.js";
import { mkdirDurable, type Disk, type StorageError, type StorageResult } from "../storage/index.js";
import { fromUtf8, utf8 } from "../util/bytes.js";

/** Who this node is and whom it started with; written once at bootstrap, then read at every start. */
export interface NodeIdentity {
  readonly name: string;
  /** The members at bootstrap (name → peer address); later changes travel through the log. */
  readonly members: readonly { readonly name: string; readonly peerAddr: string }[];
  /** Started with --join: the configuration comes from the cluster, not from `members`. */
  readonly joined?: boolean;
  /** The consensus engine that wrote this directory; absent: raft (written before engines had names). */
  readonly engine?: EngineName;
}

export const identityFile = "identity.json";

export function fail<T>(error: StorageError): StorageResult<T> {
  return { ok: false, error };
}

/**
 * Makes the data directory durable and reads who this node is, if it was ever started; a directory
 * another engine wrote is refused before anything in it is read as this engine's.
 */
export async function openDataDir(
  disk: Disk,
  dir: string,
  engine: EngineName,
): Promise<StorageResult<NodeIdentity | undefined>> {
  // The data dir and every parent of it may be new (or left unsynced by a killed process): they
  // must be durable before identity.json, wal/ and snap/ are created in it.
  try {
    await mkdirDurable(disk, dir);
  } catch (cause) {
    return fail(ioError(cause, dir));
  }
  const identity = await readIdentity(disk, dir);
  if (!identity.ok || identity.value === undefined) return identity;
  const written = identity.value.engine ?? "raft";
  if (written === engine) return identity;
  const file = join(dir, identityFile);
  return fail({
    type: "corrupt",
    file,
    offset: 0,
    message: `${dir} was written by the ${written} engine, not ${engine}: start it with --engine ${written}`,
  });
}

/** Writes identity.json durably (a temporary file renamed into place). */
export async function writeIdentity(disk: Disk, dir: string, identity: NodeIdentity): Promise<StorageResult<void>> {
  const path = join(dir, identityFile);
  const temp = `${path}.tmp`;
  try {
    await disk.unlink(temp).catch(() => undefined);
    const file = await disk.open(temp, { create: true });
    try {
      await file.write(utf8(JSON.stringify(identity, null, 2) + "\n"), 0);
      await file.datasync();
    } finally {
      await file.close();
    }
    await disk.rename(temp, path);
    await disk.syncDir(dir);
    return { ok: true, value: undefined };
  } catch (cause) {
    return fail(ioError(cause, path));
  }
}

async function readIdentity(disk: Disk, dir: string): Promise<StorageResult<NodeIdentity | undefined>> {
  const path = join(dir, identityFile);
  let bytes: Uint8Array;
  try {
    bytes = await disk.readFile(path);
  } catch (cause) {
    if (errnoOf(cause) === "ENOENT") return { ok: true, value: undefined };
    return fail(ioError(cause, path));
  }
  try {
    const parsed: unknown = JSON.parse(fromUtf8(bytes));
    if (isIdentity(parsed)) return { ok: true, value: parsed };
  } catch {
    // Reported below with the file's name.
  }
  return fail({ type: "corrupt", file: path, offset: 0, message: `${path} is not a raftkv identity file` });
}

function isIdentity(value: unknown): value is NodeIdentity {
  if (typeof value !== "object" || value === null) return false;
  const v = value as { name?: unknown; members?: unknown; engine?: unknown };
  return (
    (v.engine === undefined || v.engine === "raft" || v.engine === "multi-paxos" || v.engine === "zab") &&
    typeof v.name === "string" &&
    Array.isArray(v.members) &&
    v.members.every(
      (m: unknown) =>
        typeof m === "object" &&
        m !== null &&
        typeof (m as { name?: unknown }).name === "string" &&
        typeof (m as { peerAddr?: unknown }).peerAddr === "string",
    )
  );
}

function errnoOf(cause: unknown): string | undefined {
  return cause instanceof Error && "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
}

function ioError(cause: unknown, file: string): StorageError {
  const code = errnoOf(cause);
  if (code === undefined) throw cause;
  const message = `${file}: ${code}${cause instanceof Error ? ` (${cause.message.split("\n", 1)[0]})` : ""}`;
  return code === "ENOSPC" || code === "EDQUOT"
    ? { type: "noSpace", file, message }
    : { type: "io", file, code, message };
}
