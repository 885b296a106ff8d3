/*
 * Fixed-width field access for the peer wire format: big-endian (network order) u8, u32, and u64
 * carried as two u32 halves. Every integer the wire holds is a safe integer (≤ 2^53 − 1), so a u64
 * never needs a BigInt: the high half may be at most 0x1F_FFFF, and the reader rejects anything above.
 * u64 rather than float64 because a float64 field would admit NaN, ±Infinity, −0 and fractions that
 * the reader would then have to reject one by one, and because a peer in another language reads a
 * u64 index or term natively (etcd's are uint64).
 */
import { assert } from "../util/assert.js";
import { isNonNegativeInteger } from "../util/ids.js";

const twoTo32 = 0x1_0000_0000;
/** The largest high half of a u64 that keeps the whole value ≤ Number.MAX_SAFE_INTEGER. */
const u64HighMax = 0x1f_ffff;

export const U8_BYTES = 1;
export const U32_BYTES = 4;
export const U64_BYTES = 8;

/** Raised by ByteReader on malformed input; codec entry points turn it into an error result. */
export class DecodeError extends Error {
  override name = "DecodeError";
}

/**
 * Writes fields into a buffer sized in advance. Encoding input comes from this process, so a value
 * that does not fit its field is a programmer error and asserts (the decoder's checks, paired).
 */
export class ByteWriter {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #pos: number;

  constructor(bytes: Uint8Array, position: number) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    this.#pos = position;
  }

  get position(): number {
    return this.#pos;
  }

  u8(value: number): void {
    this.#view.setUint8(this.#pos, value);
    this.#pos += U8_BYTES;
  }

  bool(value: boolean): void {
    this.u8(value ? 1 : 0);
  }

  // The checks below build their message only on failure: a template literal passed to assert()
  // would be formatted on every call, which dominated the encoder's profile.
  u32(value: number): void {
    if (value >>> 0 !== value) assert(false, `u32 field: ${value} is not an integer in [0, 2^32)`);
    this.#view.setUint32(this.#pos, value);
    this.#pos += U32_BYTES;
  }

  u64(value: number): void {
    assert(isNonNegativeInteger(value), `u64 field: ${String(value)} is not a non-negative safe integer`);
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

/**
 * Reads fields with a bounds check before every access, so no input can make it read outside the
 * buffer; failures throw DecodeError naming the field and the offset.
 */
export class ByteReader {
  readonly #buffer: ArrayBufferLike;
  readonly #byteOffset: number;
  readonly #length: number;
  readonly #view: DataView;
  #pos = 0;

  constructor(bytes: Uint8Array) {
    // Plain numbers, not getters on `bytes`, read once: a typed array's byteLength getter is several
    // times slower than `length` on Node 20's V8 (and the same for a Uint8Array), and it showed up
    // in the profile when read per field. The transport's sources use `length` for that reason.
    this.#buffer = bytes.buffer;
    this.#byteOffset = bytes.byteOffset;
    this.#length = bytes.length;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  get position(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#length - this.#pos;
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

  /**
   * A u32 length, then a view of that many bytes: a plain Uint8Array over the input's memory (not a
   * copy, and not a Buffer even when the input is one), valid as long as the input is not reused.
   */
  bytes(field: string): Uint8Array {
    const length = this.u32(field);
    this.#need(field, length);
    const view = new Uint8Array(this.#buffer, this.#byteOffset + this.#pos, length);
    this.#pos += length;
    return view;
  }

  /**
   * A u32 item count, checked against the bytes left: each item takes at least `itemBytesMin`, so a
   * forged count cannot make the caller loop or allocate beyond what the buffer could hold.
   */
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
