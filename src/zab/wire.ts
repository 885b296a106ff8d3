/*
 * Big-endian field access for the ZAB wire format: u8, u32, and u64 carried as two u32 halves
 * holding a safe integer (the reader rejects anything above 2^53 − 1, so no BigInt is needed).
 * The transport's reader has the same shape; ZAB is a pure core that may import only src/util,
 * hence its own copy.
 */
import { assert } from "../util/assert.js";
import { isNonNegativeInteger } from "../util/ids.js";

const TWO_TO_32 = 0x1_0000_0000;
const U64_HIGH_MAX = 0x1f_ffff;

export const U8_BYTES = 1;
export const U32_BYTES = 4;
export const U64_BYTES = 8;

/** Raised by ByteReader on malformed input; the codec turns it into an error result. */
export class DecodeError extends Error {
  override name = "DecodeError";
}

/** Appends fields to a buffer that grows as needed. Encoding input is ours: a bad value asserts. */
export class ByteWriter {
  #bytes = new Uint8Array(64);
  #view = new DataView(this.#bytes.buffer);
  #pos = 0;

  #reserve(n: number): void {
    if (this.#pos + n <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < this.#pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#bytes.subarray(0, this.#pos));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }

  u8(value: number): void {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff, `u8 field: ${value}`);
    this.#reserve(U8_BYTES);
    this.#view.setUint8(this.#pos, value);
    this.#pos += U8_BYTES;
  }

  bool(value: boolean): void {
    this.u8(value ? 1 : 0);
  }

  u32(value: number): void {
    assert(value >>> 0 === value, `u32 field: ${value}`);
    this.#reserve(U32_BYTES);
    this.#view.setUint32(this.#pos, value);
    this.#pos += U32_BYTES;
  }

  u64(value: number): void {
    assert(isNonNegativeInteger(value), `u64 field: ${value}`);
    this.#reserve(U64_BYTES);
    this.#view.setUint32(this.#pos, Math.floor(value / TWO_TO_32));
    this.#view.setUint32(this.#pos + 4, value >>> 0);
    this.#pos += U64_BYTES;
  }

  /** A u32 length, then the bytes. */
  bytes(value: Uint8Array): void {
    this.u32(value.length);
    this.#reserve(value.length);
    this.#bytes.set(value, this.#pos);
    this.#pos += value.length;
  }

  /** The bytes written, in a buffer of exactly that size. */
  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#pos);
  }
}

/** Reads fields with a bounds check before each one; failures throw DecodeError naming field and offset. */
export class ByteReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  get remaining(): number {
    return this.#bytes.length - this.#pos;
  }

  fail(field: string, problem: string): never {
    throw new DecodeError(`${field}: ${problem} (at byte ${this.#pos})`);
  }

  #need(field: string, n: number): void {
    if (this.remaining < n) this.fail(field, `needs ${n} bytes, ${this.remaining} left`);
  }

  u8(field: string): number {
    this.#need(field, U8_BYTES);
    const value = this.#view.getUint8(this.#pos);
    this.#pos += U8_BYTES;
    return value;
  }

  bool(field: string): boolean {
    const value = this.u8(field);
    if (value > 1) this.fail(field, `boolean must be 0 or 1, got ${value}`);
    return value === 1;
  }

  u32(field: string): number {
    this.#need(field, U32_BYTES);
    const value = this.#view.getUint32(this.#pos);
    this.#pos += U32_BYTES;
    return value;
  }

  u64(field: string): number {
    this.#need(field, U64_BYTES);
    const high = this.#view.getUint32(this.#pos);
    if (high > U64_HIGH_MAX) this.fail(field, "integer above 2^53 - 1");
    const value = high * TWO_TO_32 + this.#view.getUint32(this.#pos + 4);
    this.#pos += U64_BYTES;
    return value;
  }

  /** A u32 length, then a copy of that many bytes (a decoded message never aliases its input). */
  bytes(field: string): Uint8Array {
    const length = this.u32(field);
    this.#need(field, length);
    const value = this.#bytes.slice(this.#pos, this.#pos + length);
    this.#pos += length;
    return value;
  }

  /** A u32 item count, refused when the items could not fit in the bytes left. */
  count(field: string, itemBytesMin: number): number {
    const count = this.u32(field);
    if (count * itemBytesMin > this.remaining) {
      this.fail(field, `count ${count} needs at least ${count * itemBytesMin} bytes, ${this.remaining} left`);
    }
    return count;
  }

  /** Rejects trailing bytes: a message's encoding is exactly its fields. */
  end(): void {
    if (this.remaining !== 0) this.fail("message", `${this.remaining} trailing bytes`);
  }
}
