import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32c } from "./crc32c.js";
import { Prng } from "./prng.js";

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Bit-at-a-time reference: slow and obviously right, to check the sliced tables against. */
function crc32cReference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

test("crc32c matches the published check values", () => {
  assert.equal(crc32c(ascii("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // RFC 3720 (iSCSI) appendix B.4 vectors.
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

test("crc32c agrees with a bitwise reference on random lengths and offsets", () => {
  const prng = new Prng(7);
  for (let round = 0; round < 200; round++) {
    const bytes = Uint8Array.from({ length: prng.int(0, 100) }, () => prng.int(0, 256));
    const start = prng.int(0, bytes.length + 1);
    const end = prng.int(start, bytes.length + 1);
    assert.equal(crc32c(bytes, { start, end }), crc32cReference(bytes.subarray(start, end)));
  }
});

test("crc32c continued piece by piece equals the CRC of the whole", () => {
  const prng = new Prng(8);
  for (let round = 0; round < 100; round++) {
    const bytes = Uint8Array.from({ length: prng.int(0, 200) }, () => prng.int(0, 256));
    let crc = crc32c(bytes, { end: 0 });
    for (let at = 0; at < bytes.length;) {
      const end = Math.min(bytes.length, at + prng.int(1, 40));
      crc = crc32c(bytes, { start: at, end, continueFrom: crc });
      at = end;
    }
    assert.equal(crc, crc32cReference(bytes));
  }
});
