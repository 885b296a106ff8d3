/**
 * An http2 server that never listens: the client port's listener hands it the connections that
 * speak HTTP/2 (prior-knowledge h2c, or TLS with ALPN h2), and its streams go to the router.
 */
import { createServer, type Http2Server } from "node:http2";
import type { GrpcRouter } from "./router.js";

interface Http2Limits {
  /** The largest header block a client may send. */
  readonly headerBytesMax?: number;
  /** Streams one session may have open at once. */
  readonly concurrentStreamsMax?: number;
}

export function createGrpcHttp2Server(router: GrpcRouter, limits: Http2Limits = {}): Http2Server {
  const server = createServer({
    settings: {
      maxConcurrentStreams: limits.concurrentStreamsMax ?? 1000,
      maxHeaderListSize: limits.headerBytesMax ?? 16 * 1024,
    },
    // Unknown or misbehaving peers are the clients' problem, never the member's: bounded memory per session.
    maxSessionMemory: 32,
  });
  server.on("stream", router.handleStream);
  server.on("session", (session) => session.on("error", ignore));
  server.on("sessionError", ignore);
  return server;
}

function ignore(): void {}
