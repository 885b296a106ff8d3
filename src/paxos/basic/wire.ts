/*
 * Fixed-width big-endian fields for the Basic Paxos wire format: u8, u16, u32, and u64 carried as two
 * u32 halves holding a safe integer (the high half at most 0x1F_FFFF), so no BigInt is needed and a
 * float's NaN, infinities and fractions cannot appear. The pure core may not import the transport,
 * which has its own copy of these rules; the reader here reports typed failures instead of strings.
 */
import { assert } from "../../util/assert.js";
import { isNonNegativeInteger } from "../../util/ids.js";

const twoTo32 = 0x1_0000_0000;
const u64HighMax = 0x1f_ffff;

export const U8_BYTES = 1;
export const U16_BYTES = 2;
export const U32_BYTES = 4;
export const U64_BYTES = 8;

/**
 * Why an input is not a message: it ends early ("truncated"), a length is above its field's limit
 * ("oversized"), the version or tag is not one this code knows, a field holds a value the format
 * forbids ("malformed"), or bytes follow a complete message ("trailingBytes").
 */
export type DecodeFailureKind =
  "truncated" | "oversized" | "unknownVersion" | "unknownTag" | "malformed" | "trailingBytes";

export interface DecodeFailure {
  readonly kind: DecodeFailureKind;
  /** The field being read, e.g. "promise.accepted.ballot.round". */
  readonly field: string;
  /** The input offset the failure was found at. */
  readonly offset: number;
  readonly message: string;
}

/** Raised by ByteReader; the codec's entry point turns it into a DecodeFailure result. */
export class WireError extends Error {
  override name = "WireError";
  constructor(readonly failure: DecodeFailure) {
    super(failure.message);
  }
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

  u16(value: number): void {
    if ((value & 0xffff) !== value) assert(false, `u16 field: ${value} is not an integer in [0, 2^16)`);
    this.#view.setUint16(this.#pos, value);
    this.#pos += U16_BYTES;
  }

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

  raw(value: Uint8Array): void {
    this.#bytes.set(value, this.#pos);
    this.#pos += value.length;
  }
}

/** Reads fields with a bounds check before every access; failures throw WireError naming field and offset. */
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

  fail(kind: DecodeFailureKind, field: string, problem: string): never {
    const offset = this.#pos;
    throw new WireError({ kind, field, offset, message: `${field}: ${problem} (at byte ${offset})` });
  }

  #need(field: string, n: number): void {
    if (this.remaining < n) this.fail("truncated", field, `needs ${n} bytes, ${this.remaining} left`);
  }

  u8(field: string): number {
    this.#need(field, U8_BYTES);
    const value = this.#view.getUint8(this.#pos);
    this.#pos += U8_BYTES;
    return value;
  }

  bool(field: string): boolean {
    const value = this.u8(field);
    if (value > 1) this.fail("malformed", field, `boolean must be 0 or 1, got ${value}`);
    return value === 1;
  }

  u16(field: string): number {
    this.#need(field, U16_BYTES);
    const value = this.#view.getUint16(this.#pos);
    this.#pos += U16_BYTES;
    return value;
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
    if (high > u64HighMax) this.fail("malformed", field, "integer above 2^53 - 1");
    const value = high * twoTo32 + this.#view.getUint32(this.#pos + 4);
    this.#pos += U64_BYTES;
    return value;
  }

  /** A copy of the next `length` bytes: a decoded message never aliases the input. */
  raw(field: string, length: number): Uint8Array {
    this.#need(field, length);
    const copy = this.#bytes.slice(this.#pos, this.#pos + length);
    this.#pos += length;
    return copy;
  }

  /** Rejects trailing bytes: a message's encoding is exactly its fields. */
  end(): void {
    if (this.remaining !== 0) this.fail("trailingBytes", "message", `${this.remaining} trailing bytes`);
  }
}
