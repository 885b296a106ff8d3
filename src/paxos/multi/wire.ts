/*
 * Fixed-width big-endian fields for the Multi-Paxos wire format: u8, u32, and u64 carried as two
 * u32 halves holding a safe integer (the high half at most 0x1F_FFFF), so no BigInt is needed and a
 * float's NaN, infinities and fractions cannot appear. The pure core may not import the transport,
 * which has its own copy of these rules.
 */
import { assert } from "../../util/assert.js";
import { isNonNegativeInteger } from "../../util/ids.js";

const twoTo32 = 0x1_0000_0000;
const u64HighMax = 0x1f_ffff;

export const U8_BYTES = 1;
export const U32_BYTES = 4;
export const U64_BYTES = 8;

/** Raised by ByteReader on malformed input; the codec turns it into an error result. */
export class DecodeError extends Error {
  override name = "DecodeError";
}

/** Writes fields into a buffer sized in advance; a value that does not fit its field is a programmer error. */
export class ByteWriter {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(size: number) {
    this.#bytes = new Uint8Array(size);
    this.#view = new DataView(this.#bytes.buffer);
  }

  /** The encoding, once every sized byte is written. */
  finish(what: string): Uint8Array {
    assert(this.#pos === this.#bytes.length, `${what}: wrote ${this.#pos} bytes, sized ${this.#bytes.length}`);
    return this.#bytes;
  }

  u8(value: number): void {
    this.#view.setUint8(this.#pos, value);
    this.#pos += U8_BYTES;
  }

  bool(value: boolean): void {
    this.u8(value ? 1 : 0);
  }

  u32(value: number): void {
    if (value >>> 0 !== value) assert(false, `u32 field: ${value} is not an integer in [0, 2^32)`);
    this.#view.setUint32(this.#pos, value);
    this.#pos += U32_BYTES;
  }

  u64(value: number): void {
    if (!isNonNegativeInteger(value)) assert(false, `u64 field: ${String(value)} is not a non-negative safe integer`);
    this.#view.setUint32(this.#pos, Math.floor(value / twoTo32));
    this.#view.setUint32(this.#pos + 4, value >>> 0);
    this.#pos += U64_BYTES;
  }

  /** A u32 length followed by the bytes. */
  bytes(value: Uint8Array): void {
    this.u32(value.length);
    this.#bytes.set(value, this.#pos);
    this.#pos += value.length;
  }
}

/** Reads fields with a bounds check before every access; failures throw DecodeError naming field and offset. */
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
    if (high > u64HighMax) this.fail(field, "integer above 2^53 - 1");
    const value = high * twoTo32 + this.#view.getUint32(this.#pos + 4);
    this.#pos += U64_BYTES;
    return value;
  }

  /** A u32 length, then a copy of that many bytes: a decoded message never aliases the input. */
  bytes(field: string): Uint8Array {
    const length = this.u32(field);
    this.#need(field, length);
    const copy = this.#bytes.slice(this.#pos, this.#pos + length);
    this.#pos += length;
    return copy;
  }

  /** A u32 item count, checked against the bytes left so a forged count cannot make the caller loop. */
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
