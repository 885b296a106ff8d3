/**
 * RaftkvClient: the typed client of docs/api.md with leader discovery, retries and exactly-once writes.
 *
 * Discovery: endpoints are tried in order starting from the one that answered last; any node serves
 * (followers forward to the leader), so "the one that answered" is remembered, not "the leader".
 * Outcomes (docs/api.md): 2xx = done; 4xx = definitely not applied, thrown as a RaftkvError and never
 * retried (409 compare_failed of a conditional write is a result, not an error); 503 or a refused
 * connection = not applied, try the next endpoint; 504, another 5xx, a dropped connection or a timeout
 * = unknown, retry with the same (client id, seq) — the server applies a write at most once. When the
 * deadline or the retry budget runs out, a write that had an unknown attempt fails with
 * `unknown_outcome`, anything else with `unavailable`.
 */
import { randomBytes } from "node:crypto";
import {
  decodeCurrent,
  decodeDelete,
  decodeError,
  DecodeError,
  decodeKeyValue,
  decodeMembers,
  decodeRange,
  decodeRevision,
  decodeStatus,
  decodeTxn,
  encodeCompare,
  encodeOp,
  parseJson,
  percentEncode,
  toBytes,
} from "./codec.js";
import { parseEndpoint, parseEndpoints, type Endpoint } from "./endpoints.js";
import { badResponse, RaftkvError, unavailable, unknownOutcome } from "./errors.js";
import { clientIdPattern, createSessionPool, type Session, type SessionPool } from "./sessions.js";
import { nodeHttpTransport, type HttpMethod, type HttpOutcome, type HttpTransport } from "./transport.js";
import type {
  Bytes,
  CompareResult,
  Consistency,
  DeleteResult,
  KeyValue,
  Member,
  PutResult,
  RangeResult,
  RangeSelector,
  Status,
  TxnRequest,
  TxnResult,
} from "./types.js";

export interface RaftkvClientOptions {
  /** "host:port" client addresses of the cluster's nodes, as a list or comma-separated. */
  readonly endpoints: string | readonly string[];
  /** Deadline of one call, every retry included. Default 5000. */
  readonly timeoutMs?: number;
  /** Deadline of one HTTP attempt (capped by what is left of the call's). Default 2000. */
  readonly attemptTimeoutMs?: number;
  /** Retries after the first attempt, within the deadline. Default 20. */
  readonly retries?: number;
  /** The exactly-once session id: 1–120 visible ASCII characters. Default: random per instance. */
  readonly clientId?: string;
  /** Writes this client runs at once, one exactly-once session each; more wait. Default 32. */
  readonly writesInFlightMax?: number;
  /** Default: a keep-alive node:http transport owned (and closed) by this client. */
  readonly transport?: HttpTransport;
}

export const clientDefaults = { timeoutMs: 5000, attemptTimeoutMs: 2000, retries: 20, writesInFlightMax: 32 } as const;

/** Pause after each full round of failed endpoints: doubling from the min, jittered, up to the max. */
const backoffMsMin = 50;
const backoffMsMax = 1000;

const headerClientId = "raftkv-client-id";
const headerSeq = "raftkv-seq";

interface Call {
  readonly method: HttpMethod;
  readonly path: string;
  readonly body?: Uint8Array;
  readonly contentType?: string;
  /** A write carries a session and reports `unknown_outcome` when its fate is unknown. */
  readonly write: boolean;
  /** Ask this node only, once (no discovery, no retries). */
  readonly endpoint?: Endpoint;
}

interface Answer {
  readonly status: number;
  readonly body: Uint8Array;
  readonly endpoint: string;
}

const jsonBody = (value: unknown): Pick<Call, "body" | "contentType"> => ({
  body: new TextEncoder().encode(JSON.stringify(value)),
  contentType: "application/json",
});

function checkCount(value: number, what: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw new RangeError(`${what} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

export class RaftkvClient {
  readonly #endpoints: readonly Endpoint[];
  readonly #transport: HttpTransport;
  readonly #ownsTransport: boolean;
  readonly #sessions: SessionPool;
  readonly #timeoutMs: number;
  readonly #attemptTimeoutMs: number;
  readonly #retries: number;
  readonly #clientId: string;
  /** Index of the endpoint that answered last; discovery starts there. */
  #preferred = 0;

  constructor(options: RaftkvClientOptions) {
    this.#endpoints = parseEndpoints(options.endpoints);
    this.#timeoutMs = checkCount(options.timeoutMs ?? clientDefaults.timeoutMs, "timeoutMs", 1);
    this.#attemptTimeoutMs = checkCount(
      options.attemptTimeoutMs ?? clientDefaults.attemptTimeoutMs,
      "attemptTimeoutMs",
      1,
    );
    this.#retries = checkCount(options.retries ?? clientDefaults.retries, "retries", 0);
    this.#clientId = options.clientId ?? randomBytes(12).toString("base64url");
    if (!clientIdPattern.test(this.#clientId)) {
      throw new RangeError(`clientId must be 1 to 120 visible ASCII characters, got ${JSON.stringify(this.#clientId)}`);
    }
    const writesInFlightMax = checkCount(
      options.writesInFlightMax ?? clientDefaults.writesInFlightMax,
      "writesInFlightMax",
      1,
    );
    this.#sessions = createSessionPool({ clientId: this.#clientId, writesInFlightMax });
    this.#transport = options.transport ?? nodeHttpTransport();
    this.#ownsTransport = options.transport === undefined;
  }

  /** The exactly-once session id this client's writes carry (concurrent writes add ".n"). */
  get clientId(): string {
    return this.#clientId;
  }

  /** Closes the connections of a transport this client created; a given transport is left to its owner. */
  close(): void {
    if (this.#ownsTransport) this.#transport.close();
  }

  /** Writes a value. With `ifRevision` (the key's modRevision; 0 = only if absent) it is a compare-and-set. */
  put(key: Bytes, value: Bytes, options?: { ifRevision?: undefined }): Promise<PutResult>;
  put(key: Bytes, value: Bytes, options: { ifRevision: number }): Promise<CompareResult>;
  put(key: Bytes, value: Bytes, options: { ifRevision?: number | undefined }): Promise<PutResult | CompareResult>;
  async put(
    key: Bytes,
    value: Bytes,
    options: { ifRevision?: number | undefined } = {},
  ): Promise<PutResult | CompareResult> {
    const ifRevision = options.ifRevision;
    const query = ifRevision === undefined ? "" : `&ifRevision=${checkCount(ifRevision, "ifRevision", 0)}`;
    const answer = await this.#send({
      method: "PUT",
      path: `/v1/kv/${percentEncode(key)}?encoding=base64${query}`,
      body: toBytes(value),
      contentType: "application/octet-stream",
      write: true,
    });
    if (ifRevision !== undefined && isCompareFailed(answer)) {
      return { succeeded: false, current: this.#decode(answer, decodeCurrent) };
    }
    const revision = this.#decode(this.#ok(answer), decodeRevision);
    return ifRevision === undefined ? { revision } : { succeeded: true, revision };
  }

  /** The key's value, or undefined when it does not exist. */
  async get(key: Bytes, options: { consistency?: Consistency } = {}): Promise<KeyValue | undefined> {
    const consistency = options.consistency === undefined ? "" : `&consistency=${options.consistency}`;
    const answer = await this.#send({
      method: "GET",
      path: `/v1/kv/${percentEncode(key)}?encoding=base64${consistency}`,
      write: false,
    });
    if (answer.status === 404 && decodeError(answer.body)?.code === "not_found") return undefined;
    return this.#decode(this.#ok(answer), decodeKeyValue);
  }

  async delete(key: Bytes): Promise<DeleteResult> {
    const answer = await this.#send({
      method: "DELETE",
      path: `/v1/kv/${percentEncode(key)}?encoding=base64`,
      write: true,
    });
    return this.#decode(this.#ok(answer), decodeDelete);
  }

  /**
   * Sets `key` to `value` if it currently holds `expected` (null: only if it does not exist), in one
   * `POST /v1/txn`. Not succeeding is a result carrying the key's current value, not an error.
   */
  async cas(key: Bytes, expected: Bytes | null, value: Bytes): Promise<CompareResult> {
    const compare = expected === null ? { key, modRevision: 0 } : { key, value: expected };
    const answer = await this.#send({
      method: "POST",
      path: "/v1/txn?encoding=base64",
      ...jsonBody(
        encodeTxn({ compare: [compare], success: [{ type: "put", key, value }], failure: [{ type: "get", key }] }),
      ),
      write: true,
    });
    if (isCompareFailed(answer)) return { succeeded: false, current: this.#decode(answer, decodeCurrent) };
    const result = this.#decode(this.#ok(answer), decodeTxn);
    if (result.succeeded) return { succeeded: true, revision: result.revision };
    const get = result.responses[0];
    return { succeeded: false, current: get?.type === "get" ? get.kv : undefined };
  }

  /** Keys with a prefix, or in [from, to), ordered by key; `more` says the limit cut it short. */
  async range(
    selector: RangeSelector,
    options: { limit?: number; consistency?: Consistency } = {},
  ): Promise<RangeResult> {
    let query = "encoding=base64";
    if ("prefix" in selector) query += `&prefix=${percentEncode(selector.prefix)}`;
    else {
      query += `&from=${percentEncode(selector.from)}`;
      if (selector.to !== undefined) query += `&to=${percentEncode(selector.to)}`;
    }
    if (options.limit !== undefined) query += `&limit=${checkCount(options.limit, "limit", 1)}`;
    if (options.consistency !== undefined) query += `&consistency=${options.consistency}`;
    const answer = await this.#send({ method: "GET", path: `/v1/kv?${query}`, write: false });
    return this.#decode(this.#ok(answer), decodeRange);
  }

  /** An atomic transaction: if every compare holds, the success ops run, otherwise the failure ops. */
  async txn(request: TxnRequest): Promise<TxnResult> {
    const answer = await this.#send({
      method: "POST",
      path: "/v1/txn?encoding=base64",
      ...jsonBody(encodeTxn(request)),
      write: true,
    });
    return this.#decode(this.#ok(answer), decodeTxn);
  }

  /** One node's view; with `endpoint`, that node's, asked once (for a per-node status table). */
  async status(options: { endpoint?: string } = {}): Promise<Status> {
    const endpoint = options.endpoint === undefined ? {} : { endpoint: parseEndpoint(options.endpoint) };
    const answer = await this.#send({ method: "GET", path: "/v1/status", write: false, ...endpoint });
    return this.#decode(this.#ok(answer), decodeStatus);
  }

  async members(): Promise<Member[]> {
    return this.#decode(
      this.#ok(await this.#send({ method: "GET", path: "/v1/members", write: false })),
      decodeMembers,
    );
  }

  /** Adds a member (a learner when asked); answers the new member list. */
  async addMember(id: string, peerAddr: string, options: { learner?: boolean } = {}): Promise<Member[]> {
    const body = jsonBody({ id, peerAddr, learner: options.learner ?? false });
    return this.#memberChange({ method: "POST", path: "/v1/members", ...body, write: true });
  }

  async promoteMember(id: string): Promise<Member[]> {
    return this.#memberChange({ method: "POST", path: `/v1/members/${percentEncode(id)}/promote`, write: true });
  }

  async removeMember(id: string): Promise<Member[]> {
    return this.#memberChange({ method: "DELETE", path: `/v1/members/${percentEncode(id)}`, write: true });
  }

  /** Resolves once `id` leads. */
  async transferLeader(id: string): Promise<void> {
    this.#ok(await this.#send({ method: "POST", path: "/v1/leader/transfer", ...jsonBody({ to: id }), write: true }));
  }

  async #memberChange(call: Call): Promise<Member[]> {
    return this.#decode(this.#ok(await this.#send(call)), decodeMembers);
  }

  /** Runs a call; a write holds an exactly-once session and a fresh seq for all of its attempts. */
  async #send(call: Call): Promise<Answer> {
    if (!call.write) return this.#attempts(call, undefined);
    const session = await this.#sessions.acquire();
    session.seqLast++;
    try {
      return await this.#attempts(call, session);
    } finally {
      this.#sessions.release(session);
    }
  }

  /** Tries endpoints until one answers 2xx/4xx, the retries run out or the deadline passes. */
  async #attempts(call: Call, session: Session | undefined): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (call.contentType !== undefined) headers["content-type"] = call.contentType;
    if (session !== undefined) {
      headers[headerClientId] = session.clientId;
      headers[headerSeq] = String(session.seqLast);
    }
    const endpoints = call.endpoint === undefined ? this.#endpoints : [call.endpoint];
    const retries = call.endpoint === undefined ? this.#retries : 0;
    const deadline = performance.now() + this.#timeoutMs;
    let index = call.endpoint === undefined ? this.#preferred : 0;
    let unknown = false;
    let last = "";
    for (let failures = 1; ; failures++) {
      const endpoint = endpoints[index % endpoints.length] as Endpoint;
      const timeoutMs = Math.max(1, Math.ceil(Math.min(this.#attemptTimeoutMs, deadline - performance.now())));
      const outcome = await this.#transport.request(endpoint, {
        method: call.method,
        path: call.path,
        headers,
        body: call.body,
        timeoutMs,
      });
      if (outcome.type === "response" && isDefinite(outcome.status)) {
        if (call.endpoint === undefined) this.#preferred = index % endpoints.length;
        return { status: outcome.status, body: outcome.body, endpoint: endpoint.label };
      }
      unknown ||= outcome.type === "unknown" || (outcome.type === "response" && outcome.status !== 503);
      last = `${endpoint.label}: ${describeFailure(outcome)}`;
      index++;
      const delayMs = failures % endpoints.length === 0 ? backoffMs(failures / endpoints.length) : 0;
      if (failures > retries || performance.now() + delayMs + 1 >= deadline) break;
      if (delayMs > 0) await sleep(delayMs);
    }
    if (unknown && session !== undefined) {
      throw new RaftkvError({
        code: unknownOutcome,
        message: `the write may or may not have been applied (at most once): no definite answer within ${this.#timeoutMs} ms (last: ${last})`,
      });
    }
    throw new RaftkvError({
      code: unavailable,
      message: `no node could serve the request within ${this.#timeoutMs} ms (last: ${last})`,
    });
  }

  /** Passes a 2xx answer through; throws anything else as the server's error. */
  #ok(answer: Answer): Answer {
    if (answer.status >= 200 && answer.status < 300) return answer;
    const error = decodeError(answer.body);
    throw new RaftkvError({
      code: error?.code ?? `http_${answer.status}`,
      message: error?.message ?? `HTTP ${answer.status}`,
      status: answer.status,
      endpoint: answer.endpoint,
    });
  }

  #decode<T>(answer: Answer, decode: (json: unknown) => T): T {
    try {
      return decode(parseJson(answer.body));
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      throw new RaftkvError({
        code: badResponse,
        message: `${answer.endpoint} answered HTTP ${answer.status} with an unexpected body: ${error.message}`,
        status: answer.status,
        endpoint: answer.endpoint,
        cause: error,
      });
    }
  }
}

/** A definite answer: 2xx or 4xx. 503 means "not applied, ask elsewhere"; other 5xx mean "unknown". */
function isDefinite(status: number): boolean {
  return status >= 200 && status < 500;
}

function isCompareFailed(answer: Answer): boolean {
  return answer.status === 409 && decodeError(answer.body)?.code === "compare_failed";
}

function describeFailure(outcome: HttpOutcome): string {
  if (outcome.type !== "response") return outcome.reason;
  const error = decodeError(outcome.body);
  return `HTTP ${outcome.status}${error === undefined ? "" : ` ${error.code}`}`;
}

function encodeTxn(request: TxnRequest): unknown {
  for (const compare of request.compare) {
    if (compare.value === undefined && compare.modRevision === undefined) {
      throw new RangeError("a txn compare needs a value or a modRevision");
    }
  }
  return {
    compare: request.compare.map(encodeCompare),
    success: (request.success ?? []).map(encodeOp),
    failure: (request.failure ?? []).map(encodeOp),
  };
}

function backoffMs(round: number): number {
  const ceiling = Math.min(backoffMsMax, backoffMsMin * 2 ** (round - 1));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
