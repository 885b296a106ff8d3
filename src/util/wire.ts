/*
 * Fixed-width big-endian (network order) fields shared by the binary codecs: u8, u16, u32, and u64
 * carried as two u32 halves. It lives in util because the pure cores (paxos) may not import the
 * transport, and one copy keeps the formats' rules from drifting apart. Every integer a wire holds is
 * a safe integer (≤ 2^53 − 1), so a u64 never needs a BigInt: the high half may be at most
 * 0x1F_FFFF, and the reader rejects anything above. u64 rather than float64 because a float64 field
 * would admit NaN, ±Infinity, −0 and fractions that the reader would then have to reject one by one,
 * and because a peer in another language reads a u64 index or term natively (etcd's are uint64).
 */
import { assert } from "./assert.js";
import { isNonNegativeInteger } from "./ids.js";

const twoTo32 = 0x1_0000_0000;
/** The largest high half of a u64 that keeps the whole value ≤ Number.MAX_SAFE_INTEGER. */
const u64HighMax = 0x1f_ffff;

export const U8_BYTES = 1;
export const U16_BYTES = 2;
export const U32_BYTES = 4;
export const U64_BYTES = 8;

/**
 * Why an input is not a message: it ends early ("truncated"), a length is above its field's limit
 * ("oversized"), the version or tag is not one the codec knows, a field holds a value the format
 * forbids ("malformed"), or bytes follow a complete message ("trailingBytes"). Codecs whose errors
 * are plain strings use only the failure's message.
 */
export type DecodeFailureKind =
  "truncated" | "oversized" | "unknownVersion" | "unknownTag" | "malformed" | "trailingBytes";

export interface DecodeFailure {
  readonly kind: DecodeFailureKind;
  /** The field being read, e.g. "promise.accepted.ballot.round". */
  readonly field: string;
  /** The input offset the failure was found at. */
  readonly offset: number;
  /** `${field}: ${problem} (at byte ${offset})`. */
  readonly message: string;
}

/** Raised by ByteReader on malformed input; codec entry points turn it into an error result. */
export class DecodeError extends Error {
  override name = "DecodeError";
  constructor(readonly failure: DecodeFailure) {
    super(failure.message);
  }
}

/**
 * Writes fields into a buffer sized in advance, from `start` on (the transport leaves headroom there
 * for its frame header, saving a copy). Encoding input comes from this process, so a value that does
 * not fit its field is a programmer error and asserts (the decoder's checks, paired).
 */
export class ByteWriter {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #start: number;
  #pos: number;

  constructor(bytes: Uint8Array, start = 0) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    this.#start = start;
    this.#pos = start;
  }

  /** The whole buffer, once every byte after `start` is written (a sizing mistake asserts). */
  finish(what: string): Uint8Array {
    if (this.#pos !== this.#bytes.length) {
      assert(false, `${what}: wrote ${this.#pos - this.#start} bytes, sized ${this.#bytes.length - this.#start}`);
    }
    return this.#bytes;
  }

  u8(value: number): void {
    this.#view.setUint8(this.#pos, value);
    this.#pos += U8_BYTES;
  }

  bool(value: boolean): void {
    this.u8(value ? 1 : 0);
  }

  // The checks below build their message only on failure: a template literal passed to assert()
  // would be formatted on every call, which dominated the transport encoder's profile.
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
    // in the transport's profile when read per field.
    this.#buffer = bytes.buffer;
    this.#byteOffset = bytes.byteOffset;
    this.#length = bytes.length;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  #remaining(): number {
    return this.#length - this.#pos;
  }

  /** Throws the failure; "malformed" unless the caller knows better (see DecodeFailureKind). */
  fail(field: string, problem: string, kind: DecodeFailureKind = "malformed"): never {
    const offset = this.#pos;
    throw new DecodeError({ kind, field, offset, message: `${field}: ${problem} (at byte ${offset})` });
  }

  #need(field: string, n: number): void {
    if (this.#remaining() < n) this.fail(field, `needs ${n} bytes, ${this.#remaining()} left`, "truncated");
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
    if (high > u64HighMax) this.fail(field, "integer above 2^53 - 1");
    const value = high * twoTo32 + this.#view.getUint32(this.#pos + 4);
    this.#pos += U64_BYTES;
    return value;
  }

  /**
   * A view of the next `length` bytes: a plain Uint8Array over the input's memory (not a copy, and
   * not a Buffer even when the input is one), valid as long as the input is not reused.
   */
  #span(field: string, length: number): Uint8Array {
    this.#need(field, length);
    const view = new Uint8Array(this.#buffer, this.#byteOffset + this.#pos, length);
    this.#pos += length;
    return view;
  }

  /** A copy of the next `length` bytes, for a decoded message that must never alias the input. */
  raw(field: string, length: number): Uint8Array {
    return this.#span(field, length).slice();
  }

  /** A u32 length, then a view of that many bytes (see #span: not a copy). */
  bytes(field: string): Uint8Array {
    return this.#span(field, this.u32(field));
  }

  /**
   * A u32 item count, checked against the bytes left: each item takes at least `itemBytesMin`, so a
   * forged count cannot make the caller loop or allocate beyond what the buffer could hold.
   */
  count(field: string, itemBytesMin: number): number {
    const count = this.u32(field);
    if (count * itemBytesMin > this.#remaining()) {
      const problem = `count ${count} needs at least ${count * itemBytesMin} bytes, ${this.#remaining()} left`;
      this.fail(field, problem, "truncated");
    }
    return count;
  }

  /** Bytes not read yet (an optional trailing field is there or not). */
  remaining(): number {
    return this.#remaining();
  }

  /** Rejects trailing bytes: a message's encoding is exactly its fields. */
  end(): void {
    if (this.#remaining() !== 0) this.fail("message", `${this.#remaining()} trailing bytes`, "trailingBytes");
  }
}
