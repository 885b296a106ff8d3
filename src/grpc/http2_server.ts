/**
 * An http2 server that never listens: the client port's listener hands it the connections that
 * speak HTTP/2 (prior-knowledge h2c, or TLS with ALPN h2), and its streams go to the router.
 */
import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
import type { GrpcRouter } from "./router.js";

interface Http2Limits {
  /** The largest header block a client may send. */
  readonly headerBytesMax?: number | undefined;
  /** Streams one session may have open at once. */
  readonly concurrentStreamsMax?: number;
}

export interface GrpcHttp2Server {
  readonly server: Http2Server;
  /** Ends every session: GOAWAY, then a reset of the streams still open (watches never end by themselves) after `graceMs`. */
  closeSessions(graceMs: number): void;
}

export function createGrpcHttp2Server(router: GrpcRouter, limits: Http2Limits = {}): GrpcHttp2Server {
  const server = createServer({
    settings: {
      maxConcurrentStreams: limits.concurrentStreamsMax ?? 1000,
      maxHeaderListSize: limits.headerBytesMax ?? 16 * 1024,
    },
    // Bounded memory per session (MiB): a peer that floods is refused, never the member's problem.
    maxSessionMemory: 32,
  });
  const sessions = new Set<ServerHttp2Session>();
  server.on("stream", router.handleStream);
  server.on("session", (session: ServerHttp2Session) => {
    session.on("error", ignore);
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  server.on("sessionError", ignore);
  return {
    server,
    closeSessions: (graceMs) => {
      for (const session of sessions) {
        session.close();
        setTimeout(() => session.destroy(), graceMs).unref();
      }
    },
  };
}

function ignore(): void {}
