import { checkLeaseId, type KeyValue, type StoredKv, type TxnResponse } from "../kv/index.js";
import { percentDecode } from "../util/percent.js";
import { HttpError } from "./http_util.js";

/**
 * How bytes appear in JSON (docs/api.md): UTF-8 text by default, base64 with `?encoding=base64`.
 * Keys in the URL path and query are percent-encoded raw bytes either way.
 */
export type Encoding = "text" | "base64";

export function encodingOf(query: URLSearchParams): Encoding {
  const value = query.get("encoding");
  if (value === null || value === "" || value === "text" || value === "utf8") return "text";
  if (value === "base64") return "base64";
  throw new HttpError(400, "bad_request", `unknown encoding ${JSON.stringify(value)}; use base64`);
}

export function bytesToJson(bytes: Uint8Array, encoding: Encoding): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return encoding === "base64" ? buffer.toString("base64") : buffer.toString("utf8");
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function jsonToBytes(value: unknown, encoding: Encoding, field: string): Uint8Array {
  if (typeof value !== "string") throw new HttpError(400, "bad_request", `${field} must be a string`);
  if (encoding === "text") return new Uint8Array(Buffer.from(value, "utf8"));
  if (!base64Pattern.test(value)) throw new HttpError(400, "bad_request", `${field} is not base64`);
  return new Uint8Array(Buffer.from(value, "base64"));
}

/** A binary string's bytes (one char per byte, see src/kv/binary.ts) as JSON text. */
function binaryToJson(text: string, encoding: Encoding): string {
  return Buffer.from(text, "latin1").toString(encoding === "base64" ? "base64" : "utf8");
}

/** `lease` only when the key has one, as etcd's JSON leaves out zero fields. */
function kvJson(key: string, value: string, kv: Omit<StoredKv, "value">): Record<string, unknown> {
  const json: Record<string, unknown> = {
    key,
    value,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
  };
  if (kv.lease !== 0) json["lease"] = kv.lease;
  return json;
}

export function keyValueJson(kv: KeyValue, encoding: Encoding): Record<string, unknown> {
  return kvJson(bytesToJson(kv.key, encoding), bytesToJson(kv.value, encoding), kv);
}

/** The same JSON as keyValueJson, from the store's form (a watch event's). */
export function storedKvJson(key: string, kv: StoredKv, encoding: Encoding): Record<string, unknown> {
  return kvJson(binaryToJson(key, encoding), binaryToJson(kv.value, encoding), kv);
}

export function txnResponseJson(response: TxnResponse, revision: number, encoding: Encoding): Record<string, unknown> {
  switch (response.type) {
    case "put":
      return { put: { revision } };
    case "get":
      return { get: { kv: response.kv === null ? null : keyValueJson(response.kv, encoding) } };
    case "delete":
      return { delete: { deleted: response.deleted } };
  }
}

/** A key from a percent-encoded path segment or query value. */
export function decodeKeyText(text: string, what: string): Uint8Array {
  const bytes = percentDecode(text);
  if (bytes === undefined) throw new HttpError(400, "bad_request", `${what} has a malformed %-escape`);
  return bytes;
}

/**
 * The raw query of a URL as name → percent-encoded value, so byte-valued parameters can be decoded
 * as bytes (URLSearchParams would decode them as UTF-8 text and lose data).
 */
export function rawQuery(search: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of search.replace(/^\?/, "").split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    out.set(eq === -1 ? part : part.slice(0, eq), eq === -1 ? "" : part.slice(eq + 1));
  }
  return out;
}

/** A lease id from a path segment or query value: a positive integer below 2^53. */
export function leaseIdOf(text: string, what: string): number {
  const id = Number(text);
  if (!/^[1-9]\d{0,15}$/.test(text) || checkLeaseId(id) !== undefined)
    throw new HttpError(400, "bad_request", `${what} must be a positive integer below 2^53`);
  return id;
}

/** A lease id given as a JSON number. */
export function leaseIdJson(value: unknown, what: string): number {
  if (typeof value !== "number" || checkLeaseId(value) !== undefined)
    throw new HttpError(400, "bad_request", `${what} must be a positive integer below 2^53`);
  return value;
}

export function leaseNotFound(id: number): HttpError {
  return new HttpError(404, "lease_not_found", `lease ${id} does not exist (never granted, revoked, or expired)`);
}
