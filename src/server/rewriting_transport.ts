/**
 * What node:http2 reads and writes instead of the socket on a connection whose header blocks must
 * be rewritten: the client's bytes go through a HeaderBlockRewriter, the server's go out untouched.
 * Node wraps a stream like this one in JavaScript (no native handle), which is the cost per call
 * that the "raw" path avoids.
 */
import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import { Flag, FrameType, frameHeader, type HeaderBlockRewriter } from "../grpc/h2_frames.js";

/**
 * A frame nghttp2 answers with GOAWAY PROTOCOL_ERROR (a CONTINUATION with no header block open;
 * most other protocol errors Node reports as INTERNAL_ERROR): handed to it in place of a block we
 * could not decode, so the session ends as nghttp2 ends any.
 */
const refusedFrame = frameHeader(0, FrameType.CONTINUATION, Flag.END_HEADERS, 1);

/** Time the session gets to send its GOAWAY after a refused block, before the socket is destroyed. */
const refusalGraceMs = 1000;

export class RewritingTransport extends Duplex {
  private refused = false;

  constructor(
    private readonly socket: Socket,
    private readonly rewriter: HeaderBlockRewriter,
    received: Buffer,
  ) {
    super();
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.once("end", () => this.push(null));
    socket.once("close", () => this.destroy());
    this.receive(received);
  }

  override _read(): void {
    if (!this.refused) this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.socket.write(chunk)) done();
    else this.socket.once("drain", () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    this.socket.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.socket.destroy();
    done(error);
  }

  private receive(chunk: Buffer): void {
    if (this.refused) return;
    const out: Buffer[] = [];
    try {
      this.rewriter.push(chunk, out);
    } catch {
      this.refused = true;
      this.socket.pause();
      out.push(refusedFrame);
      setTimeout(() => this.socket.destroy(), refusalGraceMs).unref();
    }
    if (out.length === 0) return;
    if (!this.push(out.length === 1 ? out[0] : Buffer.concat(out)) && !this.refused) this.socket.pause();
  }
}
