import type { WatchRange, WatchRequest } from "../coord/index.js";
import { checkKey } from "../kv/index.js";
import { HttpError } from "./http_util.js";
import { decodeKeyText, jsonToBytes, rawQuery, type Encoding } from "./wire.js";

/*
 * What a watch asks for, from GET /v1/watch's query or from the JSON body that adds a watch to a
 * stream: the same fields, checked the same way (docs/coordination.md, "Watch").
 */

type RangeField = "key" | "prefix" | "from" | "to";
const rangeFields: readonly RangeField[] = ["key", "prefix", "from", "to"];

/** The fields that describe one watch: a stream opened with `stream=true` takes none of them. */
export const watchFields: readonly string[] = [...rangeFields, "fromRevision", "prevKv", "progressNotify"];

/** A range field's bytes as the binary string the hub matches keys with (an empty prefix or bound is allowed). */
function rangeKey(bytes: Uint8Array, name: RangeField): string {
  if (bytes.length > 0 || name === "key") {
    const problem = checkKey(bytes);
    if (problem !== undefined) throw new HttpError(400, "bad_request", `${name}: ${problem}`);
  }
  return Buffer.from(bytes).toString("latin1");
}

function rangeOf(keys: Partial<Record<RangeField, string>>): WatchRange {
  const { key, prefix, from, to } = keys;
  const given = [key, prefix, from].filter((p) => p !== undefined).length;
  if (given !== 1)
    throw new HttpError(400, "bad_request", "give exactly one of key=K, prefix=P and from=A (with to=B)");
  if (to !== undefined && from === undefined) throw new HttpError(400, "bad_request", "to=B needs from=A");
  if (key !== undefined) return { key };
  if (prefix !== undefined) return { prefix };
  return to === undefined ? { from: from! } : { from: from!, to };
}

/** `revision` when it is absent or a positive integer; `given` is what the request said, for the refusal. */
function fromRevisionOf(revision: number | undefined, given: unknown): number | undefined {
  if (revision === undefined || (Number.isSafeInteger(revision) && revision >= 1)) return revision;
  throw new HttpError(400, "bad_request", `fromRevision must be a positive integer, not ${JSON.stringify(given)}`);
}

function watchRequest(
  range: WatchRange,
  fromRevision: number | undefined,
  prevKv: boolean,
  progressNotify: boolean,
): WatchRequest {
  return { range, prevKv, progressNotify, ...(fromRevision === undefined ? {} : { fromRevision }) };
}

/** true, false, or present without a value (true). */
export function booleanParam(query: URLSearchParams, name: string): boolean {
  const text = query.get(name);
  if (text === null || text === "false") return false;
  if (text === "" || text === "true") return true;
  throw new HttpError(400, "bad_request", `${name} must be true or false, not ${JSON.stringify(text)}`);
}

/** GET /v1/watch?key=K|prefix=P|from=A[&to=B]&...: keys are percent-encoded bytes, whatever the encoding. */
export function watchRequestFromQuery(url: URL): WatchRequest {
  const query = url.searchParams;
  const raw = rawQuery(url.search);
  const keys: Partial<Record<RangeField, string>> = {};
  for (const name of rangeFields) {
    const text = raw.get(name);
    if (text !== undefined) keys[name] = rangeKey(decodeKeyText(text, name), name);
  }
  const range = rangeOf(keys);
  const fromText = query.get("fromRevision");
  const fromRevision = fromRevisionOf(
    fromText === null ? undefined : /^\d{1,15}$/.test(fromText) ? Number(fromText) : Number.NaN,
    fromText,
  );
  return watchRequest(range, fromRevision, booleanParam(query, "prevKv"), booleanParam(query, "progressNotify"));
}

function booleanField(body: Record<string, unknown>, name: string): boolean {
  const value = body[name];
  if (value === undefined || typeof value === "boolean") return value === true;
  throw new HttpError(400, "bad_request", `${name} must be true or false, not ${JSON.stringify(value)}`);
}

/**
 * POST /v1/watch/streams/{S}/watches: `{"key"|"prefix"|"from" (+"to"), "fromRevision"?, "prevKv"?,
 * "progressNotify"?}`, keys as JSON strings in `encoding` (the request's, as on every JSON route).
 */
export function watchRequestFromJson(json: unknown, encoding: Encoding): WatchRequest {
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new HttpError(400, "bad_request", 'the body must be a JSON object such as {"prefix":"P"}');
  const body = json as Record<string, unknown>;
  const keys: Partial<Record<RangeField, string>> = {};
  for (const name of rangeFields) {
    const value = body[name];
    if (value !== undefined) keys[name] = rangeKey(jsonToBytes(value, encoding, name), name);
  }
  const range = rangeOf(keys);
  const given = body.fromRevision;
  const fromRevision = fromRevisionOf(
    given === undefined ? undefined : typeof given === "number" ? given : Number.NaN,
    given,
  );
  return watchRequest(range, fromRevision, booleanField(body, "prevKv"), booleanField(body, "progressNotify"));
}
