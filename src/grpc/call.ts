/** What a gRPC handler gets besides its request: metadata, cancellation, the peer, and the stream writer. */
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { PeerCertificate, TLSSocket } from "node:tls";
import { frame, type MessageCodec } from "./framing.js";

export interface CallContext {
  /** "/package.Service/Method". */
  readonly path: string;
  /** The request headers: metadata keys are lower-case (etcd's token is `token`). */
  readonly metadata: IncomingHttpHeaders;
  /** Aborted when the client cancels or resets the stream, the deadline passes, or the session closes. */
  readonly signal: AbortSignal;
  /** The client's certificate on a TLS connection that sent one (verified or not: see `peerVerified`). */
  peerCertificate(): PeerCertificate | undefined;
  /** Whether the client's certificate verified against the server's CA. */
  readonly peerVerified: boolean;
  /** Whether the call came over TLS. */
  readonly secure: boolean;
  /** The client's address, when the socket still knows it (failed authentications are counted and logged by it). */
  readonly remoteAddress: string | undefined;
}

export function callContext(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, signal: AbortSignal): CallContext {
  const socket = stream.session?.socket as TLSSocket | undefined;
  const tls = socket !== undefined && typeof socket.getPeerCertificate === "function";
  return {
    path: headers[":path"] ?? "",
    metadata: headers,
    signal,
    peerCertificate: () => {
      if (!tls) return undefined;
      const certificate = socket.getPeerCertificate();
      return Object.keys(certificate).length === 0 ? undefined : certificate;
    },
    peerVerified: tls && socket.authorized,
    secure: tls,
    remoteAddress: stream.session?.socket.remoteAddress,
  };
}

/** A streaming call's outbound side. `write` resolves once the stream can take more (backpressure). */
export class StreamWriter<T> {
  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly codec: MessageCodec<T>,
    private readonly sendHeaders: () => void,
  ) {}

  /** Whether the call is still open (a write after the client left is dropped). */
  get open(): boolean {
    return !this.stream.closed && !this.stream.destroyed;
  }

  /**
   * Writes at once, for a writer that cannot wait (a watch hub's sink): false when the stream's
   * buffer is full, and the caller should send nothing more until `drained()`.
   */
  send(message: T): boolean {
    if (!this.open) return true;
    this.sendHeaders();
    return this.stream.write(frame(this.codec, message));
  }

  /** Resolves once the stream can take more, or has closed. */
  drained(): Promise<void> {
    if (!this.open || !this.stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.stream.off("drain", done);
        this.stream.off("close", done);
        resolve();
      };
      this.stream.on("drain", done);
      this.stream.on("close", done);
    });
  }

  write(message: T): Promise<void> {
    this.send(message);
    return this.drained();
  }
}
