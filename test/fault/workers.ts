/**
 * Client workers: each bound to one member's client API, closed loop (one operation at a time),
 * get/put/delete/cas over a small shared key set so that keys see contention, every written value
 * unique. Each operation goes into the history with its invocation and completion times and an
 * outcome the server's contract (docs/api.md) backs:
 * - ok: 2xx, or a cas whose compare failed (a result: nothing written);
 * - fail: only when the client saw nothing but definite refusals (`unavailable`: 503s and refused
 *   connections) or a 4xx; a read that failed changed nothing, so it is always a fail;
 * - unknown: everything else (`unknown_outcome` after a 504, a timeout or a dropped connection, and
 *   any answer the contract does not foresee).
 * With `grpc`, the worker speaks etcd's v3 gRPC API instead (grpc_kv.ts says how its outcomes map).
 */
import { RaftkvClient, RaftkvError } from "raftkv/client";
import { GrpcKv, type Performed } from "./grpc_kv.js";
import type { ClientAccessOptions } from "./secure.js";
import { Prng } from "raftkv/raft";
import type { HistoryRecorder, KvOp, Outcome } from "raftkv/testing";

export interface WorkerOptions {
  readonly id: number;
  /** The one member this worker talks to. */
  readonly endpoint: string;
  readonly keys: readonly string[];
  readonly recorder: HistoryRecorder;
  /** Milliseconds since the run began (the history's clock). */
  readonly clock: () => number;
  readonly seed: number;
  /** A call's deadline, retries included. */
  readonly timeoutMs: number;
  /** Collects errors that well-formed requests should never get (a 4xx, a bad answer), for the report. */
  readonly unexpected: string[];
  /** TLS and credentials, in a secure run. */
  readonly access: ClientAccessOptions;
  /** Speak etcd's gRPC API (Range, Put, DeleteRange, Txn) rather than raftkv's HTTP API. */
  readonly grpc?: boolean;
}

/** How an operation reaches a member, and what its failures mean for the history. */
export interface KvPort {
  perform(key: string, op: KvOp): Promise<Performed>;
  /** The outcome of an operation that threw `error`, and whether a faulty network explains it; rethrows a bug. */
  outcomeOf(op: KvOp, error: unknown): { outcome: Outcome; expected: boolean };
  close(): void;
}

/** raftkv's HTTP API through its typed client. */
export function httpPort(client: RaftkvClient): KvPort {
  return {
    perform: (key, op) => perform(client, key, op),
    outcomeOf: (op, error) => {
      if (!(error instanceof RaftkvError)) throw error;
      const expected = error.code === "unknown_outcome" || error.code === "unavailable";
      return { outcome: classify(op, error), expected };
    },
    close: () => client.close(),
  };
}

function grpcPort(endpoint: string, access: ClientAccessOptions, timeoutMs: number): KvPort {
  const kv = new GrpcKv(endpoint, access, timeoutMs);
  return {
    perform: (key, op) => kv.perform(key, op),
    outcomeOf: (op, error) => GrpcKv.outcomeOf(op, error),
    close: () => kv.close(),
  };
}

export class Worker {
  readonly #o: WorkerOptions;
  readonly #port: KvPort;
  readonly #prng: Prng;
  /** The last value this worker saw per key (null = absent): what its cas expects. */
  readonly #seen = new Map<string, string | null>();
  #written = 0;
  #stopping = false;
  readonly #done: Promise<void>;

  constructor(options: WorkerOptions) {
    this.#o = options;
    this.#prng = new Prng(options.seed);
    this.#port =
      options.grpc === true
        ? grpcPort(options.endpoint, options.access, options.timeoutMs)
        : httpPort(
            new RaftkvClient({
              endpoints: [options.endpoint],
              timeoutMs: options.timeoutMs,
              attemptTimeoutMs: Math.min(1500, options.timeoutMs),
              clientId: `fault-w${options.id}`,
              writesInFlightMax: 1,
              ...options.access,
            }),
          );
    this.#done = this.#loop();
  }

  /** Lets the operation in flight finish (bounded by its deadline), then stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#done;
    this.#port.close();
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) await this.#one();
  }

  #nextOp(key: string): KvOp {
    const r = this.#prng.next();
    const value = `w${this.#o.id}-${++this.#written}`;
    if (r < 0.4) return { type: "get" };
    if (r < 0.7) return { type: "put", value };
    if (r < 0.8) return { type: "delete" };
    return { type: "cas", expected: this.#seen.get(key) ?? null, value };
  }

  async #one(): Promise<void> {
    const key = this.#prng.pick(this.#o.keys);
    const op = this.#nextOp(key);
    const done = await recordOne(this.#o, this.#o.id, this.#port, key, op);
    if (done.seen !== undefined) this.#seen.set(key, done.seen);
  }
}

/** What one recorded operation ended with; `seen` is the key's value it learnt, if it learnt one. */
export interface Recorded {
  readonly outcome: Outcome;
  readonly seen?: string | null;
}

/** Runs one operation through `port` and records it in the history. */
export async function recordOne(
  o: Pick<WorkerOptions, "recorder" | "clock" | "unexpected">,
  label: number | string,
  port: KvPort,
  key: string,
  op: KvOp,
): Promise<Recorded> {
  const handle = o.recorder.invoke({ client: label, key, op, at: o.clock() });
  let done: Performed;
  try {
    done = await port.perform(key, op);
  } catch (error) {
    const { outcome, expected } = port.outcomeOf(op, error);
    if (!expected) o.unexpected.push(`${op.type} ${key} by ${label}: ${describe(error)}`);
    o.recorder.complete(handle, { outcome, at: o.clock() });
    return { outcome };
  }
  o.recorder.complete(handle, {
    outcome: "ok",
    at: o.clock(),
    ...(done.result === undefined ? {} : { result: done.result }),
  });
  return { outcome: "ok", seen: done.seen };
}

function describe(error: unknown): string {
  if (error instanceof RaftkvError) return `${error.code} ${error.message}`;
  const code = (error as { code?: unknown }).code;
  const prefix = typeof code === "number" || typeof code === "string" ? `${code} ` : "";
  return `${prefix}${error instanceof Error ? error.message : String(error)}`;
}

/** One operation; the history's result (the value read, whether a cas succeeded) and the value now known. */
async function perform(client: RaftkvClient, key: string, op: KvOp): Promise<Performed> {
  switch (op.type) {
    case "get": {
      const kv = await client.get(key);
      const value = kv === undefined ? null : kv.text;
      return { result: value, seen: value };
    }
    case "put":
      await client.put(key, op.value);
      return { seen: op.value };
    case "delete":
      await client.delete(key);
      return { seen: null };
    case "cas": {
      const r = await client.cas(key, op.expected, op.value);
      return { result: r.succeeded, seen: r.succeeded ? op.value : r.current === undefined ? null : r.current.text };
    }
  }
}

function classify(op: KvOp, error: RaftkvError): Outcome {
  if (op.type === "get") return "fail";
  if (error.code === "unavailable") return "fail";
  if (error.status !== undefined && error.status >= 400 && error.status < 500) return "fail";
  return "unknown";
}
