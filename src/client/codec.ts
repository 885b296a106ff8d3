/**
 * The wire form of docs/api.md as this client speaks it. Requests always say `?encoding=base64`, so every
 * key and value inside JSON (both directions) is base64 and binary data round-trips exactly. Keys in the
 * URL path and `prefix`/`from`/`to` in the query are percent-encoded bytes (every byte outside RFC 3986's
 * unreserved set is escaped), so the server must percent-decode them to bytes, never as UTF-8 text.
 * Responses are decoded here at the boundary: anything that is not the shape docs/api.md gives is rejected.
 */
import type {
  Bytes,
  Compare,
  CompactResult,
  KeyValue,
  Lease,
  LeaseRevokeResult,
  LeaseTimeToLive,
  Member,
  RangeResult,
  Status,
  TxnOp,
  TxnOpResult,
  TxnResult,
} from "./types.js";

import { percentDecode, percentEncode } from "../util/percent.js";

export { percentDecode, percentEncode };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function toBytes(data: Bytes): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

export function base64(data: Bytes): string {
  const bytes = toBytes(data);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict: Buffer.from(…, "base64") silently skips bad characters, which would corrupt data unnoticed. */
export function fromBase64(text: string, field: string): Uint8Array {
  if (!base64Pattern.test(text)) throw new DecodeError(`${field} is not base64`);
  const buffer = Buffer.from(text, "base64");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** A response that does not have the shape docs/api.md gives; the client reports it as `bad_response`. */
export class DecodeError extends Error {
  override name = "DecodeError";
}

export type Json = Record<string, unknown>;

export function object(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DecodeError(`${what} is not a JSON object`);
  }
  return value as Json;
}

export function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new DecodeError(`${what} is not a JSON array`);
  return value;
}

export function integer(json: Json, field: string): number {
  const value = json[field];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new DecodeError(`"${field}" is not a non-negative integer`);
  }
  return value;
}

export function boolean(json: Json, field: string): boolean {
  const value = json[field];
  if (typeof value !== "boolean") throw new DecodeError(`"${field}" is not a boolean`);
  return value;
}

export function string(json: Json, field: string): string {
  const value = json[field];
  if (typeof value !== "string") throw new DecodeError(`"${field}" is not a string`);
  return value;
}

/** A time in seconds; the leader's clock may give fractions. */
function seconds(json: Json, field: string): number {
  const value = json[field];
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new DecodeError(`"${field}" is not a non-negative number of seconds`);
  }
  return value;
}

/** A field a server may leave out when it is zero (etcd's JSON does): absent reads as 0. */
function zeroable(json: Json, field: string): number {
  return json[field] === undefined ? 0 : integer(json, field);
}

/** Member names are strings ("n1"); a server that sends a number is read leniently as its decimal form. */
function name(json: Json, field: string): string {
  const value = json[field];
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return string(json, field);
}

/** `deleted` is 0|1 in docs/api.md; a boolean is accepted too. */
function flag(json: Json, field: string): boolean {
  const value = json[field];
  if (value === 0 || value === 1) return value === 1;
  return boolean(json, field);
}

export function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(body)) as unknown;
  } catch {
    throw new DecodeError("the body is not JSON");
  }
}

export function decodeKeyValue(value: unknown): KeyValue {
  const json = object(value, "a key-value");
  const key = fromBase64(string(json, "key"), "key");
  const bytes = fromBase64(string(json, "value"), "value");
  return {
    key,
    value: bytes,
    keyText: decoder.decode(key),
    text: decoder.decode(bytes),
    createRevision: integer(json, "createRevision"),
    modRevision: integer(json, "modRevision"),
    version: integer(json, "version"),
    lease: zeroable(json, "lease"),
  };
}

/** `current` of a 409 compare_failed: a key-value, or null when the key does not exist. */
export function decodeCurrent(value: unknown): KeyValue | undefined {
  const json = object(value, "a compare_failed answer");
  const current = json["current"];
  return current === null || current === undefined ? undefined : decodeKeyValue(current);
}

export function decodeRevision(value: unknown): number {
  return integer(object(value, "a write answer"), "revision");
}

export function decodeDelete(value: unknown): { revision: number; deleted: boolean } {
  const json = object(value, "a delete answer");
  return { revision: integer(json, "revision"), deleted: flag(json, "deleted") };
}

export function decodeRange(value: unknown): RangeResult {
  const json = object(value, "a range answer");
  return {
    kvs: array(json["kvs"], '"kvs"').map(decodeKeyValue),
    more: boolean(json, "more"),
    revision: integer(json, "revision"),
  };
}

export function encodeCompare(compare: Compare): Json {
  const out: Json = { key: base64(compare.key) };
  if (compare.value !== undefined) out["value"] = base64(compare.value);
  if (compare.modRevision !== undefined) out["modRevision"] = compare.modRevision;
  return out;
}

export function encodeOp(op: TxnOp): Json {
  switch (op.type) {
    case "put": {
      const put: Json = { key: base64(op.key), value: base64(op.value) };
      if (op.lease !== undefined) put["lease"] = op.lease;
      return { put };
    }
    case "get":
      return { get: { key: base64(op.key) } };
    case "delete":
      return { delete: { key: base64(op.key) } };
  }
}

/**
 * A txn op's answer, keyed like the op: `{"put":{"revision":R}}`, `{"get":{"kv":KV|null}}`,
 * `{"delete":{"deleted":0|1}}`. A put answer without its own revision takes the txn's.
 */
function decodeOpResult(value: unknown, txnRevision: number): TxnOpResult {
  const json = object(value, "a txn response");
  if ("put" in json) {
    const put = object(json["put"], '"put"');
    return { type: "put", revision: put["revision"] === undefined ? txnRevision : integer(put, "revision") };
  }
  if ("get" in json) {
    const kv = object(json["get"], '"get"')["kv"];
    return { type: "get", kv: kv === null || kv === undefined ? undefined : decodeKeyValue(kv) };
  }
  if ("delete" in json) return { type: "delete", deleted: flag(object(json["delete"], '"delete"'), "deleted") };
  throw new DecodeError("a txn response is not put, get or delete");
}

export function decodeTxn(value: unknown): TxnResult {
  const json = object(value, "a txn answer");
  const revision = integer(json, "revision");
  return {
    succeeded: boolean(json, "succeeded"),
    revision,
    responses: array(json["responses"], '"responses"').map((r) => decodeOpResult(r, revision)),
  };
}

function decodeMember(value: unknown): Member {
  const json = object(value, "a member");
  return { id: name(json, "id"), peerAddr: string(json, "peerAddr"), learner: boolean(json, "learner") };
}

/** The member list: `{"members":[...]}`, as in `/v1/status` (a bare array is accepted too). */
export function decodeMembers(value: unknown): Member[] {
  const list = Array.isArray(value) ? value : object(value, "a member list")["members"];
  return array(list, '"members"').map(decodeMember);
}

export function decodeStatus(value: unknown): Status {
  const json = object(value, "a status");
  const leader = json["leader"];
  return {
    id: name(json, "id"),
    role: string(json, "role"),
    term: integer(json, "term"),
    leader: leader === null || leader === undefined || leader === "" ? undefined : name(json, "leader"),
    commitIndex: integer(json, "commitIndex"),
    appliedIndex: integer(json, "appliedIndex"),
    lastIndex: integer(json, "lastIndex"),
    snapshotIndex: integer(json, "snapshotIndex"),
    members: decodeMembers(json),
  };
}

/** A grant's or a keepalive's answer: `{"id":N,"ttl":S}`. */
export function decodeLease(value: unknown): Lease {
  const json = object(value, "a lease");
  return { id: integer(json, "id"), ttl: integer(json, "ttl") };
}

export function decodeLeaseRevoke(value: unknown): LeaseRevokeResult {
  const json = object(value, "a revoke answer");
  return { revision: integer(json, "revision"), deleted: integer(json, "deleted") };
}

/** `{"id","ttl","remaining","keys"?}`, keys in base64. */
export function decodeLeaseTimeToLive(value: unknown): LeaseTimeToLive {
  const json = object(value, "a lease");
  const keys = json["keys"];
  return {
    ...decodeLease(json),
    remaining: seconds(json, "remaining"),
    keys:
      keys === undefined
        ? undefined
        : array(keys, '"keys"').map((key, i) => {
            if (typeof key !== "string") throw new DecodeError(`keys[${i}] is not a string`);
            return fromBase64(key, `keys[${i}]`);
          }),
  };
}

export function decodeLeases(value: unknown): Lease[] {
  return array(object(value, "a lease list")["leases"], '"leases"').map(decodeLease);
}

export function decodeCompact(value: unknown): CompactResult {
  const json = object(value, "a compact answer");
  return { compactRevision: integer(json, "compactRevision"), revision: integer(json, "revision") };
}

/** `{"error": CODE, "message": TEXT}`; undefined when the body is not that. */
export function decodeError(body: Uint8Array): { code: string; message: string } | undefined {
  try {
    const json = object(parseJson(body), "an error");
    const code = json["error"];
    const message = json["message"];
    if (typeof code !== "string") return undefined;
    return { code, message: typeof message === "string" ? message : code };
  } catch {
    return undefined;
  }
}
