/**
 * Protobuf's wire format, read side: varints (exact up to their 10 bytes), length-delimited fields
 * and the fixed widths, for the codecs built on it. Every problem is a ProtoError with the byte offset,
 * which the server turns into INVALID_ARGUMENT.
 */
export class ProtoError extends Error {
  override name = "ProtoError";
}

export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

const twoTo32 = 0x1_0000_0000;
const textDecoder = new TextDecoder("utf-8", { fatal: true });

export class ProtoReader {
  pos = 0;
  /** Where the message being read ends (narrowed while a nested one is read). */
  end: number;

  constructor(readonly buf: Uint8Array) {
    this.end = buf.length;
  }

  /** The next field's tag (field number << 3 | wire type). */
  tag(): number {
    const tag = this.uint32();
    if (tag >>> 3 === 0) throw new ProtoError(`field number 0 at byte ${this.pos}`);
    return tag;
  }

  /** A varint that fits 32 bits (tags, lengths, int32/uint32/enum/bool); a longer one is read as its low 32 bits, as protobuf does. */
  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= this.end) throw new ProtoError(`truncated varint at byte ${pos}`);
      const byte = buf[pos++]!;
      value |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    // The 5th byte had its continuation bit: the rest is high bits that a 32-bit field drops.
    for (let i = 0; i < 5; i++) {
      if (pos >= this.end) throw new ProtoError(`truncated varint at byte ${pos}`);
      if (buf[pos++]! < 0x80) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    throw new ProtoError(`varint longer than 10 bytes at byte ${pos}`);
  }

  /** int32 and enums: a negative one is sent as a 10-byte varint whose low 32 bits hold it. */
  int32(): number {
    return this.uint32() | 0;
  }

  /**
   * A 64-bit varint read exactly, as a JavaScript number: uint64 when `signed` is false, int64 (two's
   * complement) when true. A value outside ±(2^53 − 1) throws, naming `field`, unless `rounded`
   * asks for the nearest double instead.
   */
  int64(field: string, signed: boolean, rounded = false): number {
    const buf = this.buf;
    let pos = this.pos;
    let low = 0;
    let high = 0;
    let byte = 0x80;
    // Bits 0–27 in `low` by plain arithmetic, then the rest through `high` (exact: 28 + 36 bits).
    for (let shift = 0; shift < 28 && byte >= 0x80; shift += 7) {
      if (pos >= this.end) throw new ProtoError(`${field}: truncated varint at byte ${pos}`);
      byte = buf[pos++]!;
      low += (byte & 0x7f) * 2 ** shift;
    }
    for (let shift = 0; shift < 36 && byte >= 0x80; shift += 7) {
      if (pos >= this.end) throw new ProtoError(`${field}: truncated varint at byte ${pos}`);
      byte = buf[pos++]!;
      // The 10th byte carries only bit 63.
      high += (shift === 35 ? byte & 0x01 : byte & 0x7f) * 2 ** shift;
    }
    if (byte >= 0x80) throw new ProtoError(`${field}: varint longer than 10 bytes at byte ${pos}`);
    this.pos = pos;
    if (high === 0) return low;
    // high holds bits 28..63 as an integer below 2^36.
    if (signed && high >= 2 ** 35) {
      // Negative: value = (high·2^28 + low) − 2^64.
      const magnitude = (2 ** 36 - high) * 2 ** 28 - low;
      if (magnitude > Number.MAX_SAFE_INTEGER)
        throw new ProtoError(`${field}: value below -(2^53 - 1) is not supported`);
      return -magnitude;
    }
    if (high >= 2 ** 25 && !rounded) throw new ProtoError(`${field}: value above 2^53 - 1 is not supported`);
    return high * 2 ** 28 + low;
  }

  bool(): boolean {
    return this.uint32() !== 0;
  }

  /** A length-delimited field's bytes, a view of the input (no copy). */
  bytes(): Uint8Array {
    const length = this.uint32();
    const start = this.pos;
    if (length > this.end - start) throw new ProtoError(`length ${length} runs past the end at byte ${start}`);
    this.pos = start + length;
    return this.buf.subarray(start, start + length);
  }

  string(field: string): string {
    const bytes = this.bytes();
    try {
      return bytes.length === 0 ? "" : textDecoder.decode(bytes);
    } catch {
      throw new ProtoError(`${field}: not valid UTF-8`);
    }
  }

  fixed32(): number {
    if (this.end - this.pos < 4) throw new ProtoError(`truncated fixed32 at byte ${this.pos}`);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x100_0000;
  }

  fixed64(field: string): number {
    const low = this.fixed32();
    const high = this.fixed32();
    if (high > 0x1f_ffff) throw new ProtoError(`${field}: value above 2^53 - 1 is not supported`);
    return high * twoTo32 + low;
  }

  /** Skips a field of an unknown number, as protobuf requires (groups, wire types 3 and 4, are refused). */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.varint:
        this.uint32();
        return;
      case WireType.fixed64:
        if (this.end - this.pos < 8) throw new ProtoError(`truncated fixed64 at byte ${this.pos}`);
        this.pos += 8;
        return;
      case WireType.lengthDelimited:
        this.bytes();
        return;
      case WireType.fixed32:
        if (this.end - this.pos < 4) throw new ProtoError(`truncated fixed32 at byte ${this.pos}`);
        this.pos += 4;
        return;
      default:
        throw new ProtoError(`unsupported wire type ${wireType} at byte ${this.pos}`);
    }
  }
}
