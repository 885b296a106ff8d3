/**
 * The fault workload's operations over etcd's v3 gRPC API (`npm run fault -- --grpc`): get is a
 * Range, put a Put, delete a DeleteRange, cas a Txn (compare the value, or version 0 for "absent";
 * put on success, read the key on failure). One HTTP/2 session to one member, made again when it
 * breaks; with credentials, a token from Authenticate sent as the metadata `token`, renewed when the
 * member answers UNAUTHENTICATED.
 *
 * Outcomes (workers.ts): a read that failed is a fail; a write refused in a way etcd's contract
 * makes definite (no leader, leader changed, server stopped, too many requests: raftkv proposes
 * nothing then, as its HTTP API's 503s; a refused connection; an invalid token) is a fail; any other
 * error (a deadline, a stream cut, a timeout) leaves the outcome unknown.
 */
import {
  codecOf,
  CompareCompareResult,
  CompareCompareTarget,
  GrpcClient,
  GrpcError,
  Status,
  type AuthenticateRequest,
  type AuthenticateResponse,
  type CallOptions,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type MessageCodec,
  type TxnResponse,
} from "raftkv/etcd";
import type { KvOp, Outcome } from "raftkv/testing";
import type { ClientAccessOptions } from "./secure.js";

const path = (service: string, method: string): string => `/etcdserverpb.${service}/${method}`;
const codecs = {
  range: [codecOf<RangeRequest>("RangeRequest"), codecOf<RangeResponse>("RangeResponse")],
  put: [codecOf<PutRequest>("PutRequest"), codecOf<PutResponse>("PutResponse")],
  deleteRange: [codecOf<DeleteRangeRequest>("DeleteRangeRequest"), codecOf<DeleteRangeResponse>("DeleteRangeResponse")],
  txn: [codecOf<TxnRequest>("TxnRequest"), codecOf<TxnResponse>("TxnResponse")],
  authenticate: [
    codecOf<AuthenticateRequest>("AuthenticateRequest"),
    codecOf<AuthenticateResponse>("AuthenticateResponse"),
  ],
} as const;

/** etcd's refusals that mean nothing was proposed. */
const definiteRefusals = new Set([
  "etcdserver: no leader",
  "etcdserver: leader changed",
  "etcdserver: server stopped",
  "etcdserver: too many requests",
]);

/** What a well-formed request meets on a faulty network. */
const faultCodes: ReadonlySet<number> = new Set([Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.CANCELLED]);
/** A request the member refused as it is (nothing proposed): never expected of the workload's requests. */
const refusalCodes: ReadonlySet<number> = new Set([
  Status.INVALID_ARGUMENT,
  Status.NOT_FOUND,
  Status.ALREADY_EXISTS,
  Status.PERMISSION_DENIED,
  Status.FAILED_PRECONDITION,
  Status.OUT_OF_RANGE,
  Status.UNIMPLEMENTED,
]);

const retryPauseMsMin = 20;
const retryPauseMsMax = 400;

/** Whether nothing was proposed: the operation may be tried again without a trace in the store. */
function isDefinite(error: unknown): boolean {
  return error instanceof NotSent || (error instanceof GrpcError && definiteRefusals.has(error.message));
}

/** A connection the member refused, or a token it refused before looking at the request: nothing was done. */
class NotSent extends Error {}

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "utf8"));
const text = (value: Uint8Array): string => Buffer.from(value).toString("utf8");

function rangeRequest(key: string): RangeRequest {
  return {
    key: bytes(key),
    rangeEnd: new Uint8Array(0),
    limit: 0,
    revision: 0,
    sortOrder: 0,
    sortTarget: 0,
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
  };
}

function putRequest(key: string, value: string): PutRequest {
  return { key: bytes(key), value: bytes(value), lease: 0, prevKv: false, ignoreValue: false, ignoreLease: false };
}

/** One operation's result for the history, and the key's value it learnt. */
export interface Performed {
  readonly result?: string | null | boolean;
  readonly seen: string | null;
}

export class GrpcKv {
  readonly #url: string;
  readonly #access: ClientAccessOptions;
  readonly #timeoutMs: number;
  #client: GrpcClient | undefined;
  #token: string | undefined;

  constructor(endpoint: string, access: ClientAccessOptions, timeoutMs: number) {
    this.#url = `${access.tls === undefined ? "http" : "https"}://${endpoint}`;
    this.#access = access;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * One operation. A definite refusal (nothing was proposed) is tried again after a pause until the
   * deadline, as raftkv's HTTP client does, so that a worker waits out an election rather than spin.
   */
  async perform(key: string, op: KvOp): Promise<Performed> {
    const deadline = performance.now() + this.#timeoutMs;
    for (let pauseMs = retryPauseMsMin; ; pauseMs = Math.min(2 * pauseMs, retryPauseMsMax)) {
      try {
        return await this.#once(key, op, deadline);
      } catch (error) {
        if (!isDefinite(error) || performance.now() + pauseMs >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    }
  }

  async #once(key: string, op: KvOp, deadline: number): Promise<Performed> {
    const call = <Q, R>(method: string, codec: readonly [MessageCodec<Q>, MessageCodec<R>], request: Q) =>
      this.#call("KV", method, codec, request, deadline);
    switch (op.type) {
      case "get": {
        const answer = await call("Range", codecs.range, rangeRequest(key));
        const kv = answer.kvs[0];
        const value = kv === undefined ? null : text(kv.value);
        return { result: value, seen: value };
      }
      case "put":
        await call("Put", codecs.put, putRequest(key, op.value));
        return { seen: op.value };
      case "delete":
        await call("DeleteRange", codecs.deleteRange, {
          key: bytes(key),
          rangeEnd: new Uint8Array(0),
          prevKv: false,
        });
        return { seen: null };
      case "cas": {
        const compare =
          op.expected === null
            ? { version: 0, target: CompareCompareTarget.Version }
            : { value: bytes(op.expected), target: CompareCompareTarget.Value };
        const answer = await call("Txn", codecs.txn, {
          compare: [{ ...compare, result: CompareCompareResult.Equal, key: bytes(key), rangeEnd: new Uint8Array(0) }],
          success: [{ requestPut: putRequest(key, op.value) }],
          failure: [{ requestRange: rangeRequest(key) }],
        });
        if (answer.succeeded) return { result: true, seen: op.value };
        const current = answer.responses[0]?.responseRange?.kvs[0];
        return { result: false, seen: current === undefined ? null : text(current.value) };
      }
    }
  }

  /**
   * The history's outcome of an operation that threw `error`, and whether a faulty network explains
   * the error (else the report lists it as unexpected).
   */
  static outcomeOf(op: KvOp, error: unknown): { outcome: Outcome; expected: boolean } {
    if (error instanceof NotSent) return { outcome: "fail", expected: true };
    const refused = error instanceof GrpcError && (definiteRefusals.has(error.message) || refusalCodes.has(error.code));
    const expected = !(error instanceof GrpcError) || definiteRefusals.has(error.message) || faultCodes.has(error.code);
    return { outcome: op.type === "get" || refused ? "fail" : "unknown", expected };
  }

  close(): void {
    void this.#client?.close();
    this.#client = undefined;
  }

  async #call<Q, R>(
    service: string,
    method: string,
    [req, res]: readonly [MessageCodec<Q>, MessageCodec<R>],
    request: Q,
    deadline: number,
  ): Promise<R> {
    const client = await this.#connected();
    const token = await this.#tokenFor(client);
    const timeoutMs = Math.max(1, deadline - performance.now());
    const options: CallOptions = { timeoutMs, ...(token === undefined ? {} : { metadata: { token } }) };
    try {
      return await client.unary(path(service, method), req, res, request, options);
    } catch (error) {
      if (error instanceof GrpcError && error.code === Status.UNAUTHENTICATED) {
        this.#token = undefined;
        throw new NotSent(error.message);
      }
      if (client.session.destroyed || client.session.closed) this.#client = undefined;
      throw error;
    }
  }

  /** The session to the member, connected; a NotSent when the member refuses the connection. */
  async #connected(): Promise<GrpcClient> {
    const existing = this.#client;
    if (existing !== undefined && !existing.session.destroyed && !existing.session.closed) return existing;
    const tls = this.#access.tls;
    const client = new GrpcClient(this.#url, tls?.ca === undefined ? {} : { ca: tls.ca });
    this.#client = client;
    if (!client.session.connecting) return client;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new GrpcError(Status.UNAVAILABLE, "connect timed out")), this.#timeoutMs);
      client.session.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      client.session.once("error", (error: Error) => {
        clearTimeout(timer);
        reject(new NotSent(error.message));
      });
    }).catch((error: unknown) => {
      this.#client = undefined;
      client.session.destroy();
      throw error;
    });
    return client;
  }

  async #tokenFor(client: GrpcClient): Promise<string | undefined> {
    const auth = this.#access.auth;
    if (auth === undefined) return undefined;
    if ("token" in auth) return auth.token;
    if (this.#token !== undefined) return this.#token;
    try {
      const answer = await client.unary(
        path("Auth", "Authenticate"),
        codecs.authenticate[0],
        codecs.authenticate[1],
        { name: auth.user, password: auth.password },
        { timeoutMs: this.#timeoutMs },
      );
      this.#token = answer.token;
    } catch (error) {
      // Nothing was asked of the store yet: the operation is refused, definitely.
      throw new NotSent(error instanceof Error ? error.message : String(error));
    }
    return this.#token;
  }
}
