/**
 * The client port's listener: node:http, or node:https with `tls`, with bounds that keep a client
 * from holding a member's memory or sockets: the request head's size and the time it may take to
 * arrive (slow-loris), the time a whole request may take to arrive (a watch's long answer is not
 * bounded: the clock stops once the request is in), and the connections one address may hold open.
 *
 * With a CA in the TLS material, clients are asked for a certificate and it is verified against
 * that CA, but one is not required (a token is the other way in): `req.socket` is then a TLSSocket
 * whose `authorized` says whether the certificate verified, and `getPeerCertificate()` names it.
 *
 * Given an http2 server, the same port serves HTTP/2 (etcd's gRPC API) too (protocol_split.ts), under
 * the same per-address connection cap and head timeout.
 */
import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Http2Server } from "node:http2";
import type { Socket } from "node:net";
import type { TlsCredentials } from "../tls/index.js";
import { splitPlain, splitTls } from "./protocol_split.js";

export interface ClientListenerOptions {
  /** https with this certificate and key; its CA, if any, verifies client certificates. Default: plain http. */
  readonly tls?: TlsCredentials;
  /** The largest request head (request line and headers); a larger one is answered 431. */
  readonly headerBytesMax?: number;
  /** A connection whose request head has not arrived this long after it began is closed (also the TLS handshake's bound). */
  readonly headersTimeoutMs?: number;
  /** A request that has not fully arrived this long after it began is answered 408 and closed. */
  readonly requestTimeoutMs?: number;
  /** Connections one client address may hold open; more are closed at once. */
  readonly connectionsPerAddressMax?: number;
}

export const listenerDefaults = {
  headerBytesMax: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  // A 256-client benchmark from one address, plus the members forwarding to this one, with room.
  connectionsPerAddressMax: 1024,
} as const;

export function createClientListener(
  options: ClientListenerOptions,
  handler: RequestListener,
  http2?: Http2Server,
): Server {
  const headersTimeout = options.headersTimeoutMs ?? listenerDefaults.headersTimeoutMs;
  const requestTimeout = Math.max(headersTimeout, options.requestTimeoutMs ?? listenerDefaults.requestTimeoutMs);
  const common = {
    maxHeaderSize: options.headerBytesMax ?? listenerDefaults.headerBytesMax,
    headersTimeout,
    requestTimeout,
    // Node checks both timeouts on this period (30 s by default, which would stretch a short headersTimeout).
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(headersTimeout / 4))),
    noDelay: true,
  };
  const tls = options.tls;
  let server: Server;
  if (tls === undefined) {
    server = createHttpServer(common, handler);
    if (http2 !== undefined) splitPlain(server, http2, headersTimeout);
  } else {
    const alpn = http2 === undefined ? {} : { ALPNProtocols: ["h2", "http/1.1"] };
    const https = createHttpsServer(
      { ...common, ...tlsOptions(tls), ...alpn, handshakeTimeout: headersTimeout },
      handler,
    );
    if (http2 !== undefined) splitTls(https, http2);
    const stopFollowing = tls.onUpdate(() => https.setSecureContext(tlsOptions(tls)));
    https.once("close", stopFollowing);
    server = https;
  }
  limitConnectionsPerAddress(server, options.connectionsPerAddressMax ?? listenerDefaults.connectionsPerAddressMax);
  return server;
}

function tlsOptions(tls: TlsCredentials): {
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
} {
  const { cert, key, ca } = tls.material;
  return { cert, key, ...(ca === undefined ? {} : { ca }), requestCert: ca !== undefined, rejectUnauthorized: false };
}

function limitConnectionsPerAddress(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const address = socket.remoteAddress ?? "";
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once("close", () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
