/**
 * HPACK's static Huffman code (RFC 7541 Appendix B), decoding only: a header block we rewrite is
 * re-encoded without Huffman, so nothing here encodes.
 *
 * The RFC's code is canonical: each symbol's code follows from the code lengths alone (symbols
 * ordered by length, then by value, take consecutive codes), so only the lengths are written out
 * here, from the RFC's table; hpack_huffman.test.ts holds the derived codes to the RFC's own rows.
 */

/** A header block the decoder refuses: the connection is a protocol error. */
export class HpackError extends Error {}

/** Code length in bits of each symbol: bytes 0–255, then 256 = EOS. */
// prettier-ignore
const codeLengths: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0–15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16–31
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // 32–47
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // 48–63
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // 64–79
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 80–95
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // 96–111
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 112–127
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128–143
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144–159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160–175
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176–191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192–207
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208–223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224–239
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240–255
  30, // 256: EOS
];

const eos = 256;

/** The canonical code of each symbol, right-aligned in its length (as the RFC prints it). */
export function huffmanCodes(): { code: number; bits: number }[] {
  const bySymbol = codeLengths.map((bits) => ({ code: 0, bits }));
  const order = [...codeLengths.keys()].sort((a, b) => codeLengths[a]! - codeLengths[b]! || a - b);
  let code = -1;
  let previousBits = 0;
  for (const symbol of order) {
    const bits = codeLengths[symbol]!;
    code = (code + 1) * 2 ** (bits - previousBits);
    previousBits = bits;
    bySymbol[symbol]!.code = code;
  }
  return bySymbol;
}

/**
 * The decoding tree, flat: entry `2 * node + bit` is the next internal node (> 0), or a leaf
 * `-(symbol + 1)`. Node 0 is the root; 257 leaves need 256 internal nodes.
 */
const tree = buildTree();

function buildTree(): Int32Array {
  const children = new Int32Array(2 * 256);
  let nodes = 1;
  huffmanCodes().forEach(({ code, bits }, symbol) => {
    let node = 0;
    for (let bit = bits - 1; bit > 0; bit--) {
      const slot = 2 * node + (Math.floor(code / 2 ** bit) & 1);
      if (children[slot] === 0) children[slot] = nodes++;
      node = children[slot]!;
    }
    children[2 * node + (code & 1)] = -(symbol + 1);
  });
  return children;
}

/** The bytes `bytes[start, end)` encode, as a latin1 string (one char per byte). */
export function huffmanDecode(bytes: Uint8Array, start: number, end: number): string {
  // The shortest code is 5 bits.
  const out = Buffer.allocUnsafe(Math.ceil(((end - start) * 8) / 5));
  let length = 0;
  let node = 0;
  let pendingBits = 0;
  let pendingAllOnes = true;
  for (let i = start; i < end; i++) {
    const byte = bytes[i]!;
    for (let shift = 7; shift >= 0; shift--) {
      const bit = (byte >> shift) & 1;
      const next = tree[2 * node + bit]!;
      pendingBits++;
      pendingAllOnes &&= bit === 1;
      if (next > 0) {
        node = next;
        continue;
      }
      const symbol = -next - 1;
      if (symbol === eos) throw new HpackError("Huffman string contains EOS");
      out[length++] = symbol;
      node = 0;
      pendingBits = 0;
      pendingAllOnes = true;
    }
  }
  // RFC 7541 5.2: the padding is the EOS code's most significant bits, at most 7 of them.
  if (pendingBits > 7) throw new HpackError("Huffman padding longer than 7 bits");
  if (!pendingAllOnes) throw new HpackError("Huffman padding is not a prefix of EOS");
  return out.toString("latin1", 0, length);
}
