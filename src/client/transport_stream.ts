/**
 * Long-lived requests whose answer is read as it arrives (a watch's NDJSON stream). As for one-shot
 * requests, network trouble is never thrown: opening reports whether the request surely never reached a
 * server; once the answer has started, a dropped connection ends or breaks the body's iteration, and
 * the reader decides what that means.
 */
import type { Endpoint } from "./endpoints.js";
import { whenConnected, type Connections } from "./transport_tls.js";

export interface HttpStreamRequest {
  readonly method: "GET" | "POST";
  /** Path and query, already percent-encoded. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Give up when the answer has not started within this long (it may then run for ever). */
  readonly timeoutMs: number;
  /** Aborting ends the request, and the body's iteration with it. */
  readonly signal: AbortSignal;
}

export type HttpStreamOutcome =
  | { readonly type: "response"; readonly status: number; readonly body: AsyncIterable<Uint8Array> }
  | { readonly type: "not_sent"; readonly reason: string }
  | { readonly type: "unknown"; readonly reason: string };

/** Errors that happen before a single byte reaches a server. */
export const notSentCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
]);

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Whether a request that failed may have reached the server. Over TLS nothing is written before the
 * handshake completes, so any failure before it (a certificate refused) surely sent nothing.
 */
export function wasSent(error: unknown, connected: boolean, secure: boolean): boolean {
  if (connected) return true;
  if (secure) return false;
  const code = errorCode(error);
  return code === undefined || !notSentCodes.has(code);
}

export function describe(error: unknown): string {
  return error instanceof Error ? (errorCode(error) ?? error.message) : String(error);
}

export function streamWithNodeHttp(
  connections: Connections,
  endpoint: Endpoint,
  request: HttpStreamRequest,
): Promise<HttpStreamOutcome> {
  const { agent, send, secure } = connections.to(endpoint);
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const finish = (outcome: HttpStreamOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = send({
      agent,
      host: endpoint.host,
      port: endpoint.port,
      method: request.method,
      path: request.path,
      headers: request.headers,
    });
    // Not http.request's `signal`: that destroys the request with an error even after the answer
    // is complete and its keep-alive socket has gone back to the pool.
    const onAbort = (): void => void req.destroy();
    if (request.signal.aborted) req.destroy();
    else request.signal.addEventListener("abort", onAbort, { once: true });
    req.on("close", () => request.signal.removeEventListener("abort", onAbort));
    const timer = setTimeout(() => {
      finish(
        connected
          ? { type: "unknown", reason: `no answer within ${request.timeoutMs} ms` }
          : { type: "not_sent", reason: `could not connect within ${request.timeoutMs} ms` },
      );
      req.destroy();
    }, request.timeoutMs);
    req.on("socket", (socket) => whenConnected(socket, secure, () => (connected = true)));
    req.on("error", (error) => {
      finish({ type: wasSent(error, connected, secure) ? "unknown" : "not_sent", reason: describe(error) });
    });
    req.on("response", (res) => {
      // The body's iteration reports a broken connection; without a listener of its own, an error
      // while nobody iterates would be an uncaught 'error' event.
      res.on("error", () => undefined);
      finish({ type: "response", status: res.statusCode ?? 0, body: res });
    });
    req.end();
  });
}

export async function streamWithFetch(endpoint: Endpoint, request: HttpStreamRequest): Promise<HttpStreamOutcome> {
  const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
  const abort = new AbortController();
  const onAbort = (): void => abort.abort();
  request.signal.addEventListener("abort", onAbort, { once: true });
  if (request.signal.aborted) abort.abort();
  const timer = setTimeout(() => abort.abort(), request.timeoutMs);
  try {
    const scheme = endpoint.https === true ? "https" : "http";
    const response = await fetch(`${scheme}://${host}:${endpoint.port}${request.path}`, {
      method: request.method,
      headers: request.headers,
      signal: abort.signal,
    });
    return { type: "response", status: response.status, body: readAll(response.body, request.signal, onAbort) };
  } catch (error) {
    request.signal.removeEventListener("abort", onAbort);
    const timedOut = abort.signal.aborted && !request.signal.aborted;
    if (timedOut) return { type: "unknown", reason: `no answer within ${request.timeoutMs} ms` };
    // fetch wraps socket errors as TypeError("fetch failed", { cause }).
    const cause = error instanceof TypeError && error.cause !== undefined ? error.cause : error;
    const code = errorCode(cause);
    return { type: code !== undefined && notSentCodes.has(code) ? "not_sent" : "unknown", reason: describe(cause) };
  } finally {
    clearTimeout(timer);
  }
}

async function* readAll(
  body: ReadableStream<Uint8Array> | null,
  signal: AbortSignal,
  onAbort: () => void,
): AsyncGenerator<Uint8Array> {
  if (body === null) return;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    await reader.cancel().catch(() => undefined);
  }
}
