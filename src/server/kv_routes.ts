import type { IncomingMessage } from "node:http";
import {
  keySpan,
  rangeSpan,
  checkKey,
  checkValue,
  encodeCommand,
  rangeLimitMax,
  validateCommand,
  valueBytesMax,
  type KvCommand,
  type KvResult,
  type Session,
  type TxnCompare,
  type TxnOp,
} from "../kv/index.js";
import { NodeRequestError, type ReadConsistency } from "../node/index.js";
import { forbidden, requirePermitted, requireRead } from "./auth_gate.js";
import type { Request, ServerContext } from "./context.js";
import { HttpError, readBody, sendBytes, sendJson } from "./http_util.js";
import type { TracedWrite } from "./write_trace.js";
import {
  decodeKeyText,
  encodingOf,
  jsonToBytes,
  keyValueJson,
  leaseIdJson,
  leaseIdOf,
  leaseNotFound,
  rawQuery,
  txnResponseJson,
  type Encoding,
} from "./wire.js";

const rangeLimitDefault = 1000;
const txnBodyBytesMax = 4 * valueBytesMax;

function userKey(bytes: Uint8Array, what = "key"): Uint8Array {
  const problem = checkKey(bytes);
  if (problem !== undefined) throw new HttpError(400, "bad_request", `${what}: ${problem}`);
  return bytes;
}

function sessionOf(req: IncomingMessage): Session | undefined {
  const clientId = req.headers["raftkv-client-id"];
  const seqText = req.headers["raftkv-seq"];
  if (clientId === undefined && seqText === undefined) return undefined;
  if (typeof clientId !== "string" || typeof seqText !== "string" || !/^\d{1,15}$/.test(seqText)) {
    throw new HttpError(
      400,
      "bad_request",
      "Raftkv-Client-Id and Raftkv-Seq must be sent together; the seq is a decimal integer",
    );
  }
  return { clientId, seq: Number(seqText) };
}

function consistencyOf(query: URLSearchParams): ReadConsistency {
  const value = query.get("consistency") ?? "linearizable";
  if (value === "linearizable" || value === "lease" || value === "serializable") return value;
  throw new HttpError(
    400,
    "bad_request",
    `consistency must be linearizable, lease or serializable, not ${JSON.stringify(value)}`,
  );
}

/** Maps a node's refusal to docs/api.md's outcomes: 503 = not applied, 504 = unknown. */
export function nodeErrorToHttp(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (!(error instanceof NodeRequestError)) throw error;
  const d = error.detail;
  switch (d.type) {
    case "notLeader":
    case "noLeader":
      return new HttpError(503, "no_leader", error.message);
    case "tooBusy":
      return new HttpError(503, "too_busy", error.message);
    case "notApplied":
      return new HttpError(503, "not_applied", error.message);
    case "stopped":
      return new HttpError(503, "stopping", error.message);
    case "timeout":
      return new HttpError(504, "timeout", error.message);
    case "storage":
      return new HttpError(500, "storage_failure", error.message);
  }
}

/** Proposes a write (a follower's goes to the leader over the peer connection) and waits for its result here. */
async function write(ctx: ServerContext, command: KvCommand, trace?: TracedWrite): Promise<KvResult> {
  const problem = validateCommand(command);
  if (problem !== undefined) throw new HttpError(400, "bad_request", problem);
  requirePermitted(ctx, command);
  try {
    const encoded = encodeCommand(command);
    const propose = () => ctx.node.raft.propose(encoded);
    const result = (await (trace === undefined ? propose() : trace.proposing(propose))) as KvResult;
    if (result.type === "permissionDenied")
      throw forbidden("a permission this write needs was revoked before it was applied; nothing was written");
    if (result.type === "invalid")
      throw new HttpError(400, "stale_sequence", `${result.error}: this Raftkv-Seq is older than one already applied`);
    if (result.type === "leaseNotFound") throw leaseNotFound(result.id);
    return result;
  } catch (error) {
    throw nodeErrorToHttp(error);
  }
}

/** Serves a read here when `consistency` allows it, else forwards it; returns false once forwarded. */
async function readBarrier(ctx: ServerContext, request: Request, consistency: ReadConsistency): Promise<boolean> {
  if (consistency === "lease" && ctx.node.raft.status().role !== "leader") {
    await ctx.forwarder.forward(request.req, request.res, undefined);
    return false;
  }
  try {
    await ctx.node.raft.readBarrier(consistency);
    return true;
  } catch (error) {
    throw nodeErrorToHttp(error);
  }
}

export async function putKey(ctx: ServerContext, request: Request): Promise<void> {
  const trace = ctx.writeTracer?.begin();
  const key = userKey(decodeKeyText(request.params[0] ?? "", "key"));
  const value = await readBody(request.req, valueBytesMax);
  const ifRevisionText = request.url.searchParams.get("ifRevision");
  let ifModRevision: number | undefined;
  if (ifRevisionText !== null) {
    if (!/^\d{1,15}$/.test(ifRevisionText))
      throw new HttpError(400, "bad_request", "ifRevision must be a non-negative integer");
    ifModRevision = Number(ifRevisionText);
  }
  const leaseText = request.url.searchParams.get("lease");
  const lease = leaseText === null ? undefined : leaseIdOf(leaseText, "lease");
  const session = sessionOf(request.req);
  // Every check of the request comes before the write: a 4xx must mean "not applied".
  const encoding = encodingOf(request.url.searchParams);
  const command: KvCommand = {
    type: "put",
    key,
    value,
    ...(ifModRevision === undefined ? {} : { ifModRevision }),
    ...(lease === undefined ? {} : { lease }),
    ...(session === undefined ? {} : { session }),
    principal: request.principal,
  };
  const result = await write(ctx, command, trace);
  if (result.type === "compareFailed") {
    sendJson(request.res, 409, {
      error: "compare_failed",
      message: "the key's modRevision is not ifRevision",
      current: result.current === null ? null : keyValueJson(result.current, encoding),
      revision: result.revision,
    });
    return;
  }
  if (result.type !== "put") throw new Error(`put answered ${result.type}`);
  sendJson(request.res, 200, { revision: result.revision });
  trace?.replied();
}

export async function deleteKey(ctx: ServerContext, request: Request): Promise<void> {
  const key = userKey(decodeKeyText(request.params[0] ?? "", "key"));
  encodingOf(request.url.searchParams);
  const session = sessionOf(request.req);
  const result = await write(ctx, {
    type: "delete",
    key,
    ...(session === undefined ? {} : { session }),
    principal: request.principal,
  });
  if (result.type !== "delete") throw new Error(`delete answered ${result.type}`);
  sendJson(request.res, 200, { revision: result.revision, deleted: result.deleted });
}

export async function getKey(ctx: ServerContext, request: Request): Promise<void> {
  const key = userKey(decodeKeyText(request.params[0] ?? "", "key"));
  const query = request.url.searchParams;
  const encoding = encodingOf(query);
  if (!(await readBarrier(ctx, request, consistencyOf(query)))) return;
  requireRead(ctx, request.principal, keySpan(key));
  const kv = ctx.kv.get(key);
  if (kv === null) {
    sendJson(request.res, 404, { error: "not_found", message: "no such key", revision: ctx.kv.revision() });
    return;
  }
  if (query.has("raw")) {
    sendBytes(request.res, 200, kv.value);
    return;
  }
  sendJson(request.res, 200, keyValueJson(kv, encoding));
}

export async function rangeKeys(ctx: ServerContext, request: Request): Promise<void> {
  const query = request.url.searchParams;
  const raw = rawQuery(request.url.search);
  const encoding = encodingOf(query);
  const limitText = query.get("limit");
  const limit = limitText === null ? rangeLimitDefault : Number(limitText);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > rangeLimitMax) {
    throw new HttpError(400, "bad_request", `limit must be an integer from 1 to ${rangeLimitMax}`);
  }
  const prefix = raw.get("prefix");
  const from = raw.get("from");
  if (prefix === undefined && from === undefined)
    throw new HttpError(400, "bad_request", "give prefix=P, or from=A (and optionally to=B)");
  if (prefix !== undefined && from !== undefined)
    throw new HttpError(400, "bad_request", "give either prefix or from/to, not both");
  if (!(await readBarrier(ctx, request, consistencyOf(query)))) return;
  const to = raw.get("to");
  const spec =
    prefix !== undefined
      ? { prefix: decodeKeyText(prefix, "prefix") }
      : { from: decodeKeyText(from!, "from"), ...(to === undefined ? {} : { to: decodeKeyText(to, "to") }) };
  requireRead(ctx, request.principal, rangeSpan(spec));
  const result = ctx.kv.range(spec, limit);
  sendJson(request.res, 200, {
    kvs: result.kvs.map((kv) => keyValueJson(kv, encoding)),
    more: result.more,
    revision: ctx.kv.revision(),
  });
}

export async function txn(ctx: ServerContext, request: Request): Promise<void> {
  const encoding = encodingOf(request.url.searchParams);
  const body = await readBody(request.req, txnBodyBytesMax);
  const command = { ...parseTxn(parseJsonBytes(body), encoding, sessionOf(request.req)), principal: request.principal };
  const result = await write(ctx, command);
  if (result.type !== "txn") throw new Error(`txn answered ${result.type}`);
  sendJson(request.res, 200, {
    succeeded: result.succeeded,
    revision: result.revision,
    responses: result.responses.map((r) => txnResponseJson(r, result.revision, encoding)),
  });
}

function parseJsonBytes(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body).toString("utf8")) as unknown;
  } catch {
    throw new HttpError(400, "bad_request", "the body is not valid JSON");
  }
}

function objectOf(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new HttpError(400, "bad_request", `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function listOf(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new HttpError(400, "bad_request", `${what} must be a JSON array`);
  return value;
}

function parseTxn(json: unknown, encoding: Encoding, session: Session | undefined): KvCommand {
  const body = objectOf(json, "the txn body");
  const compare = listOf(body.compare, "compare").map((c, i): TxnCompare => {
    const o = objectOf(c, `compare[${i}]`);
    const key = userKey(jsonToBytes(o.key, encoding, `compare[${i}].key`), `compare[${i}].key`);
    const modRevision = o.modRevision;
    if (modRevision !== undefined && !(Number.isSafeInteger(modRevision) && (modRevision as number) >= 0)) {
      throw new HttpError(400, "bad_request", `compare[${i}].modRevision must be a non-negative integer`);
    }
    if (o.value === undefined && modRevision === undefined)
      throw new HttpError(400, "bad_request", `compare[${i}] needs value or modRevision`);
    return {
      key,
      ...(o.value === undefined ? {} : { value: jsonToBytes(o.value, encoding, `compare[${i}].value`) }),
      ...(modRevision === undefined ? {} : { modRevision: modRevision as number }),
    };
  });
  const ops = (list: unknown, name: string): TxnOp[] =>
    listOf(list, name).map((op, i) => parseOp(op, encoding, `${name}[${i}]`));
  return {
    type: "txn",
    compare,
    success: ops(body.success, "success"),
    failure: ops(body.failure, "failure"),
    ...(session === undefined ? {} : { session }),
  };
}

function parseOp(json: unknown, encoding: Encoding, what: string): TxnOp {
  const o = objectOf(json, what);
  const kinds = Object.keys(o);
  if (kinds.length !== 1) throw new HttpError(400, "bad_request", `${what} must have exactly one of put, get, delete`);
  const kind = kinds[0]!;
  const inner = objectOf(o[kind], `${what}.${kind}`);
  const key = userKey(jsonToBytes(inner.key, encoding, `${what}.${kind}.key`), `${what}.${kind}.key`);
  switch (kind) {
    case "put": {
      const value = jsonToBytes(inner.value, encoding, `${what}.put.value`);
      const problem = checkValue(value);
      if (problem !== undefined) throw new HttpError(413, "too_large", `${what}.put.value: ${problem}`);
      if (inner.lease === undefined) return { type: "put", key, value };
      return { type: "put", key, value, lease: leaseIdJson(inner.lease, `${what}.put.lease`) };
    }
    case "get":
      return { type: "get", key };
    case "delete":
      return { type: "delete", key };
    default:
      throw new HttpError(400, "bad_request", `${what}: unknown op ${JSON.stringify(kind)}`);
  }
}
