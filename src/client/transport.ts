/**
 * How the client sends one HTTP request. A transport never throws for network trouble: it reports
 * whether the request definitely never reached a server (`not_sent`: refused, unresolvable, never
 * connected) or might have (`unknown`: a dropped connection, a timeout after connecting), because for a
 * write those two mean different things (docs/api.md outcomes).
 */
import type http from "node:http";
import type { Endpoint } from "./endpoints.js";
import { connectionsFor, whenConnected, type ClientTls, type Connections } from "./transport_tls.js";
import {
  describe,
  errorCode,
  notSentCodes,
  streamWithFetch,
  streamWithNodeHttp,
  wasSent,
  type HttpStreamOutcome,
  type HttpStreamRequest,
} from "./transport_stream.js";

export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE";

export interface HttpRequest {
  readonly method: HttpMethod;
  /** Path and query, already percent-encoded. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | undefined;
  /** Give up on this one attempt after this long. */
  readonly timeoutMs: number;
}

export type HttpOutcome =
  | { readonly type: "response"; readonly status: number; readonly body: Uint8Array }
  | { readonly type: "not_sent"; readonly reason: string }
  | { readonly type: "unknown"; readonly reason: string };

export interface HttpTransport {
  request(endpoint: Endpoint, request: HttpRequest): Promise<HttpOutcome>;
  /** Opens a request whose answer is read as it arrives (a watch). */
  stream(endpoint: Endpoint, request: HttpStreamRequest): Promise<HttpStreamOutcome>;
  /** Closes idle keep-alive connections; the transport must not be used afterwards. */
  close(): void;
}

export interface NodeHttpTransportOptions {
  /** Keep-alive connections per endpoint; at least the number of concurrent requests (a bench's clients). */
  readonly socketsMax?: number;
  /** A larger answer is dropped (reported as `unknown`). A range of 10,000 large values is ~15 GB. */
  readonly responseBytesMax?: number;
  /** https to every endpoint, verifying the members with `ca` and showing `cert` if given (https:// endpoints use it too). */
  readonly tls?: ClientTls;
}

/**
 * The default transport: node:http with a keep-alive agent. Measured on this machine kind it sends
 * several times more requests per CPU-second than Node 20's fetch, which matters for `raftkv bench`,
 * and it sends the path as given (fetch normalises "." and ".." segments, so keys "." and ".." would
 * be unreachable through it).
 */
export function nodeHttpTransport(options: NodeHttpTransportOptions = {}): HttpTransport {
  const connections = connectionsFor({ socketsMax: options.socketsMax ?? 256, tls: options.tls });
  const responseBytesMax = options.responseBytesMax ?? 256 * 1024 * 1024;
  return {
    request: (endpoint, request) => sendWithNodeHttp({ connections, endpoint, request, responseBytesMax }),
    stream: (endpoint, request) => streamWithNodeHttp(connections, endpoint, request),
    close: () => connections.close(),
  };
}

function sendWithNodeHttp(args: {
  connections: Connections;
  endpoint: Endpoint;
  request: HttpRequest;
  responseBytesMax: number;
}): Promise<HttpOutcome> {
  const { connections, endpoint, request, responseBytesMax } = args;
  const { agent, send, secure } = connections.to(endpoint);
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const finish = (outcome: HttpOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers["content-length"] = String(request.body.byteLength);
    const req = send({
      agent,
      host: endpoint.host,
      port: endpoint.port,
      method: request.method,
      path: request.path,
      headers,
    });
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
    req.on("response", (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size <= responseBytesMax) chunks.push(chunk);
        else {
          finish({ type: "unknown", reason: `answer larger than ${responseBytesMax} bytes` });
          req.destroy();
        }
      });
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        finish({
          type: "response",
          status: res.statusCode ?? 0,
          body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
        });
      });
      res.on("close", () => {
        if (!res.complete) finish({ type: "unknown", reason: "connection dropped during the answer" });
      });
    });
    req.end(request.body);
  });
}

/**
 * Node 20's global fetch (undici, keep-alive by default). Simpler and portable, but several times more
 * CPU per request than {@link nodeHttpTransport}, and it cannot address the keys "." and "..". It
 * reaches https:// endpoints verifying them against the system's CAs only (fetch takes no CA).
 */
export function fetchTransport(): HttpTransport {
  return {
    request: async (endpoint, request) => {
      const host = endpoint.host.includes(":") ? `[${endpoint.host}]` : endpoint.host;
      try {
        const scheme = endpoint.https === true ? "https" : "http";
        const response = await fetch(`${scheme}://${host}:${endpoint.port}${request.path}`, {
          method: request.method,
          headers: request.headers,
          body: request.body ?? null,
          signal: AbortSignal.timeout(request.timeoutMs),
        });
        return { type: "response", status: response.status, body: new Uint8Array(await response.arrayBuffer()) };
      } catch (error) {
        // fetch wraps socket errors as TypeError("fetch failed", { cause }); a timeout is a DOMException.
        const name = (error as { name?: unknown } | null)?.name;
        const network =
          (error instanceof TypeError && error.cause !== undefined) || name === "TimeoutError" || name === "AbortError";
        if (!network) throw error;
        const cause = (error as { cause?: unknown }).cause ?? error;
        const code = errorCode(cause);
        const notSent = code !== undefined && notSentCodes.has(code);
        return { type: notSent ? "not_sent" : "unknown", reason: describe(cause) };
      }
    },
    stream: streamWithFetch,
    close: () => {},
  };
}
