import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { REGISTER_NAME_BYTES_MAX, type Outcome, type RegisterName } from "../paxos/basic/index.js";
import { HttpError, readBody, sendError, sendJson } from "../server/http_util.js";
import { percentDecode } from "../util/percent.js";
import type { RegisterMember, RequestAnswer } from "./member.js";

/*
 * The register service's HTTP API (docs/api.md, "Registers (Basic Paxos)"):
 *   GET  /v1/registers/{name}               a linearizable read: 200 {register, version, value}
 *   PUT  /v1/registers/{name}[?expected=N]  the body's bytes become version N + 1 (N = 0, write-once,
 *                                           by default): 200 {register, version}, or 409 conflict
 *   GET  /v1/status, GET /healthz
 * Names are bytes percent-encoded in the path (every byte after "/v1/registers/"); values are the
 * PUT body's bytes, and UTF-8 text in JSON answers, or base64 with ?encoding=base64.
 */

interface RegisterApiOptions {
  readonly member: RegisterMember;
  /** A request with no outcome by then is answered 504 (a write may still take effect later). */
  readonly requestTimeoutMs: number;
  readonly valueBytesMax: number;
  readonly status: () => Record<string, unknown>;
}

const prefix = "/v1/registers/";

export function createRegisterServer(options: RegisterApiOptions): Server {
  return createServer((req, res) => {
    handle(options, req, res).catch((error: unknown) => {
      const answer =
        error instanceof HttpError ? error : new HttpError(500, "internal", `unexpected failure: ${String(error)}`);
      if (!res.headersSent) sendError(res, answer);
      else res.destroy();
    });
  });
}

async function handle(options: RegisterApiOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? "/";
  const query = url.indexOf("?");
  const path = query < 0 ? url : url.slice(0, query);
  const params = new URLSearchParams(query < 0 ? "" : url.slice(query + 1));
  if (path === "/healthz") {
    only(req, "GET");
    sendJson(res, 200, { health: "ok" });
    return;
  }
  if (path === "/v1/status") {
    only(req, "GET");
    sendJson(res, 200, options.status());
    return;
  }
  if (!path.startsWith(prefix)) throw new HttpError(404, "not_found", `no route ${JSON.stringify(path)}`);
  const name = registerName(path.slice(prefix.length));
  const encoding = encodingOf(params);
  if (req.method === "GET") {
    refuseUnknown(params, ["encoding"]);
    const answer = await options.member.read(name, options.requestTimeoutMs);
    reply(res, name, encoding, answer, undefined);
    return;
  }
  if (req.method === "PUT") {
    refuseUnknown(params, ["encoding", "expected"]);
    const expected = expectedOf(params.get("expected"));
    const value = await readBody(req, options.valueBytesMax);
    const answer = await options.member.cas(name, expected, value, options.requestTimeoutMs);
    reply(res, name, encoding, answer, expected);
    return;
  }
  res.setHeader("allow", "GET, PUT");
  throw new HttpError(405, "method_not_allowed", `${String(req.method)} is not allowed on a register (GET, PUT)`);
}

function only(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new HttpError(405, "method_not_allowed", `only ${method} here`);
}

/** The bytes the path names, one code unit per byte (RegisterName). */
function registerName(text: string): RegisterName {
  const bytes = percentDecode(text);
  if (bytes === undefined) throw new HttpError(400, "bad_request", "the register name has a malformed %-escape");
  if (bytes.length === 0) throw new HttpError(400, "bad_request", "the register name is empty");
  if (bytes.length > REGISTER_NAME_BYTES_MAX) {
    throw new HttpError(400, "bad_request", `the register name exceeds ${REGISTER_NAME_BYTES_MAX} bytes`);
  }
  return String.fromCharCode(...bytes);
}

type Encoding = "text" | "base64";

function encodingOf(params: URLSearchParams): Encoding {
  const text = params.get("encoding") ?? "text";
  if (text === "text" || text === "base64") return text;
  throw new HttpError(400, "bad_request", `encoding must be text or base64, got ${JSON.stringify(text)}`);
}

function expectedOf(text: string | null): number {
  if (text === null) return 0;
  const n = Number(text);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(n) || n >= Number.MAX_SAFE_INTEGER) {
    throw new HttpError(
      400,
      "bad_request",
      `expected must be a version (a non-negative integer), got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

function refuseUnknown(params: URLSearchParams, known: readonly string[]): void {
  for (const key of params.keys()) {
    if (!known.includes(key)) throw new HttpError(400, "bad_request", `unknown parameter ${JSON.stringify(key)}`);
  }
}

function show(bytes: Uint8Array | undefined, encoding: Encoding): string | null {
  if (bytes === undefined) return null;
  return Buffer.from(bytes).toString(encoding === "base64" ? "base64" : "utf8");
}

/** `expected` is the compare-and-set's expected version; undefined for a read. */
function reply(
  res: ServerResponse,
  name: RegisterName,
  encoding: Encoding,
  answer: RequestAnswer,
  expected: number | undefined,
): void {
  const register = show(Buffer.from(name, "latin1"), encoding);
  switch (answer.type) {
    case "outcome":
      sendOutcome(res, register, encoding, answer.outcome, expected);
      return;
    case "refused":
      throw refusal(answer.error);
    case "timeout":
      throw new HttpError(
        504,
        "timeout",
        "no outcome in time (no quorum reachable, or proposers duelling); a write may still take effect: read to find out",
      );
    case "stopped":
      throw new HttpError(503, "stopping", "this member is stopping");
  }
}

function sendOutcome(
  res: ServerResponse,
  register: string | null,
  encoding: Encoding,
  outcome: Outcome,
  expected: number | undefined,
): void {
  switch (outcome.type) {
    case "value":
      sendJson(res, 200, { register, version: outcome.version, value: show(outcome.value, encoding) });
      return;
    case "written":
      sendJson(res, 200, { register, version: outcome.version });
      return;
    case "conflict": {
      const message = `the register is not at version ${String(expected)}: version ${outcome.version} ${outcome.version > (expected ?? 0) ? "was written by another request" : "is its latest"}`;
      throw new HttpError(409, "conflict", message, {
        register,
        version: outcome.version,
        value: show(outcome.value, encoding),
      });
    }
  }
}

function refusal(error: Extract<RequestAnswer, { type: "refused" }>["error"]): HttpError {
  switch (error) {
    case "tooManyPending":
      return new HttpError(503, "busy", "too many requests waiting on this member; retry later");
    case "valueTooLarge":
      return new HttpError(413, "too_large", "the value exceeds this member's limit");
    case "badRegister":
      return new HttpError(400, "bad_request", "not a register name");
    case "badVersion":
      return new HttpError(400, "bad_request", "not a version");
  }
}
