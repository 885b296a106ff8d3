/**
 * RaftkvClient: the typed client of docs/api.md and docs/coordination.md with leader discovery,
 * retries and exactly-once writes (caller.ts), watches that resume by themselves (watch.ts), leases
 * with background keepalives (leases.ts, keep_alive.ts), and the lock and election recipes
 * (lock.ts, election.ts). Each feature lives in its own module; the methods here delegate.
 */
import { randomBytes } from "node:crypto";
import { RaftkvAuth } from "./auth.js";
import { authenticatingTransport, TokenKeeper, type AuthOptions } from "./auth_token.js";
import { Caller, jsonBody, type Answer } from "./caller.js";
import {
  decodeCurrent,
  decodeDelete,
  decodeError,
  decodeKeyValue,
  decodeMembers,
  decodeRange,
  decodeRevision,
  decodeStatus,
  decodeTxn,
  encodeCompare,
  encodeOp,
  percentEncode,
  toBytes,
} from "./codec.js";
import { campaign, observe, type Election } from "./election.js";
import { parseEndpoint, parseEndpoints } from "./endpoints.js";
import { BackgroundKeepAlive, type KeepAlive, type KeepAliveOptions } from "./keep_alive.js";
import { KeepAliveBatcher } from "./keep_alive_batch.js";
import { checkLeaseId, compact, leaseGrant, leaseKeepAlive, leaseRevoke, leases, leaseTimeToLive } from "./leases.js";
import { lock, type Lock } from "./lock.js";
import type { QueueOptions } from "./queue.js";
import { clientIdPattern, createSessionPool } from "./sessions.js";
import { nodeHttpTransport, type HttpTransport } from "./transport.js";
import type { ClientTls } from "./transport_tls.js";
import type {
  Bytes,
  CompactResult,
  CompareResult,
  Consistency,
  DeleteResult,
  KeyValue,
  Lease,
  LeaseRevokeResult,
  LeaseTimeToLive,
  Member,
  PutResult,
  RangeResult,
  RangeSelector,
  Status,
  TxnRequest,
  TxnResult,
  Watch,
  WatchOptions,
  WatchSelector,
} from "./types.js";
import { WatchStream } from "./watch.js";

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
  /**
   * https to the endpoints: `ca` verifies the members (default: the system's CAs), `cert` and `key`
   * are this client's certificate, if the cluster asks for one. For the default transport only.
   */
  readonly tls?: ClientTls;
  /** Credentials when the cluster has auth enabled (auth_token.ts: how the token is kept). */
  readonly auth?: AuthOptions;
}

export const clientDefaults = { timeoutMs: 5000, attemptTimeoutMs: 2000, retries: 20, writesInFlightMax: 32 } as const;

function checkCount(value: number, what: string, min: number): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw new RangeError(`${what} must be an integer ≥ ${min}, got ${value}`);
  return value;
}

export class RaftkvClient {
  readonly #caller: Caller;
  /** Background renewals that come due together share batch keepalives. */
  readonly #keepAlives: KeepAliveBatcher;
  readonly #ownsTransport: boolean;
  readonly #clientId: string;
  /** Users, roles and permissions, and turning auth on and off. */
  readonly auth: RaftkvAuth;

  constructor(options: RaftkvClientOptions) {
    this.#clientId = options.clientId ?? randomBytes(12).toString("base64url");
    if (!clientIdPattern.test(this.#clientId)) {
      throw new RangeError(`clientId must be 1 to 120 visible ASCII characters, got ${JSON.stringify(this.#clientId)}`);
    }
    const count = (name: keyof typeof clientDefaults, min: number): number =>
      checkCount(options[name] ?? clientDefaults[name], name, min);
    this.#caller = new Caller({
      endpoints: parseEndpoints(options.endpoints),
      timeoutMs: count("timeoutMs", 1),
      attemptTimeoutMs: count("attemptTimeoutMs", 1),
      retries: count("retries", 0),
      sessions: createSessionPool({ clientId: this.#clientId, writesInFlightMax: count("writesInFlightMax", 1) }),
      transport: options.transport ?? nodeHttpTransport(options.tls === undefined ? {} : { tls: options.tls }),
    });
    const plain = this.#caller;
    const tokens = options.auth === undefined ? undefined : new TokenKeeper(options.auth, plain);
    if (tokens !== undefined) this.#caller = plain.withTransport(authenticatingTransport(plain.transport, tokens));
    this.auth = new RaftkvAuth(this.#caller, plain, tokens);
    this.#keepAlives = new KeepAliveBatcher(this.#caller);
    this.#ownsTransport = options.transport === undefined;
  }

  /** The exactly-once session id this client's writes carry (concurrent writes add ".n"). */
  get clientId(): string {
    return this.#clientId;
  }

  /** Closes the connections of a transport this client created; a given transport is left to its owner. */
  close(): void {
    if (this.#ownsTransport) this.#caller.transport.close();
  }

  /**
   * Writes a value. With `ifRevision` (the key's modRevision; 0 = only if absent) it is a compare-and-set.
   * With `lease`, the key is attached to that lease and goes with it.
   */
  put(key: Bytes, value: Bytes, options?: { ifRevision?: undefined; lease?: number }): Promise<PutResult>;
  put(key: Bytes, value: Bytes, options: { ifRevision: number; lease?: number }): Promise<CompareResult>;
  put(
    key: Bytes,
    value: Bytes,
    options: { ifRevision?: number | undefined; lease?: number },
  ): Promise<PutResult | CompareResult>;
  async put(
    key: Bytes,
    value: Bytes,
    options: { ifRevision?: number | undefined; lease?: number } = {},
  ): Promise<PutResult | CompareResult> {
    const ifRevision = options.ifRevision;
    let query = ifRevision === undefined ? "" : `&ifRevision=${checkCount(ifRevision, "ifRevision", 0)}`;
    if (options.lease !== undefined) query += `&lease=${checkLeaseId(options.lease)}`;
    const answer = await this.#caller.send({
      method: "PUT",
      path: `/v1/kv/${percentEncode(key)}?encoding=base64${query}`,
      body: toBytes(value),
      contentType: "application/octet-stream",
      write: true,
    });
    if (ifRevision !== undefined && isCompareFailed(answer)) {
      return { succeeded: false, current: this.#caller.decode(answer, decodeCurrent) };
    }
    const revision = this.#caller.decode(this.#caller.ok(answer), decodeRevision);
    return ifRevision === undefined ? { revision } : { succeeded: true, revision };
  }

  /** The key's value, or undefined when it does not exist. */
  async get(key: Bytes, options: { consistency?: Consistency } = {}): Promise<KeyValue | undefined> {
    const consistency = options.consistency === undefined ? "" : `&consistency=${options.consistency}`;
    const answer = await this.#caller.send({
      method: "GET",
      path: `/v1/kv/${percentEncode(key)}?encoding=base64${consistency}`,
      write: false,
    });
    if (answer.status === 404 && decodeError(answer.body)?.code === "not_found") return undefined;
    return this.#caller.decode(this.#caller.ok(answer), decodeKeyValue);
  }

  delete(key: Bytes): Promise<DeleteResult> {
    return this.#caller.json(
      { method: "DELETE", path: `/v1/kv/${percentEncode(key)}?encoding=base64`, write: true },
      decodeDelete,
    );
  }

  /**
   * Sets `key` to `value` if it currently holds `expected` (null: only if it does not exist), in one
   * `POST /v1/txn`. Not succeeding is a result carrying the key's current value, not an error.
   */
  async cas(key: Bytes, expected: Bytes | null, value: Bytes): Promise<CompareResult> {
    const compare = expected === null ? { key, modRevision: 0 } : { key, value: expected };
    const answer = await this.#caller.send({
      method: "POST",
      path: "/v1/txn?encoding=base64",
      ...jsonBody(
        encodeTxn({ compare: [compare], success: [{ type: "put", key, value }], failure: [{ type: "get", key }] }),
      ),
      write: true,
    });
    if (isCompareFailed(answer)) return { succeeded: false, current: this.#caller.decode(answer, decodeCurrent) };
    const result = this.#caller.decode(this.#caller.ok(answer), decodeTxn);
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
    return this.#caller.json({ method: "GET", path: `/v1/kv?${query}`, write: false }, decodeRange);
  }

  /** An atomic transaction: if every compare holds, the success ops run, otherwise the failure ops. */
  async txn(request: TxnRequest): Promise<TxnResult> {
    const body = jsonBody(encodeTxn(request));
    return this.#caller.json({ method: "POST", path: "/v1/txn?encoding=base64", ...body, write: true }, decodeTxn);
  }

  /** One node's view; with `endpoint`, that node's, asked once (for a per-node status table). */
  async status(options: { endpoint?: string } = {}): Promise<Status> {
    const endpoint = options.endpoint === undefined ? {} : { endpoint: parseEndpoint(options.endpoint) };
    return this.#caller.json({ method: "GET", path: "/v1/status", write: false, ...endpoint }, decodeStatus);
  }

  members(): Promise<Member[]> {
    return this.#caller.json({ method: "GET", path: "/v1/members", write: false }, decodeMembers);
  }

  /** Adds a member (a learner when asked); answers the new member list. */
  addMember(id: string, peerAddr: string, options: { learner?: boolean } = {}): Promise<Member[]> {
    const body = jsonBody({ id, peerAddr, learner: options.learner ?? false });
    return this.#caller.json({ method: "POST", path: "/v1/members", ...body, write: true }, decodeMembers);
  }

  promoteMember(id: string): Promise<Member[]> {
    const path = `/v1/members/${percentEncode(id)}/promote`;
    return this.#caller.json({ method: "POST", path, write: true }, decodeMembers);
  }

  removeMember(id: string): Promise<Member[]> {
    return this.#caller.json(
      { method: "DELETE", path: `/v1/members/${percentEncode(id)}`, write: true },
      decodeMembers,
    );
  }

  /** Resolves once `id` leads. */
  async transferLeader(id: string): Promise<void> {
    const body = jsonBody({ to: id });
    this.#caller.ok(await this.#caller.send({ method: "POST", path: "/v1/leader/transfer", ...body, write: true }));
  }

  /**
   * Watches keys for changes (docs/coordination.md): each revision once, in order, across member
   * failures; a WatchCompactedError when the changes it needs are gone.
   */
  watch(selector: WatchSelector, options: WatchOptions = {}): Watch {
    return new WatchStream(this.#caller, selector, options);
  }

  /** Creates a lease of `ttlSeconds` (raised to the cluster's minimum); with `id`, that id. */
  async leaseGrant(ttlSeconds: number, options: { id?: number } = {}): Promise<Lease> {
    return leaseGrant(this.#caller, ttlSeconds, options);
  }

  /** One renewal: the lease lives at least the answer's `ttl` from now. */
  async leaseKeepAlive(id: number): Promise<Lease> {
    return leaseKeepAlive(this.#caller, id);
  }

  /**
   * Renews the lease in the background until `stop()`; `done` says when and why it ended. Renewals
   * of this client's keepalives that come due within a few ms go out as one batch keepalive.
   */
  keepAlive(id: number, options: KeepAliveOptions = {}): KeepAlive {
    return new BackgroundKeepAlive(this.#keepAlives, id, options);
  }

  /** Ends the lease now, deleting its keys at one revision. */
  async leaseRevoke(id: number): Promise<LeaseRevokeResult> {
    return leaseRevoke(this.#caller, id);
  }

  /** The lease's TTL and the seconds it has left; with `keys: true`, the keys attached. */
  async leaseTimeToLive(id: number, options: { keys?: boolean } = {}): Promise<LeaseTimeToLive> {
    return leaseTimeToLive(this.#caller, id, options);
  }

  async leases(): Promise<Lease[]> {
    return leases(this.#caller);
  }

  /** Drops the change history before `revision` on every member: watches from earlier fail. */
  async compact(revision: number): Promise<CompactResult> {
    return compact(this.#caller, revision);
  }

  /** Waits for the lock `name` (lock.ts: why a lock needs its fencing token). */
  lock(name: string, options: QueueOptions = {}): Promise<Lock> {
    return lock(this, name, options);
  }

  /** Waits until this caller leads the election `name`, with `value` as the leader's value. */
  campaign(name: string, value: Bytes, options: QueueOptions = {}): Promise<Election> {
    return campaign(this, name, value, options);
  }

  /** The value of the election's leader each time it changes, until the signal aborts. */
  observe(name: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<KeyValue, void, undefined> {
    return observe(this, name, options);
  }
}

function isCompareFailed(answer: Answer): boolean {
  return answer.status === 409 && decodeError(answer.body)?.code === "compare_failed";
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
