/**
 * A small gRPC client on node:http2: unary and bidirectional calls over one shared session (h2c
 * with prior knowledge for http://, ALPN h2 for https://): a follower's calls to the leader, tests,
 * benchmarks and the fault test.
 */
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { Deframer, frame, messageLimitDefault, type MessageCodec } from "./framing.js";
import { InboundQueue } from "./inbound.js";
import { decodeGrpcMessage, GrpcError, Status, type StatusCode } from "./status.js";

export interface GrpcClientOptions {
  /** PEM material for https:// endpoints. */
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export interface CallOptions {
  /** Extra request headers (metadata), e.g. { token }. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** Sent as grpc-timeout. */
  readonly timeoutMs?: number;
}

export class GrpcClient {
  readonly session: ClientHttp2Session;

  constructor(url: string, options: GrpcClientOptions = {}) {
    this.session = connect(url, { ...options, ALPNProtocols: ["h2"] });
    this.session.on("error", ignore);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.session.close(() => resolve()));
  }

  /** A call of one request and one response: a bidirectional call that sends one and expects one. */
  async unary<Q, R>(
    path: string,
    req: MessageCodec<Q>,
    res: MessageCodec<R>,
    request: Q,
    options?: CallOptions,
  ): Promise<R> {
    const call = this.bidi(path, req, res, options);
    call.write(request);
    call.end();
    const responses: R[] = [];
    // Iteration throws the call's status when it is not OK.
    for await (const response of call) responses.push(response);
    if (responses.length !== 1) throw new GrpcError(Status.INTERNAL, `expected one response, got ${responses.length}`);
    return responses[0]!;
  }

  bidi<Q, R>(path: string, req: MessageCodec<Q>, res: MessageCodec<R>, options?: CallOptions): ClientBidiCall<Q, R> {
    return new ClientBidiCall(this.open(path, options), req, res);
  }

  private open(path: string, options: CallOptions | undefined): ClientHttp2Stream {
    const headers: Record<string, string> = {
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...options?.metadata,
    };
    if (options?.timeoutMs !== undefined) headers["grpc-timeout"] = `${Math.ceil(options.timeoutMs)}m`;
    const stream = this.session.request(headers);
    stream.on("error", ignore);
    return stream;
  }
}

/** A bidirectional call: write requests, iterate responses, then read its status. */
export class ClientBidiCall<Q, R> implements AsyncIterable<R> {
  private readonly responses: InboundQueue<R>;
  /** The call's final status (OK included); never rejects. */
  readonly status: Promise<GrpcError>;

  constructor(
    private readonly stream: ClientHttp2Stream,
    private readonly req: MessageCodec<Q>,
    res: MessageCodec<R>,
  ) {
    this.responses = new InboundQueue<R>(stream);
    const deframer = new Deframer(messageLimitDefault);
    const decoded: Uint8Array[] = [];
    let status: GrpcError | undefined;
    const takeStatus = (headers: IncomingHttpHeaders): void => {
      status ??= statusOf(headers);
    };
    stream.on("response", takeStatus);
    stream.on("trailers", takeStatus);
    stream.on("data", (chunk: Buffer) => {
      try {
        deframer.push(chunk, decoded);
        for (const message of decoded) this.responses.push(res.decode(message));
      } catch (error) {
        status ??= error instanceof GrpcError ? error : new GrpcError(Status.INTERNAL, String(error));
      }
      decoded.length = 0;
    });
    this.status = new Promise((resolve) =>
      stream.on("close", () => {
        const final = status ?? new GrpcError(Status.CANCELLED, `stream reset (code ${stream.rstCode})`);
        this.responses.end(final.code === Status.OK ? undefined : final);
        resolve(final);
      }),
    );
  }

  /** False when the stream's buffer is full: wait for `drained()` before writing more. */
  write(request: Q): boolean {
    return this.stream.write(frame(this.req, request));
  }

  drained(): Promise<void> {
    return new Promise((resolve) => this.stream.once("drain", resolve));
  }

  end(): void {
    this.stream.end();
  }

  /** Resets the stream (RST_STREAM CANCEL), as a client that gives up does. */
  cancel(): void {
    this.stream.close(0x8);
  }

  [Symbol.asyncIterator](): AsyncIterator<R> {
    return this.responses[Symbol.asyncIterator]();
  }
}

function statusOf(headers: IncomingHttpHeaders): GrpcError | undefined {
  const code = headers["grpc-status"];
  if (typeof code !== "string") return undefined;
  const message = headers["grpc-message"];
  return new GrpcError(Number(code) as StatusCode, typeof message === "string" ? decodeGrpcMessage(message) : "");
}

function ignore(): void {}
