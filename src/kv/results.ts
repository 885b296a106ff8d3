import type { Reader, Writer } from "./binary.js";
import type { KeyValue } from "./key_value.js";
import { keyValueSize, readKeyValue, writeKeyValue } from "./key_value.js";
import type { AuthRefusal } from "./auth_commands.js";

export type { KeyValue } from "./key_value.js";
import type { EtcdResponse } from "./etcd_commands.js";
import { etcdResponsesSize, readEtcdResponses, writeEtcdResponses } from "./etcd_results.js";
import { txnOpsMax } from "./limits.js";

/** One txn op's outcome; a put's revision is the txn's. */
export type TxnResponse =
  | { readonly type: "put" }
  | { readonly type: "get"; readonly kv: KeyValue | null }
  | { readonly type: "delete"; readonly deleted: 0 | 1 };

/**
 * What applying a command gave. `revision` is always the store's revision after the command: the new
 * one after a write, the unchanged one otherwise (a failed compare, a delete of an absent key, a txn
 * whose branch wrote nothing).
 */
export type KvResult =
  | { readonly type: "put"; readonly revision: number }
  | { readonly type: "compareFailed"; readonly current: KeyValue | null; readonly revision: number }
  | { readonly type: "delete"; readonly revision: number; readonly deleted: 0 | 1 }
  | {
      readonly type: "txn";
      readonly succeeded: boolean;
      readonly revision: number;
      readonly responses: readonly TxnResponse[];
    }
  /** etcd's txn (also its Put and DeleteRange): `revision` is the txn's if it wrote, else the store's. */
  | {
      readonly type: "etcdTxn";
      readonly succeeded: boolean;
      readonly revision: number;
      readonly responses: readonly EtcdResponse[];
    }
  /** An etcd put with ignoreValue or ignoreLease found no key (etcd's `etcdserver: key not found`): nothing was written. */
  | { readonly type: "keyNotFound"; readonly revision: number }
  /** A put (or a txn's put) named a lease that does not exist (any more): nothing was written. */
  | { readonly type: "leaseNotFound"; readonly id: number; readonly revision: number }
  | LeaseResult
  | CompactResult
  /** The command's principal lacked a permission at the command's log position: nothing changed. */
  | { readonly type: "permissionDenied"; readonly revision: number }
  | AuthResult
  /** The entry did not decode, or its session's seq was stale; applied as a no-op. */
  | { readonly type: "invalid"; readonly error: string };

export type LeaseResult =
  | { readonly type: "leaseGranted"; readonly id: number; readonly ttlSeconds: number; readonly revision: number }
  | { readonly type: "leaseExists"; readonly id: number; readonly revision: number }
  /** Its keys were deleted at `revision` (unchanged if it had none). */
  | { readonly type: "leaseRevoked"; readonly id: number; readonly deleted: number; readonly revision: number }
  | { readonly type: "leaseCheckpointed"; readonly revision: number };

/** An auth command's outcome: the auth revision after it, or why it changed nothing. */
export type AuthResult =
  | { readonly type: "authChanged"; readonly authRevision: number; readonly revision: number }
  | { readonly type: "authRefused"; readonly reason: AuthRefusal; readonly revision: number };

/** A compaction at `compactRevision`, or why not: it is at or below the last one, or above the store's revision. */
export type CompactResult =
  | { readonly type: "compacted"; readonly compactRevision: number; readonly revision: number }
  | {
      readonly type: "compactRefused";
      readonly reason: "compacted" | "future";
      readonly compactRevision: number;
      readonly revision: number;
    };

/** The results a session remembers: those of the commands it makes (put, delete, txn), never `invalid`. */
export type ExecutedResult = Exclude<
  KvResult,
  { readonly type: "invalid" | "permissionDenied" } | LeaseResult | CompactResult | AuthResult
>;

/*
 * Binary form of an ExecutedResult, inside snapshots (the session table). Little-endian:
 *   u8 kind (1 put, 2 compareFailed, 3 delete, 4 txn, 5 leaseNotFound, 6 etcdTxn, 7 keyNotFound),
 *   u64 revision, then
 *   compareFailed  u8 present, [keyValue];   delete  u8 deleted;   leaseNotFound  u64 id
 *   etcdTxn        u8 succeeded, the responses of etcd_results.ts
 *   txn            u8 succeeded, u16 count, count × {u8 kind (1 put, 2 get, 3 delete), get: u8 present,
 *                  [keyValue]; delete: u8 deleted}
 *   keyValue       u16 key length, key, u32 value length, value, u64 createRevision, u64 modRevision,
 *                  u64 version, u64 lease
 */
const resultCodes = {
  put: 1,
  compareFailed: 2,
  delete: 3,
  txn: 4,
  leaseNotFound: 5,
  etcdTxn: 6,
  keyNotFound: 7,
} as const;
const responseCodes = { put: 1, get: 2, delete: 3 } as const;

export function resultSize(result: ExecutedResult): number {
  switch (result.type) {
    case "put":
    case "keyNotFound":
      return 9;
    case "etcdTxn":
      return 10 + etcdResponsesSize(result.responses);
    case "compareFailed":
      return 10 + (result.current === null ? 0 : keyValueSize(result.current));
    case "delete":
      return 10;
    case "leaseNotFound":
      return 17;
    case "txn": {
      let size = 12;
      for (const response of result.responses) size += 1 + responseSize(response);
      return size;
    }
  }
}

function responseSize(response: TxnResponse): number {
  switch (response.type) {
    case "put":
      return 0;
    case "get":
      return 1 + (response.kv === null ? 0 : keyValueSize(response.kv));
    case "delete":
      return 1;
  }
}

export function writeResult(w: Writer, result: ExecutedResult): void {
  w.u8(resultCodes[result.type]);
  w.u64(result.revision);
  switch (result.type) {
    case "put":
    case "keyNotFound":
      return;
    case "etcdTxn":
      w.u8(result.succeeded ? 1 : 0);
      writeEtcdResponses(w, result.responses);
      return;
    case "compareFailed":
      writeOptionalKeyValue(w, result.current);
      return;
    case "delete":
      w.u8(result.deleted);
      return;
    case "leaseNotFound":
      w.u64(result.id);
      return;
    case "txn":
      w.u8(result.succeeded ? 1 : 0);
      w.u16(result.responses.length);
      for (const response of result.responses) {
        w.u8(responseCodes[response.type]);
        if (response.type === "get") writeOptionalKeyValue(w, response.kv);
        else if (response.type === "delete") w.u8(response.deleted);
      }
      return;
  }
}

function writeOptionalKeyValue(w: Writer, kv: KeyValue | null): void {
  w.u8(kv === null ? 0 : 1);
  if (kv !== null) writeKeyValue(w, kv);
}

/** A result remembered by a store at `revision`, or why the bytes are not one. */
export function readResult(r: Reader, revision: number): ExecutedResult | string {
  const code = r.u8();
  const resultRevision = r.u64();
  if (code === undefined || resultRevision === undefined) return "truncated result";
  if (resultRevision > revision) return `result at revision ${resultRevision}, after the store's ${revision}`;
  switch (code) {
    case resultCodes.put:
      return { type: "put", revision: resultRevision };
    case resultCodes.keyNotFound:
      return { type: "keyNotFound", revision: resultRevision };
    case resultCodes.etcdTxn: {
      const succeeded = readFlag(r);
      const responses = typeof succeeded === "string" ? succeeded : readEtcdResponses(r, resultRevision);
      if (typeof responses === "string") return responses;
      return { type: "etcdTxn", succeeded: succeeded === 1, revision: resultRevision, responses };
    }
    case resultCodes.compareFailed: {
      const current = readOptionalKeyValue(r, resultRevision);
      return typeof current === "string" ? current : { type: "compareFailed", current, revision: resultRevision };
    }
    case resultCodes.delete: {
      const deleted = readFlag(r);
      return typeof deleted === "string" ? deleted : { type: "delete", revision: resultRevision, deleted };
    }
    case resultCodes.txn:
      return readTxnResult(r, resultRevision);
    case resultCodes.leaseNotFound: {
      const id = r.u64();
      return id === undefined || id < 1
        ? "bad leaseNotFound id"
        : { type: "leaseNotFound", id, revision: resultRevision };
    }
    default:
      return `unknown result kind ${code}`;
  }
}

function readTxnResult(r: Reader, revision: number): ExecutedResult | string {
  const succeeded = readFlag(r);
  if (typeof succeeded === "string") return succeeded;
  const count = r.u16();
  if (count === undefined) return "truncated txn result";
  if (count > txnOpsMax) return `txn result with ${count} responses`;
  const responses: TxnResponse[] = [];
  for (let i = 0; i < count; i++) {
    const response = readResponse(r, revision);
    if (typeof response === "string") return `txn response ${i}: ${response}`;
    responses.push(response);
  }
  return { type: "txn", succeeded: succeeded === 1, revision, responses };
}

function readResponse(r: Reader, revision: number): TxnResponse | string {
  const code = r.u8();
  switch (code) {
    case undefined:
      return "truncated";
    case responseCodes.put:
      return { type: "put" };
    case responseCodes.get: {
      const kv = readOptionalKeyValue(r, revision);
      return typeof kv === "string" ? kv : { type: "get", kv };
    }
    case responseCodes.delete: {
      const deleted = readFlag(r);
      return typeof deleted === "string" ? deleted : { type: "delete", deleted };
    }
    default:
      return `unknown response kind ${code}`;
  }
}

function readOptionalKeyValue(r: Reader, revision: number): KeyValue | null | string {
  const present = readFlag(r);
  if (typeof present === "string") return present;
  return present === 0 ? null : readKeyValue(r, revision);
}

function readFlag(r: Reader): 0 | 1 | string {
  const flag = r.u8();
  if (flag === undefined) return "truncated";
  if (flag !== 0 && flag !== 1) return `flag byte ${flag} (0 or 1)`;
  return flag;
}
