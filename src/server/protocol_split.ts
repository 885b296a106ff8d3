/**
 * One client port for raftkv's HTTP/1.1 API and etcd's gRPC API, as etcd serves both on its client
 * URLs: a plain connection that opens with HTTP/2's 24-byte preface (prior-knowledge h2c, which
 * grpc-go, etcdctl and grpc-js use for http:// endpoints) goes to the http2 server, any other to
 * node:http; a TLS connection is split by the protocol ALPN agreed (`h2` → http2, else HTTPS).
 */
import type { Server } from "node:http";
import type { Http2Server } from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { handOffHttp2 } from "./h2c_handoff.js";

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

type ConnectionListener = (socket: Socket) => void;

/** Takes over `event`'s listeners (node:http's parser) so a connection goes to them or to `http2`. */
function intercept(server: Server, event: string, route: (socket: Socket, toHttp: ConnectionListener) => void): void {
  const httpListeners = server.listeners(event) as ConnectionListener[];
  server.removeAllListeners(event);
  const toHttp = (socket: Socket): void => {
    for (const listener of httpListeners) listener.call(server, socket);
  };
  server.on(event, (socket: Socket) => route(socket, toHttp));
}

/** Plain TCP: reads until the bytes either are or cannot be the HTTP/2 preface, then hands the connection on with them. */
export function splitPlain(server: Server, http2: Http2Server, sniffTimeoutMs: number): void {
  intercept(server, "connection", (socket, toHttp) => {
    socket.on("error", ignore);
    let seen: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), sniffTimeoutMs);
    const onClose = (): void => clearTimeout(timer);
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const compared = Math.min(seen.length, preface.length);
      const isPreface = seen.subarray(0, compared).equals(preface.subarray(0, compared));
      if (isPreface && seen.length < preface.length) return;
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.pause();
      socket.unshift(seen);
      if (isPreface) handOffHttp2(socket, http2, sniffTimeoutMs);
      else {
        toHttp(socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
    socket.once("close", onClose);
  });
}

/** TLS: by the protocol ALPN agreed on. */
export function splitTls(server: Server, http2: Http2Server): void {
  intercept(server, "secureConnection", (socket, toHttp) => {
    if ((socket as Socket & Pick<TLSSocket, "alpnProtocol">).alpnProtocol === "h2") http2.emit("connection", socket);
    else toHttp(socket);
  });
}

function ignore(): void {}
