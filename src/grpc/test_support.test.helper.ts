/** A router on a real http2 listener for the gRPC tests, with a raw-bytes codec. */
import type { AddressInfo } from "node:net";
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import type { MessageCodec } from "./framing.js";
import { createGrpcHttp2Server } from "./http2_server.js";
import type { GrpcRouter } from "./router.js";
import { ProtoError } from "./wire_reader.js";

/** Bytes as they are; a message starting with 0xFF is "undecodable". */
export const rawCodec: MessageCodec<Uint8Array> = {
  encode(message, headroom) {
    const buf = Buffer.allocUnsafe(headroom + message.length);
    buf.set(message, headroom);
    return buf;
  },
  decode(bytes) {
    if (bytes[0] === 0xff) throw new ProtoError("0xff is not a message");
    return Uint8Array.from(bytes);
  },
};

export async function listen(router: GrpcRouter): Promise<{ url: string; close(): Promise<void> }> {
  const grpc = createGrpcHttp2Server(router);
  const server = grpc.server;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // As a member stopping does: sessions other members hold open (a follower's cached session
        // to its leader) are closed, not waited for.
        grpc.closeSessions(0);
        server.close(() => resolve());
      }),
  };
}

export interface RawAnswer {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  data: Buffer;
  rstCode: number;
}

/** A raw HTTP/2 request: `chunks` written one by one (each its own DATA frame), then the end. */
export function rawCall(
  session: ClientHttp2Session,
  path: string,
  chunks: readonly Uint8Array[],
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    stream.on("error", () => {});
    const answer: RawAnswer = { headers: {}, trailers: {}, data: Buffer.alloc(0), rstCode: 0 };
    stream.on("response", (h) => (answer.headers = h));
    stream.on("trailers", (t: IncomingHttpHeaders) => (answer.trailers = t));
    stream.on("data", (chunk: Buffer) => (answer.data = Buffer.concat([answer.data, chunk])));
    stream.on("close", () => {
      answer.rstCode = stream.rstCode;
      resolve(answer);
    });
    for (const chunk of chunks) stream.write(chunk);
    stream.end();
  });
}

export function h2(url: string): ClientHttp2Session {
  const session = connect(url);
  session.on("error", () => {});
  return session;
}

/** The gRPC frame of `body` with this flag and declared length. */
export function rawFrame(body: Uint8Array, flag = 0, length = body.length): Buffer {
  const buf = Buffer.alloc(5 + body.length);
  buf[0] = flag;
  buf.writeUInt32BE(length, 1);
  buf.set(body, 5);
  return buf;
}

/** The status of an answer: from trailers, or from the headers of a trailers-only one. */
export function statusOf(answer: RawAnswer): { code: string | undefined; message: string | undefined } {
  const source = answer.trailers["grpc-status"] !== undefined ? answer.trailers : answer.headers;
  return { code: source["grpc-status"] as string | undefined, message: source["grpc-message"] as string | undefined };
}

/** Resolves once `condition()` holds; rejects after a generous deadline (never a timing assertion). */
export function until(condition: () => boolean, deadlineMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (condition()) resolve();
      else if (Date.now() > giveUpAt) reject(new Error(`condition not met within ${deadlineMs} ms`));
      else setTimeout(check, 2);
    };
    check();
  });
}
