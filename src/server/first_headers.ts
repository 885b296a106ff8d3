/**
 * Reads a prior-knowledge h2c connection's first frames, up to its first complete header block,
 * to decide whether node:http2 may have the socket itself ("raw", no cost per call) or needs every
 * header block rewritten first ("rewrite", see url_authority.ts): the decision holds for the
 * connection's life, since a client keeps the authority it began with.
 *
 * The server's SETTINGS must go out before the first request arrives (grpc-go waits for it), yet
 * the session that would send them cannot start before the decision: so the listener sends an empty
 * SETTINGS frame (every setting at its initial value, as the protocol assumes until SETTINGS come)
 * and the client's ACK of it is taken out of what nghttp2 gets, which would otherwise refuse an
 * ACK it never asked for. "raw" is therefore decided only once that ACK has been seen.
 *
 * Anything unusual (a PING or DATA before the first request, a malformed block, a frame too large)
 * decides "rewrite": the rewriting path handles every connection correctly, only at a cost.
 */
import { HpackDecoder } from "../grpc/hpack_decoder.js";
import {
  Flag,
  frameHeader,
  frameHeaderBytes,
  framePayloadMax,
  FrameType,
  headerBlockBytesMax,
  headersPayload,
  prefaceBytes,
  readFrameHeader,
} from "../grpc/h2_frames.js";
import { hostOfUrlAuthority } from "./url_authority.js";

type Decision = "wait" | "raw" | "rewrite";

export const emptySettings = frameHeader(0, FrameType.SETTINGS, 0, 0);

export class FirstHeadersSniffer {
  private at = prefaceBytes;
  private ackAt = -1;
  private headersFine = false;
  private blockStream = -1;
  private readonly fragments: Uint8Array[] = [];

  /** `seen`: every byte the client sent, from the preface on (the same bytes again, and more, on each call). */
  scan(seen: Buffer): Decision {
    if (seen.length > headerBlockBytesMax + prefaceBytes) return "rewrite";
    while (seen.length - this.at >= frameHeaderBytes) {
      const frame = readFrameHeader(seen, this.at);
      if (frame.length > framePayloadMax) return "rewrite";
      const end = this.at + frameHeaderBytes + frame.length;
      if (end > seen.length) return "wait";
      const payload = seen.subarray(this.at + frameHeaderBytes, end);
      const frameAt = this.at;
      this.at = end;
      if (frame.type === FrameType.SETTINGS && frame.flags & Flag.ACK && this.ackAt < 0) {
        this.ackAt = frameAt;
        if (this.headersFine) return "raw";
        continue;
      }
      if (this.headersFine) continue;
      const decision = this.beforeFirstRequest(frame.type, frame.flags, frame.streamId, payload);
      if (decision === "fine") {
        this.headersFine = true;
        if (this.ackAt >= 0) return "raw";
      } else if (decision !== "wait") return decision;
    }
    return "wait";
  }

  /** What node:http2 gets on the "raw" path: `seen` without the ACK of our SETTINGS. */
  withoutOurAck(seen: Buffer): Buffer {
    return Buffer.concat([seen.subarray(0, this.ackAt), seen.subarray(this.ackAt + frameHeaderBytes)]);
  }

  /** "fine": the first request's block is complete and node:http2 accepts its authority. */
  private beforeFirstRequest(type: number, flags: number, streamId: number, payload: Uint8Array): Decision | "fine" {
    if (this.blockStream >= 0) {
      if (type !== FrameType.CONTINUATION || streamId !== this.blockStream) return "rewrite";
      this.fragments.push(payload);
    } else if (type === FrameType.HEADERS) {
      try {
        this.fragments.push(headersPayload(flags, payload).fragment);
      } catch {
        return "rewrite";
      }
      this.blockStream = streamId;
    } else if (type === FrameType.SETTINGS || type === FrameType.WINDOW_UPDATE || type === FrameType.PRIORITY) {
      return "wait";
    } else {
      return "rewrite";
    }
    if ((flags & Flag.END_HEADERS) === 0) return "wait";
    try {
      const fields = new HpackDecoder().decode(Buffer.concat(this.fragments));
      const urlForm = fields.some((f) => f.name === ":authority" && hostOfUrlAuthority(f.value) !== undefined);
      if (urlForm) return "rewrite";
    } catch {
      return "rewrite";
    }
    return "fine";
  }
}
