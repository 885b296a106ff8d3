/**
 * The node:http(s) connections a transport keeps: one keep-alive pool for http and one for https,
 * made on first use. An endpoint is reached over https when the client was given TLS options or the
 * endpoint was written https://.
 */
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import type { Endpoint } from "./endpoints.js";

/** PEM text or bytes: the CA that signed the members' certificates, and this client's certificate and key. */
export interface ClientTls {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export interface Connections {
  to(endpoint: Endpoint): {
    readonly agent: http.Agent;
    readonly send: typeof http.request;
    /** A TLSSocket: the request is sent once the handshake is done ('secureConnect'). */
    readonly secure: boolean;
  };
  close(): void;
}

export function connectionsFor(options: { socketsMax: number; tls: ClientTls | undefined }): Connections {
  const common = { keepAlive: true, maxSockets: options.socketsMax, noDelay: true };
  let plain: http.Agent | undefined;
  let secure: https.Agent | undefined;
  return {
    to: (endpoint) => {
      if (options.tls === undefined && endpoint.https !== true) {
        plain ??= new http.Agent(common);
        return { agent: plain, send: http.request, secure: false };
      }
      secure ??= new https.Agent({ ...common, ...options.tls });
      return { agent: secure, send: https.request, secure: true };
    },
    close: () => {
      plain?.destroy();
      secure?.destroy();
    },
  };
}

/** TLS sockets whose handshake is done: a kept-alive one never says 'secureConnect' again. */
const handshaken = new WeakSet<Socket>();

/**
 * Calls `sent` once a request on `socket` may have reached the server: at once on a socket that
 * is already connected (and, for TLS, past its handshake, which a reused one is), else when it
 * gets there. Waiting for an event a reused socket never sends again would report a request that
 * was written, and perhaps applied, as never sent.
 */
export function whenConnected(socket: Socket, secure: boolean, sent: () => void): void {
  if (secure ? handshaken.has(socket) : !socket.connecting) {
    sent();
    return;
  }
  socket.once(secure ? "secureConnect" : "connect", () => {
    if (secure) handshaken.add(socket);
    sent();
  });
}
