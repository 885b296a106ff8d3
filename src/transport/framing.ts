/*
 * Frames on a peer connection: a u32 big-endian payload length, then the payload (one codec payload:
 * a message or a snapshot chunk). The length excludes its own four bytes; 0 is malformed (no payload
 * is empty) and anything above frameBytesMax is refused before a byte of it is buffered.
 */
import type { Message } from "../raft/messages.js";
import { assert } from "../util/assert.js";
import {
  encodeHelloAt,
  encodeMessageAt,
  encodeSnapshotChunkAt,
  helloBytes,
  messageBytes,
  snapshotChunkBytes,
} from "./codec_encode.js";
import type { Hello, SnapshotChunk } from "./codec.js";

const FRAME_HEADER_BYTES = 4;
/** Default largest payload a frame may carry: 64 MiB. Snapshots bigger than that are streamed in chunks. */
export const FRAME_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
/** The u32 length field's own ceiling. */
const frameBytesCeiling = 0xffff_ffff;

interface FrameDecoderOptions {
  /** Largest payload accepted, in bytes; ≥ 1. */
  readonly frameBytesMax?: number;
}

/**
 * The payloads completed by one push. On error, `frames` holds those completed before the bad
 * header; the connection must then be closed, and the decoder refuses all later input.
 */
type FramePushResult =
  | { readonly ok: true; readonly frames: Uint8Array[] }
  | { readonly ok: false; readonly frames: Uint8Array[]; readonly error: string };

/**
 * Splits a byte stream into frame payloads, whatever the chunk boundaries. A payload that lies
 * within one pushed chunk is returned as a view of that chunk (no copy; the chunk must not be
 * reused); one spanning chunks is assembled in a buffer of exactly its size.
 */
export class FrameDecoder {
  readonly #frameBytesMax: number;
  readonly #header = new Uint8Array(FRAME_HEADER_BYTES);
  #headerFilled = 0;
  #body: Uint8Array | undefined;
  #bodyFilled = 0;
  #error: string | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    const max = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
    assert(Number.isInteger(max) && max >= 1 && max <= frameBytesCeiling, `frameBytesMax ${max} out of range`);
    this.#frameBytesMax = max;
  }

  /** Bytes held for an incomplete frame (header and body so far). */
  get bufferedBytes(): number {
    return this.#headerFilled + this.#bodyFilled;
  }

  push(chunk: Uint8Array): FramePushResult {
    const frames: Uint8Array[] = [];
    if (this.#error !== undefined) return { ok: false, frames, error: this.#error };
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#body === undefined) {
        let length: number;
        if (this.#headerFilled === 0 && chunk.length - pos >= FRAME_HEADER_BYTES) {
          length = readU32(chunk, pos);
          pos += FRAME_HEADER_BYTES;
        } else {
          const take = Math.min(FRAME_HEADER_BYTES - this.#headerFilled, chunk.length - pos);
          this.#header.set(chunk.subarray(pos, pos + take), this.#headerFilled);
          this.#headerFilled += take;
          pos += take;
          if (this.#headerFilled < FRAME_HEADER_BYTES) break;
          this.#headerFilled = 0;
          length = readU32(this.#header, 0);
        }
        const problem = this.#checkLength(length);
        if (problem !== undefined) {
          this.#error = problem;
          return { ok: false, frames, error: problem };
        }
        if (chunk.length - pos >= length) {
          frames.push(chunk.subarray(pos, pos + length));
          pos += length;
          continue;
        }
        this.#body = new Uint8Array(length);
        this.#bodyFilled = 0;
      }
      const body = this.#body;
      const take = Math.min(body.length - this.#bodyFilled, chunk.length - pos);
      body.set(chunk.subarray(pos, pos + take), this.#bodyFilled);
      this.#bodyFilled += take;
      pos += take;
      if (this.#bodyFilled === body.length) {
        frames.push(body);
        this.#body = undefined;
        this.#bodyFilled = 0;
      }
    }
    return { ok: true, frames };
  }

  #checkLength(length: number): string | undefined {
    if (length === 0) return "empty frame (length 0)";
    if (length > this.#frameBytesMax) return `frame of ${length} bytes exceeds frameBytesMax ${this.#frameBytesMax}`;
    return undefined;
  }
}

function readU32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function writeHeader(frame: Uint8Array, payloadBytes: number): Uint8Array {
  assert(payloadBytes >= 1 && payloadBytes <= frameBytesCeiling, `frame payload of ${payloadBytes} bytes`);
  frame[0] = payloadBytes >>> 24;
  frame[1] = (payloadBytes >>> 16) & 0xff;
  frame[2] = (payloadBytes >>> 8) & 0xff;
  frame[3] = payloadBytes & 0xff;
  return frame;
}

/** Frames an already encoded payload (a copy); the transport uses the copy-free helpers below. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  frame.set(payload, FRAME_HEADER_BYTES);
  return writeHeader(frame, payload.length);
}

/** A message's frame in one buffer; `payloadBytes` must be messageBytes(m). */
export function messageFrame(m: Message, payloadBytes = messageBytes(m)): Uint8Array {
  return writeHeader(encodeMessageAt(m, FRAME_HEADER_BYTES, payloadBytes), payloadBytes);
}

/** A hello's frame in one buffer. */
export function helloFrame(h: Hello): Uint8Array {
  const payloadBytes = helloBytes(h);
  return writeHeader(encodeHelloAt(h, FRAME_HEADER_BYTES, payloadBytes), payloadBytes);
}

/** A snapshot chunk's frame in one buffer; `payloadBytes` must be snapshotChunkBytes(c). */
export function snapshotChunkFrame(c: SnapshotChunk, payloadBytes = snapshotChunkBytes(c)): Uint8Array {
  return writeHeader(encodeSnapshotChunkAt(c, FRAME_HEADER_BYTES, payloadBytes), payloadBytes);
}
