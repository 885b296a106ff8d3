import { assert } from "../util/assert.js";

/*
 * Little-endian cursors for the command, result and snapshot codecs. Integers that count things are
 * u8/u16/u32; revisions, indexes and sequence numbers are u64 holding values up to
 * Number.MAX_SAFE_INTEGER, written as two u32 halves so no BigInt is made on the hot path.
 */

const twoTo32 = 0x1_0000_0000;
const u64HighMax = 0x1f_ffff; // the high half of Number.MAX_SAFE_INTEGER

/*
 * Both cursors do their own byte arithmetic instead of using a DataView: creating a DataView per
 * command cost about 0.4 µs here, as much as the rest of decoding a small put.
 */

/**
 * Writes into a buffer whose exact size the caller computed first: the sizing and writing functions
 * are kept side by side, and `finish` asserts they agree (a mismatch is a bug, not bad input).
 */
export class Writer {
  readonly #bytes: Uint8Array;
  #at = 0;

  constructor(size: number) {
    this.#bytes = new Uint8Array(size);
  }

  get offset(): number {
    return this.#at;
  }

  /** The bytes written so far; for a trailing checksum over them. */
  written(): Uint8Array {
    return this.#bytes.subarray(0, this.#at);
  }

  u8(n: number): void {
    this.#room(1);
    this.#bytes[this.#at++] = n;
  }

  u16(n: number): void {
    this.#room(2);
    const b = this.#bytes;
    b[this.#at++] = n;
    b[this.#at++] = n >>> 8;
  }

  u32(n: number): void {
    this.#room(4);
    const b = this.#bytes;
    b[this.#at++] = n;
    b[this.#at++] = n >>> 8;
    b[this.#at++] = n >>> 16;
    b[this.#at++] = n >>> 24;
  }

  u64(n: number): void {
    assert(Number.isSafeInteger(n) && n >= 0, `u64 field: ${n} is not a non-negative safe integer`);
    this.u32(n >>> 0);
    this.u32(Math.floor(n / twoTo32));
  }

  raw(bytes: Uint8Array): void {
    this.#room(bytes.length);
    this.#bytes.set(bytes, this.#at);
    this.#at += bytes.length;
  }

  /** The bytes of a binary string (see binaryString). */
  binary(text: string): void {
    this.#room(text.length);
    const b = this.#bytes;
    let at = this.#at;
    for (let i = 0; i < text.length; i++) b[at++] = text.charCodeAt(i);
    this.#at = at;
  }

  /** A u16 length, then the bytes. */
  bytes16(bytes: Uint8Array): void {
    this.u16(bytes.length);
    this.raw(bytes);
  }

  /** A u32 length, then the bytes. */
  bytes32(bytes: Uint8Array): void {
    this.u32(bytes.length);
    this.raw(bytes);
  }

  finish(): Uint8Array {
    assert(this.#at === this.#bytes.length, `encoder sized ${this.#bytes.length} bytes but wrote ${this.#at}`);
    return this.#bytes;
  }

  /** A typed array silently drops writes past its end, so overrunning the size is asserted. */
  #room(length: number): void {
    assert(this.#at + length <= this.#bytes.length, `encoder sized ${this.#bytes.length} bytes, overran it`);
  }
}

/**
 * Reads from untrusted bytes: every read is bounds-checked and answers undefined when the input ends
 * early (or a u64 exceeds Number.MAX_SAFE_INTEGER), so a decoder never throws and never reads outside
 * `bytes`. Byte strings are views into the input, not copies.
 */
export class Reader {
  readonly #bytes: Uint8Array;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get offset(): number {
    return this.#at;
  }

  get remaining(): number {
    return this.#bytes.length - this.#at;
  }

  u8(): number | undefined {
    if (this.remaining < 1) return undefined;
    return this.#bytes[this.#at++]!;
  }

  u16(): number | undefined {
    if (this.remaining < 2) return undefined;
    const b = this.#bytes;
    const n = b[this.#at]! | (b[this.#at + 1]! << 8);
    this.#at += 2;
    return n;
  }

  u32(): number | undefined {
    if (this.remaining < 4) return undefined;
    const n = u32At(this.#bytes, this.#at);
    this.#at += 4;
    return n;
  }

  u64(): number | undefined {
    if (this.remaining < 8) return undefined;
    const high = u32At(this.#bytes, this.#at + 4);
    if (high > u64HighMax) return undefined;
    const n = high * twoTo32 + u32At(this.#bytes, this.#at);
    this.#at += 8;
    return n;
  }

  raw(length: number): Uint8Array | undefined {
    if (this.remaining < length) return undefined;
    const bytes = this.#bytes.subarray(this.#at, this.#at + length);
    this.#at += length;
    return bytes;
  }

  /** A u16 length, then that many bytes. */
  bytes16(): Uint8Array | undefined {
    const length = this.u16();
    return length === undefined ? undefined : this.raw(length);
  }

  /** A u32 length, then that many bytes. */
  bytes32(): Uint8Array | undefined {
    const length = this.u32();
    return length === undefined ? undefined : this.raw(length);
  }
}

/** The little-endian u32 at `at` (the caller checked the four bytes are there). */
function u32At(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x100_0000;
}

/** Bytes a u16-length-prefixed byte string takes. */
export const bytes16Size = (bytes: Uint8Array): number => 2 + bytes.length;
/** Bytes a u32-length-prefixed byte string takes. */
export const bytes32Size = (bytes: Uint8Array): number => 4 + bytes.length;

const fromCharCodeChunk = 8192;

/**
 * The key as a "binary string", one UTF-16 code unit per byte (0 to 255). JavaScript compares strings
 * by code unit, so these sort exactly as the bytes do (lexicographically, a prefix first), and they
 * serve as Map keys and as the sorted index's entries with the engine's native comparison.
 */
export function binaryString(bytes: Uint8Array): string {
  if (bytes.length <= fromCharCodeChunk) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let s = "";
  for (let at = 0; at < bytes.length; at += fromCharCodeChunk) {
    s += String.fromCharCode.apply(null, bytes.subarray(at, at + fromCharCodeChunk) as unknown as number[]);
  }
  return s;
}

/** The bytes of a binary string: the inverse of binaryString. */
export function binaryBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Visible ASCII only (0x21 to 0x7E), so the string and its bytes correspond one to one. */
export function isVisibleAscii(bytes: Uint8Array): boolean {
  for (const b of bytes) if (b < 0x21 || b > 0x7e) return false;
  return true;
}

/** The bytes of a visible-ASCII string, or undefined if it has any other character. */
export function asciiBytes(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return undefined;
    bytes[i] = c;
  }
  return bytes;
}

/** The string of visible-ASCII bytes (the caller checked them with `isVisibleAscii`). */
export function asciiString(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}
