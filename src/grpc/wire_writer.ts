/**
 * Protobuf's wire format, write side, into one buffer sized beforehand (the codecs compute a
 * message's size first): no growth, no copies, and room left at the front for the gRPC prefix.
 */
export class ProtoWriter {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start: number,
  ) {
    this.pos = start;
  }

  tag(fieldNumber: number, wireType: number): void {
    this.uint((fieldNumber << 3) | wireType);
  }

  /** A non-negative integer up to 2^53 − 1 (uint32, uint64, lengths). */
  uint(value: number): void {
    const buf = this.buf;
    let pos = this.pos;
    while (value > 0x7f) {
      buf[pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buf[pos++] = value;
    this.pos = pos;
  }

  /** int32/int64/enum: a negative one is ten bytes of two's complement, as protobuf sends it. */
  int(value: number): void {
    if (value >= 0) {
      this.uint(value);
      return;
    }
    let low = Number(BigInt.asUintN(64, BigInt(value)) & 0xffff_ffffn);
    let high = Number(BigInt.asUintN(64, BigInt(value)) >> 32n);
    const buf = this.buf;
    for (let i = 0; i < 4; i++) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low >>>= 7;
    }
    buf[this.pos++] = (low & 0x0f) | ((high & 0x07) << 4) | 0x80;
    high >>>= 3;
    for (let i = 0; i < 4; i++) {
      buf[this.pos++] = (high & 0x7f) | 0x80;
      high >>>= 7;
    }
    buf[this.pos++] = high & 0x01;
  }

  bytes(value: Uint8Array): void {
    this.uint(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** A string whose UTF-8 length the caller computed (sizes come first). */
  string(value: string, byteLength: number): void {
    this.uint(byteLength);
    this.pos += this.buf.write(value, this.pos, byteLength, "utf8");
  }
}

/** Bytes a varint of this value takes (a negative int is always 10). */
export function varintSize(value: number): number {
  if (value < 0) return 10;
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  let size = 4;
  value = Math.floor(value / 0x1000_0000);
  while (value > 0) {
    size++;
    value = Math.floor(value / 0x80);
  }
  return size;
}
