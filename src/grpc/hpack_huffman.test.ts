import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HpackError, huffmanCodes, huffmanDecode } from "./hpack_huffman.js";

/** The test's own encoder, from the same codes: RFC 7541 5.2, padded with EOS's leading 1 bits. */
function encode(bytes: Uint8Array): Buffer {
  const codes = huffmanCodes();
  let bits = "";
  for (const byte of bytes) bits += codes[byte]!.code.toString(2).padStart(codes[byte]!.bits, "0");
  bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, "1");
  const out = Buffer.alloc(bits.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(bits.slice(8 * i, 8 * i + 8), 2);
  return out;
}

const decode = (bytes: Uint8Array): string => huffmanDecode(bytes, 0, bytes.length);

describe("HPACK Huffman code (RFC 7541 Appendix B)", () => {
  it("derives the RFC's codes from the code lengths", () => {
    // Rows of the RFC's table: symbol, code (hex, right-aligned), length in bits.
    // prettier-ignore
    const rows: [number, number, number][] = [
      [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [2, 0xfffffe2, 28], [9, 0xffffea, 24], [10, 0x3ffffffc, 30],
      [13, 0x3ffffffd, 30], [22, 0x3ffffffe, 30], [31, 0xffffffb, 28], [32, 0x14, 6], [33, 0x3f8, 10],
      [47, 0x18, 6], [48, 0x0, 5], [58, 0x5c, 7], [60, 0x7ffc, 15], [92, 0x7fff0, 19], [97, 0x3, 5],
      [122, 0x7b, 7], [126, 0x1ffd, 13], [127, 0xffffffc, 28], [128, 0xfffe6, 20], [153, 0x1fffdc, 21],
      [192, 0x3ffffe0, 26], [199, 0x1ffffec, 25], [203, 0x7ffffde, 27], [220, 0xffffffd, 28],
      [249, 0xffffffe, 28], [254, 0x7fffff0, 27], [255, 0x3ffffee, 26], [256, 0x3fffffff, 30],
    ];
    const codes = huffmanCodes();
    assert.equal(codes.length, 257);
    for (const [symbol, code, bits] of rows) assert.deepEqual(codes[symbol], { code, bits }, `symbol ${symbol}`);
    // A complete prefix code: Kraft's sum is exactly 1.
    assert.equal(
      codes.reduce((sum, { bits }) => sum + 2 ** -bits, 0),
      1,
    );
  });

  it("decodes the RFC's examples (C.4, C.6)", () => {
    const hex = (s: string): Buffer => Buffer.from(s.replaceAll(" ", ""), "hex");
    assert.equal(decode(hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff")), "www.example.com");
    assert.equal(decode(hex("a8eb 1064 9cbf")), "no-cache");
    assert.equal(decode(hex("25a8 49e9 5ba9 7d7f")), "custom-key");
    assert.equal(decode(hex("25a8 49e9 5bb8 e8b4 bf")), "custom-value");
    assert.equal(decode(hex("6402")), "302");
    assert.equal(decode(hex("aec3 771a 4b")), "private");
    assert.equal(decode(hex("9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3")), "https://www.example.com");
  });

  it("decodes every byte value 0–255, alone and all in one string", () => {
    for (let byte = 0; byte < 256; byte++) {
      assert.equal(decode(encode(Uint8Array.of(byte))), String.fromCharCode(byte), `byte ${byte}`);
    }
    const all = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
    assert.equal(decode(encode(all)), Buffer.from(all).toString("latin1"));
    assert.equal(decode(new Uint8Array(0)), "");
  });

  it("refuses EOS in the string, padding longer than 7 bits and padding that is not all ones", () => {
    // EOS (30 ones) then 2 padding ones.
    assert.throws(() => decode(Buffer.from("ffffffff", "hex")), HpackError);
    // 'a' (00011) then a whole byte of ones: 11 bits of padding.
    assert.throws(() => decode(Buffer.from("1fff", "hex")), HpackError);
    // 'a' (00011) then 3 padding bits 000.
    assert.throws(() => decode(Buffer.from("18", "hex")), HpackError);
    assert.equal(decode(Buffer.from("1f", "hex")), "a");
  });
});
