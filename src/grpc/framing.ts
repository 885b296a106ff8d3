/**
 * gRPC's length-prefixed messages: a 1-byte compressed flag and a big-endian u32 length, then the
 * message. HTTP/2 DATA chunks split and join messages freely, so the deframer reassembles them; the
 * length is checked against the limit before any of the body is buffered.
 */
import { GrpcError, Status } from "./status.js";

export const messageLimitDefault = 4 * 1024 * 1024;
const prefixBytes = 5;

/** Something that encodes a message into a buffer after `headroom` free bytes, and decodes one. */
export interface MessageCodec<T> {
  encode(message: T, headroom: number): Buffer;
  decode(bytes: Uint8Array): T;
}

/** The gRPC frame of a message: one buffer, one write. */
export function frame<T>(codec: MessageCodec<T>, message: T): Buffer {
  const buf = codec.encode(message, prefixBytes);
  buf[0] = 0;
  buf.writeUInt32BE(buf.length - prefixBytes, 1);
  return buf;
}

export class Deframer {
  /** Bytes of messages not yet whole, kept as they came and joined once the message is. */
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** The whole frame length of the message being gathered, once its prefix has arrived. */
  private awaitedBytes = prefixBytes;

  constructor(private readonly limit: number) {}

  /** The whole messages this chunk completes; throws a GrpcError for a compressed or oversized one. */
  push(chunk: Buffer, out: Uint8Array[]): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    // Joining on every chunk of a large message would copy it once per chunk.
    if (this.buffered < this.awaitedBytes) return;
    const buf = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks, this.buffered);
    let pos = 0;
    this.awaitedBytes = prefixBytes;
    while (buf.length - pos >= prefixBytes) {
      const flag = buf[pos]!;
      const length = buf.readUInt32BE(pos + 1);
      if (flag === 1) throw new GrpcError(Status.UNIMPLEMENTED, "compressed messages are not supported");
      if (flag !== 0) throw new GrpcError(Status.INTERNAL, `invalid message flag ${flag}`);
      if (length > this.limit)
        throw new GrpcError(
          Status.RESOURCE_EXHAUSTED,
          `received message larger than max (${length} vs. ${this.limit})`,
        );
      if (buf.length - pos - prefixBytes < length) {
        this.awaitedBytes = prefixBytes + length;
        break;
      }
      out.push(buf.subarray(pos + prefixBytes, pos + prefixBytes + length));
      pos += prefixBytes + length;
    }
    // A view of a chunk may keep the whole chunk alive; a short remainder is copied instead.
    const rest = pos === 0 ? buf : buf.length - pos < 64 ? Buffer.from(buf.subarray(pos)) : buf.subarray(pos);
    this.chunks = rest.length === 0 ? [] : [rest];
    this.buffered = rest.length;
  }

  /** At end of stream: a partial message left over is an error. */
  finish(): void {
    if (this.buffered > 0)
      throw new GrpcError(Status.RESOURCE_EXHAUSTED, "the stream ended inside a message (truncated frame)");
  }
}

/** grpc-timeout ("100m", "5S") in milliseconds; undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (match === null) return undefined;
  const amount = Number(match[1]);
  const unitMs = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 }[match[2] as "H"];
  return amount * unitMs;
}
