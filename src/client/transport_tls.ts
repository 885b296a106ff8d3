/**
 * The node:http(s) connections a transport keeps: one keep-alive pool for http and one for https,
 * made on first use. An endpoint is reached over https when the client was given TLS options or the
 * endpoint was written https://.
 */
import http from "node:http";
import https from "node:https";
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
