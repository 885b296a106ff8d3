/**
 * How every call reaches the cluster: discovery, retries, exactly-once sessions, and turning answers
 * into results or RaftkvErrors. RaftkvClient and the coordination modules (leases, watch) share one.
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
import { decodeError, DecodeError, parseJson } from "./codec.js";
import type { Endpoint } from "./endpoints.js";
import {
  AuthenticationError,
  badResponse,
  PermissionDeniedError,
  RaftkvError,
  unavailable,
  unknownOutcome,
} from "./errors.js";
import type { Session, SessionPool } from "./sessions.js";
import type { HttpMethod, HttpOutcome, HttpTransport } from "./transport.js";

interface Call {
  readonly method: HttpMethod;
  readonly path: string;
  readonly body?: Uint8Array;
  readonly contentType?: string;
  /**
   * Changes state: reports `unknown_outcome` when its fate is unknown. A KV write (put, delete, txn,
   * membership) also carries an exactly-once session; lease and compaction commands have none.
   */
  readonly write: boolean;
  readonly session?: false;
  /** Ask this node only, once (no discovery, no retries). */
  readonly endpoint?: Endpoint;
}

export interface Answer {
  readonly status: number;
  readonly body: Uint8Array;
  readonly endpoint: string;
}

interface CallerOptions {
  readonly endpoints: readonly Endpoint[];
  readonly transport: HttpTransport;
  readonly sessions: SessionPool;
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly retries: number;
}

/** Pause after each full round of failed endpoints: doubling from the min, jittered, up to the max. */
const backoffMsMin = 50;
const backoffMsMax = 1000;

const headerClientId = "raftkv-client-id";
const headerSeq = "raftkv-seq";

export const jsonBody = (value: unknown): Pick<Call, "body" | "contentType"> => ({
  body: new TextEncoder().encode(JSON.stringify(value)),
  contentType: "application/json",
});

export class Caller {
  readonly endpoints: readonly Endpoint[];
  readonly transport: HttpTransport;
  readonly timeoutMs: number;
  readonly attemptTimeoutMs: number;
  readonly #sessions: SessionPool;
  readonly #retries: number;
  /** Index of the endpoint that answered last; discovery starts there. */
  #preferred = 0;

  constructor(options: CallerOptions) {
    this.endpoints = options.endpoints;
    this.transport = options.transport;
    this.timeoutMs = options.timeoutMs;
    this.attemptTimeoutMs = options.attemptTimeoutMs;
    this.#sessions = options.sessions;
    this.#retries = options.retries;
  }

  /** The same caller, sharing its sessions, over another transport (one that adds credentials). */
  withTransport(transport: HttpTransport): Caller {
    return new Caller({
      endpoints: this.endpoints,
      transport,
      sessions: this.#sessions,
      timeoutMs: this.timeoutMs,
      attemptTimeoutMs: this.attemptTimeoutMs,
      retries: this.#retries,
    });
  }

  /** The index of the endpoint that answered last (streams start there too). */
  get preferred(): number {
    return this.#preferred;
  }

  /** Runs a call and passes a 2xx answer's decoded body through; anything else is thrown. */
  async json<T>(call: Call, decode: (json: unknown) => T): Promise<T> {
    return this.decode(this.ok(await this.send(call)), decode);
  }

  /** Runs a call; a KV write holds an exactly-once session and a fresh seq for all of its attempts. */
  async send(call: Call): Promise<Answer> {
    if (!call.write || call.session === false) return this.#attempts(call, undefined);
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
    const endpoints = call.endpoint === undefined ? this.endpoints : [call.endpoint];
    const retries = call.endpoint === undefined ? this.#retries : 0;
    const deadline = performance.now() + this.timeoutMs;
    let index = call.endpoint === undefined ? this.#preferred : 0;
    let unknown = false;
    let last = "";
    for (let failures = 1; ; failures++) {
      const endpoint = endpoints[index % endpoints.length] as Endpoint;
      const timeoutMs = Math.max(1, Math.ceil(Math.min(this.attemptTimeoutMs, deadline - performance.now())));
      const outcome = await this.transport.request(endpoint, {
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
    if (unknown && call.write) {
      throw new RaftkvError({
        code: unknownOutcome,
        message: `the write may or may not have been applied (at most once): no definite answer within ${this.timeoutMs} ms (last: ${last})`,
      });
    }
    throw new RaftkvError({
      code: unavailable,
      message: `no node could serve the request within ${this.timeoutMs} ms (last: ${last})`,
    });
  }

  /** Passes a 2xx answer through; throws anything else as the server's error. */
  ok(answer: Answer): Answer {
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw errorOf(answer);
  }

  decode<T>(answer: Answer, decode: (json: unknown) => T): T {
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

/** The server's error in a non-2xx answer. */
export function errorOf(answer: Answer): RaftkvError {
  const error = decodeError(answer.body);
  const ErrorType =
    answer.status === 401 ? AuthenticationError : answer.status === 403 ? PermissionDeniedError : RaftkvError;
  return new ErrorType({
    code: error?.code ?? `http_${answer.status}`,
    message: error?.message ?? `HTTP ${answer.status}`,
    status: answer.status,
    endpoint: answer.endpoint,
  });
}

/** A definite answer: 2xx or 4xx. 503 means "not applied, ask elsewhere"; other 5xx mean "unknown". */
function isDefinite(status: number): boolean {
  return status >= 200 && status < 500;
}

function describeFailure(outcome: HttpOutcome): string {
  if (outcome.type !== "response") return outcome.reason;
  const error = decodeError(outcome.body);
  return `HTTP ${outcome.status}${error === undefined ? "" : ` ${error.code}`}`;
}

/** Jittered, doubling from the min each round up to the max. */
export function backoffMs(round: number): number {
  const ceiling = Math.min(backoffMsMax, backoffMsMin * 2 ** (round - 1));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
