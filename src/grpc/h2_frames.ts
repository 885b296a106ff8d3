/**
 * HTTP/2 frames from a client (RFC 9113 4.1), for a layer between the socket and node:http2 that
 * rewrites the client's header blocks: HEADERS and their CONTINUATIONs are gathered, decoded
 * (HPACK), edited and re-encoded as literals without indexing or Huffman, so the server's own
 * decoder needs no dynamic-table state of ours; every other frame passes through untouched.
 */
import { HpackDecoder, type HeaderField } from "./hpack_decoder.js";
import { HpackError } from "./hpack_huffman.js";

export const frameHeaderBytes = 9;
export const prefaceBytes = 24;
/** SETTINGS_MAX_FRAME_SIZE's initial value: the server never advertises more. */
export const framePayloadMax = 16_384;
/** A header block (all its fragments) beyond this is refused before it is decoded. */
export const headerBlockBytesMax = 64 * 1024;

export const FrameType = { DATA: 0, HEADERS: 1, PRIORITY: 2, SETTINGS: 4, PING: 6, WINDOW_UPDATE: 8, CONTINUATION: 9 };
export const Flag = { ACK: 0x1, END_STREAM: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 };

interface FrameHeader {
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
}

export function readFrameHeader(bytes: Uint8Array, at: number): FrameHeader {
  return {
    length: (bytes[at]! << 16) | (bytes[at + 1]! << 8) | bytes[at + 2]!,
    type: bytes[at + 3]!,
    flags: bytes[at + 4]!,
    streamId: ((bytes[at + 5]! & 0x7f) << 24) | (bytes[at + 6]! << 16) | (bytes[at + 7]! << 8) | bytes[at + 8]!,
  };
}

/** A HEADERS payload's parts: the 5 priority bytes (if any) and the block fragment, padding removed. */
export function headersPayload(flags: number, payload: Uint8Array): { priority: Uint8Array; fragment: Uint8Array } {
  let start = 0;
  let end = payload.length;
  if (flags & Flag.PADDED) {
    if (payload.length < 1) throw new HpackError("HEADERS too short for its pad length");
    end -= payload[0]!;
    start = 1;
  }
  const priorityBytes = flags & Flag.PRIORITY ? 5 : 0;
  if (end < start + priorityBytes) throw new HpackError("HEADERS padding exceeds the payload");
  return {
    priority: payload.subarray(start, start + priorityBytes),
    fragment: payload.subarray(start + priorityBytes, end),
  };
}

/** Edits a request's decoded fields; returns them (or a new list) to re-encode. */
type HeaderEdit = (fields: HeaderField[]) => HeaderField[];

/** The client-to-server byte stream (from the preface on), with each header block rewritten by `edit`. */
export class HeaderBlockRewriter {
  private readonly decoder = new HpackDecoder();
  private pending: Buffer = Buffer.alloc(0);
  private prefaceLeft = prefaceBytes;
  private block:
    { streamId: number; flags: number; priority: Uint8Array; fragments: Uint8Array[]; bytes: number } | undefined;

  /** `dropFirstSettingsAck`: the first SETTINGS ACK answers a SETTINGS frame we sent, not the server's. */
  constructor(
    private readonly edit: HeaderEdit,
    private dropFirstSettingsAck: boolean,
  ) {}

  /**
   * Appends to `out` the bytes to hand the server for `chunk`. Throws HpackError on a malformed
   * frame or header block, `out` then holding what came before it.
   */
  push(chunk: Buffer, out: Buffer[]): void {
    let bytes = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.prefaceLeft > 0) {
      const passed = Math.min(this.prefaceLeft, bytes.length);
      out.push(bytes.subarray(0, passed));
      this.prefaceLeft -= passed;
      bytes = bytes.subarray(passed);
    }
    let at = 0;
    let passFrom = 0;
    while (bytes.length - at >= frameHeaderBytes) {
      const frame = readFrameHeader(bytes, at);
      if (frame.length > framePayloadMax) {
        if (passFrom < at) out.push(bytes.subarray(passFrom, at));
        throw new HpackError(`frame of ${frame.length} bytes`);
      }
      const end = at + frameHeaderBytes + frame.length;
      if (end > bytes.length) break;
      const payload = bytes.subarray(at + frameHeaderBytes, end);
      if (this.block !== undefined || frame.type === FrameType.HEADERS) {
        if (passFrom < at) out.push(bytes.subarray(passFrom, at));
        this.takeHeaderFrame(frame, payload, out);
        passFrom = end;
      } else if (frame.type === FrameType.SETTINGS && frame.flags & Flag.ACK && this.dropFirstSettingsAck) {
        if (passFrom < at) out.push(bytes.subarray(passFrom, at));
        this.dropFirstSettingsAck = false;
        passFrom = end;
      }
      at = end;
    }
    if (passFrom < at) out.push(bytes.subarray(passFrom, at));
    this.pending = at === bytes.length ? Buffer.alloc(0) : Buffer.from(bytes.subarray(at));
  }

  private takeHeaderFrame(frame: FrameHeader, payload: Uint8Array, out: Buffer[]): void {
    if (this.block === undefined) {
      const { priority, fragment } = headersPayload(frame.flags, payload);
      this.block = { streamId: frame.streamId, flags: frame.flags, priority, fragments: [], bytes: 0 };
      this.addFragment(fragment);
    } else {
      if (frame.type !== FrameType.CONTINUATION || frame.streamId !== this.block.streamId) {
        throw new HpackError("a header block interrupted by another frame");
      }
      this.addFragment(payload);
    }
    if ((frame.flags & Flag.END_HEADERS) === 0) return;
    const { streamId, flags, priority, fragments } = this.block;
    this.block = undefined;
    const fields = this.edit(this.decoder.decode(Buffer.concat(fragments)));
    writeHeaderFrames(out, streamId, flags & (Flag.END_STREAM | Flag.PRIORITY), priority, encodeLiterals(fields));
  }

  private addFragment(fragment: Uint8Array): void {
    const block = this.block!;
    block.bytes += fragment.length;
    if (block.bytes > headerBlockBytesMax) throw new HpackError("header block too large");
    block.fragments.push(fragment);
  }
}

/** RFC 7541 6.2.2/6.2.3: each field a literal without indexing (or never indexed), strings raw. */
function encodeLiterals(fields: readonly HeaderField[]): Buffer {
  let size = 0;
  for (const field of fields) size += field.name.length + field.value.length + 12;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const field of fields) {
    at = writeInteger(out, at, 4, field.neverIndexed ? 0x10 : 0x00, 0);
    at = writeInteger(out, at, 7, 0x00, field.name.length);
    at += out.write(field.name, at, "latin1");
    at = writeInteger(out, at, 7, 0x00, field.value.length);
    at += out.write(field.value, at, "latin1");
  }
  return out.subarray(0, at);
}

function writeInteger(out: Buffer, at: number, prefixBits: number, pattern: number, value: number): number {
  const prefixMax = (1 << prefixBits) - 1;
  if (value < prefixMax) {
    out[at++] = pattern | value;
    return at;
  }
  out[at++] = pattern | prefixMax;
  let rest = value - prefixMax;
  while (rest >= 0x80) {
    out[at++] = (rest & 0x7f) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[at++] = rest;
  return at;
}

/** One HEADERS frame, then CONTINUATIONs when the block does not fit one frame; the last ends the headers. */
function writeHeaderFrames(out: Buffer[], streamId: number, flags: number, priority: Uint8Array, block: Buffer): void {
  let at = Math.min(block.length, framePayloadMax - priority.length);
  const last = at === block.length;
  out.push(frameHeader(priority.length + at, FrameType.HEADERS, flags | (last ? Flag.END_HEADERS : 0), streamId));
  if (priority.length > 0) out.push(Buffer.from(priority));
  out.push(block.subarray(0, at));
  while (at < block.length) {
    const end = Math.min(block.length, at + framePayloadMax);
    const flag = end === block.length ? Flag.END_HEADERS : 0;
    out.push(frameHeader(end - at, FrameType.CONTINUATION, flag, streamId), block.subarray(at, end));
    at = end;
  }
}

export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const header = Buffer.allocUnsafe(frameHeaderBytes);
  header.writeUIntBE(length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return header;
}
