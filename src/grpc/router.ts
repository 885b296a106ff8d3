/**
 * The gRPC server: a table of methods by path, served on the streams of node:http2 sessions.
 * Every way a call can go wrong ends in a gRPC status (trailers-only when nothing was sent yet) or a
 * stream reset; nothing a client sends throws out of here.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { callContext, StreamWriter, type CallContext } from "./call.js";
import { Deframer, frame, messageLimitDefault, parseGrpcTimeout, type MessageCodec } from "./framing.js";
import { InboundQueue } from "./inbound.js";
import { encodeGrpcMessage, GrpcError, Status, type StatusCode } from "./status.js";
import { ProtoError } from "./wire_reader.js";

type UnaryHandler<Q, R> = (request: Q, call: CallContext) => R | Promise<R>;
type ServerStreamHandler<Q, R> = (request: Q, out: StreamWriter<R>, call: CallContext) => Promise<void>;
type BidiHandler<Q, R> = (requests: AsyncIterable<Q>, out: StreamWriter<R>, call: CallContext) => Promise<void>;

type Method =
  | { kind: "unary"; req: MessageCodec<unknown>; res: MessageCodec<unknown>; handler: UnaryHandler<unknown, unknown> }
  | {
      kind: "serverStream";
      req: MessageCodec<unknown>;
      res: MessageCodec<unknown>;
      handler: ServerStreamHandler<unknown, unknown>;
    }
  | { kind: "bidi"; req: MessageCodec<unknown>; res: MessageCodec<unknown>; handler: BidiHandler<unknown, unknown> };

interface RouterOptions {
  /** The largest message received (default 4 MiB, as grpc-go's). */
  readonly messageLimit?: number;
  /** Called with a handler's failure that was not a GrpcError (answered UNKNOWN). */
  readonly onUnexpectedError?: (path: string, error: unknown) => void;
}

const responseHeaders = { ":status": 200, "content-type": "application/grpc" };
const okTrailers = { "grpc-status": "0" };
const timerMaxMs = 2 ** 31 - 1;

export class GrpcRouter {
  private readonly methods = new Map<string, Method>();
  private readonly messageLimit: number;

  constructor(private readonly options: RouterOptions = {}) {
    this.messageLimit = options.messageLimit ?? messageLimitDefault;
  }

  unary<Q, R>(path: string, req: MessageCodec<Q>, res: MessageCodec<R>, handler: UnaryHandler<Q, R>): void {
    this.add(path, { kind: "unary", req, res, handler } as Method);
  }

  serverStream<Q, R>(
    path: string,
    req: MessageCodec<Q>,
    res: MessageCodec<R>,
    handler: ServerStreamHandler<Q, R>,
  ): void {
    this.add(path, { kind: "serverStream", req, res, handler } as Method);
  }

  bidi<Q, R>(path: string, req: MessageCodec<Q>, res: MessageCodec<R>, handler: BidiHandler<Q, R>): void {
    this.add(path, { kind: "bidi", req, res, handler } as Method);
  }

  private add(path: string, method: Method): void {
    if (this.methods.has(path)) throw new Error(`gRPC method ${path} registered twice`);
    this.methods.set(path, method);
  }

  /** The 'stream' listener of an http2 server or session. */
  readonly handleStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    stream.on("error", ignore);
    const contentType = headers["content-type"];
    if (typeof contentType !== "string" || !contentType.startsWith("application/grpc")) {
      respondPlain(stream, 415);
      return;
    }
    if (headers[":method"] !== "POST") {
      respondPlain(stream, 405);
      return;
    }
    const path = headers[":path"] ?? "";
    const method = this.methods.get(path);
    if (method === undefined) {
      new Call(stream, path, this.options).finish(Status.UNIMPLEMENTED, `unknown method ${path}`);
      return;
    }
    new Call(stream, path, this.options).start(method, headers, this.messageLimit);
  };
}

function ignore(): void {}

function respondPlain(stream: ServerHttp2Stream, status: number): void {
  if (stream.headersSent || stream.destroyed) return;
  stream.respond({ ":status": status }, { endStream: true });
  stream.resume();
}

/** One call's state: whether headers went out, and its single end. */
class Call {
  private headersSent = false;
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly path: string,
    private readonly options: RouterOptions,
  ) {}

  start(method: Method, headers: IncomingHttpHeaders, limit: number): void {
    const stream = this.stream;
    stream.once("close", () => {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.finished = true;
      this.abort.abort(new GrpcError(Status.CANCELLED, "the call was cancelled"));
    });
    const timeoutMs = parseGrpcTimeout(headers["grpc-timeout"]);
    // A deadline beyond what a timer can hold (about 24.8 days) is as good as none.
    if (timeoutMs !== undefined && timeoutMs <= timerMaxMs)
      this.timer = setTimeout(() => this.finish(Status.DEADLINE_EXCEEDED, "deadline exceeded"), timeoutMs);
    const call = callContext(stream, headers, this.abort.signal);
    const deframer = new Deframer(limit);
    const messages: Uint8Array[] = [];
    if (method.kind === "bidi") {
      const inbound = new InboundQueue<unknown>(stream);
      stream.on("data", (chunk: Buffer) => {
        if (this.finished) return;
        try {
          deframer.push(chunk, messages);
          for (const message of messages) inbound.push(method.req.decode(message));
          messages.length = 0;
        } catch (error) {
          messages.length = 0;
          inbound.end(error as Error);
          this.fail(error);
        }
      });
      stream.once("end", () => {
        try {
          deframer.finish();
          inbound.end();
        } catch (error) {
          inbound.end(error as Error);
          this.fail(error);
        }
      });
      this.run(method.handler(inbound, new StreamWriter(stream, method.res, this.sendHeaders), call));
      return;
    }
    stream.on("data", (chunk: Buffer) => {
      if (this.finished) return;
      try {
        deframer.push(chunk, messages);
        // Refused at once: a client streaming more messages at a one-request call is not buffered.
        if (messages.length > 1)
          throw new GrpcError(Status.INVALID_ARGUMENT, `expected one request message, got ${messages.length}`);
      } catch (error) {
        this.fail(error);
      }
    });
    stream.once("end", () => {
      if (this.finished) return;
      try {
        deframer.finish();
        if (messages.length !== 1)
          throw new GrpcError(Status.INVALID_ARGUMENT, `expected one request message, got ${messages.length}`);
        const request = method.req.decode(messages[0]!);
        if (method.kind === "unary") this.run(this.unary(method, request, call));
        else this.run(method.handler(request, new StreamWriter(stream, method.res, this.sendHeaders), call));
      } catch (error) {
        this.fail(error);
      }
    });
  }

  private async unary(
    method: { res: MessageCodec<unknown>; handler: UnaryHandler<unknown, unknown> },
    request: unknown,
    call: CallContext,
  ): Promise<void> {
    const response = await method.handler(request, call);
    if (this.finished || this.stream.destroyed) return;
    this.sendHeaders();
    this.stream.write(frame(method.res, response));
  }

  private run(done: Promise<void>): void {
    done.then(
      () => this.finish(Status.OK, ""),
      (error: unknown) => this.fail(error),
    );
  }

  private readonly sendHeaders = (): void => {
    if (this.headersSent) return;
    this.headersSent = true;
    this.stream.respond(responseHeaders, { waitForTrailers: true });
  };

  fail(error: unknown): void {
    if (error instanceof GrpcError) this.finish(error.code, error.message);
    else if (error instanceof ProtoError) this.finish(Status.INVALID_ARGUMENT, `invalid request: ${error.message}`);
    else {
      if (!this.finished) this.options.onUnexpectedError?.(this.path, error);
      this.finish(Status.UNKNOWN, error instanceof Error ? error.message : String(error));
    }
  }

  finish(code: StatusCode, message: string): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (code !== Status.OK) this.abort.abort(new GrpcError(code, message));
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    // Whatever the client still sends is read and dropped, so its flow-control window never stalls the session.
    stream.resume();
    const trailers =
      code === Status.OK
        ? okTrailers
        : message === ""
          ? { "grpc-status": String(code) }
          : { "grpc-status": String(code), "grpc-message": encodeGrpcMessage(message) };
    if (!this.headersSent) {
      this.headersSent = true;
      stream.respond({ ...responseHeaders, ...trailers }, { endStream: true });
      return;
    }
    stream.once("wantTrailers", () => stream.sendTrailers(trailers));
    stream.end();
  }
}
