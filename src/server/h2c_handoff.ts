/**
 * A plain connection that opened with HTTP/2's preface goes to node:http2 either as it is or through
 * a RewritingTransport, as FirstHeadersSniffer decides on the client's first request.
 */
import type { Http2Server } from "node:http2";
import type { Socket } from "node:net";
import { HeaderBlockRewriter } from "../grpc/h2_frames.js";
import { emptySettings, FirstHeadersSniffer } from "./first_headers.js";
import { RewritingTransport } from "./rewriting_transport.js";
import { rewriteUrlAuthority } from "./url_authority.js";

/**
 * `socket` is paused with the bytes read so far (the preface, at least) unshifted. A client that
 * sends no request within `undecidedMs` (an idle connection is legitimate) goes the rewriting way.
 */
export function handOffHttp2(socket: Socket, http2: Http2Server, undecidedMs: number): void {
  const sniffer = new FirstHeadersSniffer();
  let seen: Buffer = Buffer.alloc(0);
  const decide = (decision: "raw" | "rewrite"): void => {
    clearTimeout(timer);
    socket.off("data", onData);
    socket.off("end", onEnd);
    socket.pause();
    if (decision === "raw") {
      socket.unshift(sniffer.withoutOurAck(seen));
      http2.emit("connection", socket);
    } else {
      const rewriter = new HeaderBlockRewriter(rewriteUrlAuthority, true);
      http2.emit("connection", new RewritingTransport(socket, rewriter, seen));
    }
  };
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const decision = sniffer.scan(seen);
    if (decision !== "wait") decide(decision);
  };
  // A client gone before its first request leaves nothing to serve.
  const onEnd = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(() => decide("rewrite"), undecidedMs);
  socket.once("close", () => clearTimeout(timer));
  socket.once("end", onEnd);
  socket.on("data", onData);
  socket.write(emptySettings);
  socket.resume();
}
