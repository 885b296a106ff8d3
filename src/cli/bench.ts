/**
 * `raftkv bench`: N client loops, each with its own client (so its own exactly-once session), share
 * one keep-alive connection pool with a socket per loop, so the run measures the server and not
 * connection set-up. Each loop runs one operation at a time, picked by the mix's weights, on a key
 * drawn uniformly from `keys`; latency is measured around the whole client call (retries included)
 * into a log-linear histogram per operation.
 */
import { randomBytes } from "node:crypto";
import {
  nodeHttpTransport,
  RaftkvClient,
  RaftkvError,
  type AuthOptions,
  type ClientTls,
  type Consistency,
} from "../client/index.js";
import { createHistogram, mean, merge, quantile, record, type Histogram } from "./histogram.js";
import { benchOps, formatMix, type BenchOp, type Mix } from "./options.js";
import { table } from "./format.js";

interface BenchOptions {
  readonly endpoints: readonly string[];
  readonly clients: number;
  readonly durationMs: number;
  readonly valueSize: number;
  readonly keys: number;
  readonly mix: Mix;
  readonly consistency: Consistency;
  /** Per-operation deadline of each client. */
  readonly timeoutMs: number;
  /** https to the endpoints (--cacert, --cert, --key). */
  readonly tls?: ClientTls;
  /** The caller's credentials; each client authenticates once. */
  readonly auth?: AuthOptions | undefined;
}

interface OpStats {
  /** Operations that completed (a CAS whose compare failed counts: it is an answer). */
  ops: number;
  errors: number;
  /** Microseconds, completed operations only. */
  readonly latencyUs: Histogram;
  /** CAS operations whose compare did not hold. */
  casFailed: number;
}

interface BenchResult {
  readonly options: BenchOptions;
  readonly elapsedMs: number;
  readonly byOp: Readonly<Record<BenchOp, OpStats>>;
  readonly total: OpStats;
  /** Errors by RaftkvError code (or the error's name). */
  readonly errorCodes: Readonly<Record<string, number>>;
}

export interface BenchProgress {
  readonly elapsedMs: number;
  readonly ops: number;
  readonly errors: number;
}

interface BenchHooks {
  /** Called every `tickMs` while the run lasts. */
  readonly onTick?: (progress: BenchProgress) => void;
  readonly tickMs?: number;
  /** Aborting stops the loops early (after their current operation); the result covers what ran. */
  readonly signal?: AbortSignal;
}

const newStats = (): OpStats => ({ ops: 0, errors: 0, latencyUs: createHistogram(), casFailed: 0 });

/** Runs the benchmark; resolves when every loop has finished its last operation. */
export async function runBench(options: BenchOptions, hooks: BenchHooks = {}): Promise<BenchResult> {
  const tls = options.tls;
  const transport = nodeHttpTransport({ socketsMax: options.clients, ...(tls === undefined ? {} : { tls }) });
  const byOp: Record<BenchOp, OpStats> = { put: newStats(), get: newStats(), cas: newStats() };
  const errorCodes: Record<string, number> = {};
  const value = randomBytes(options.valueSize);
  const pick = opPicker(options.mix);
  const keyWidth = String(options.keys - 1).length;
  const start = performance.now();
  const stopAt = start + options.durationMs;
  const running = (): boolean => performance.now() < stopAt && hooks.signal?.aborted !== true;
  const progress = (): BenchProgress => ({
    elapsedMs: performance.now() - start,
    ops: benchOps.reduce((n, op) => n + byOp[op].ops, 0),
    errors: benchOps.reduce((n, op) => n + byOp[op].errors, 0),
  });
  const ticker =
    hooks.onTick === undefined ? undefined : setInterval(() => hooks.onTick?.(progress()), hooks.tickMs ?? 1000);

  const loop = async (): Promise<void> => {
    const client = new RaftkvClient({
      endpoints: options.endpoints,
      transport,
      timeoutMs: options.timeoutMs,
      writesInFlightMax: 1,
      ...(options.auth && { auth: options.auth }),
    });
    while (running()) {
      const op = pick();
      const key = `bench/${Math.floor(Math.random() * options.keys)
        .toString()
        .padStart(keyWidth, "0")}`;
      const stats = byOp[op];
      const began = performance.now();
      try {
        if (op === "put") await client.put(key, value);
        else if (op === "get") await client.get(key, { consistency: options.consistency });
        else if (!(await client.cas(key, value, value)).succeeded) stats.casFailed++;
        record(stats.latencyUs, Math.round((performance.now() - began) * 1000));
        stats.ops++;
      } catch (error) {
        stats.errors++;
        const code = error instanceof RaftkvError ? error.code : error instanceof Error ? error.name : "error";
        errorCodes[code] = (errorCodes[code] ?? 0) + 1;
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.clients }, loop));
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
    transport.close();
  }
  const total = newStats();
  for (const op of benchOps) {
    total.ops += byOp[op].ops;
    total.errors += byOp[op].errors;
    total.casFailed += byOp[op].casFailed;
    merge(total.latencyUs, byOp[op].latencyUs);
  }
  return { options, elapsedMs: performance.now() - start, byOp, total, errorCodes };
}

/** Picks an op with probability proportional to its weight. */
function opPicker(mix: Mix): () => BenchOp {
  const weights = benchOps.filter((op) => mix[op] > 0).map((op) => ({ op, weight: mix[op] }));
  const sum = weights.reduce((n, w) => n + w.weight, 0);
  return () => {
    let r = Math.random() * sum;
    for (const w of weights) {
      r -= w.weight;
      if (r < 0) return w.op;
    }
    return weights[weights.length - 1]?.op ?? "put";
  };
}

const reported = [
  ["p50", 0.5],
  ["p90", 0.9],
  ["p99", 0.99],
  ["p99.9", 0.999],
] as const;

const ms = (us: number): number => Math.round(us) / 1000;

function latencyMs(histogram: Histogram): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, q] of reported) out[name] = ms(quantile(histogram, q));
  out["max"] = ms(histogram.max);
  out["mean"] = ms(mean(histogram));
  return out;
}

function opJson(stats: OpStats, seconds: number, withCas: boolean): Record<string, unknown> {
  return {
    ops: stats.ops,
    throughput: Math.round((stats.ops / seconds) * 10) / 10,
    errors: stats.errors,
    ...(withCas ? { casFailed: stats.casFailed } : {}),
    latencyMs: latencyMs(stats.latencyUs),
  };
}

/** The result as one JSON document (--json). */
export function benchJson(result: BenchResult): Record<string, unknown> {
  const seconds = result.elapsedMs / 1000;
  const { options } = result;
  const byOp: Record<string, unknown> = {};
  for (const op of benchOps) if (options.mix[op] > 0) byOp[op] = opJson(result.byOp[op], seconds, op === "cas");
  return {
    endpoints: options.endpoints,
    clients: options.clients,
    durationSeconds: Math.round(seconds * 1000) / 1000,
    valueSize: options.valueSize,
    keys: options.keys,
    mix: options.mix,
    consistency: options.consistency,
    ...opJson(result.total, seconds, options.mix.cas > 0),
    errorCodes: result.errorCodes,
    byOp,
  };
}

/** The result as a table: one row per op in the mix and a total. */
export function benchTable(result: BenchResult): string {
  const seconds = result.elapsedMs / 1000;
  const { options } = result;
  const row = (name: string, stats: OpStats): string[] => {
    const latency = latencyMs(stats.latencyUs);
    return [
      name,
      String(stats.ops),
      (stats.ops / seconds).toFixed(1),
      String(stats.errors),
      ...[...reported.map(([n]) => n), "max"].map((n) => (latency[n] ?? 0).toFixed(2)),
    ];
  };
  const ops = benchOps.filter((op) => options.mix[op] > 0);
  const rows = ops.map((op) => row(op, result.byOp[op]));
  if (ops.length > 1) rows.push(row("total", result.total));
  const lines = [
    `raftkv bench: ${options.clients} clients, ${seconds.toFixed(1)} s, ${options.valueSize}-byte values, ` +
      `${options.keys} keys, mix ${formatMix(options.mix)}, ${options.consistency} reads`,
    "",
    table(["OP", "OPS", "OPS/S", "ERRORS", "P50_MS", "P90_MS", "P99_MS", "P99.9_MS", "MAX_MS"], rows),
  ];
  if (options.mix.cas > 0)
    lines.push("", `cas: ${result.byOp.cas.casFailed} of ${result.byOp.cas.ops} compares did not hold`);
  const codes = Object.entries(result.errorCodes);
  if (codes.length > 0) lines.push("", `errors: ${codes.map(([code, n]) => `${code}=${n}`).join(" ")}`);
  return lines.join("\n");
}
