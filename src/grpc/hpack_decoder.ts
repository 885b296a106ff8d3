/**
 * An HPACK decoder (RFC 7541) for one direction of one HTTP/2 connection: the static table, the
 * dynamic table with its size updates, integer and string literals, Huffman strings. Header names
 * and values are latin1 strings, one char per byte, so they re-encode to the very bytes received.
 */
import { HpackError, huffmanDecode } from "./hpack_huffman.js";

export interface HeaderField {
  readonly name: string;
  readonly value: string;
  /** Sent as "never indexed" (RFC 7541 6.2.3): an intermediary must keep it so. */
  readonly neverIndexed: boolean;
}

// prettier-ignore
const staticTable: readonly (readonly [string, string])[] = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""], ["etag", ""],
  ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""],
  ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""], ["last-modified", ""], ["link", ""],
  ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""], ["proxy-authorization", ""], ["range", ""],
  ["referer", ""], ["refresh", ""], ["retry-after", ""], ["server", ""], ["set-cookie", ""],
  ["strict-transport-security", ""], ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""],
  ["www-authenticate", ""],
];

/** RFC 7541 4.1: an entry's size is its name and value lengths plus 32. */
const entryOverhead = 32;

/** Bounds what one block may decode to: indexed references to big entries would otherwise multiply a small block. */
const decodedBytesMax = 256 * 1024;

export class HpackDecoder {
  /** Newest last. */
  private readonly entries: [string, string][] = [];
  private tableBytes = 0;
  private tableBytesMax: number;

  /** `settingsTableBytes`: the SETTINGS_HEADER_TABLE_SIZE the decoding side advertised (4096 unless it said otherwise). */
  constructor(private readonly settingsTableBytes = 4096) {
    this.tableBytesMax = settingsTableBytes;
  }

  /** The fields of one complete header block, in order; throws HpackError on a malformed one. */
  decode(block: Uint8Array): HeaderField[] {
    const fields: HeaderField[] = [];
    const cursor = { at: 0 };
    let decodedBytes = 0;
    while (cursor.at < block.length) {
      const first = block[cursor.at]!;
      let field: HeaderField;
      if (first & 0x80) {
        const [name, value] = this.lookup(readInteger(block, cursor, 7));
        field = { name, value, neverIndexed: false };
      } else if (first & 0x40) {
        field = this.readLiteral(block, cursor, 6, false);
        this.insert(field.name, field.value);
      } else if (first & 0x20) {
        // RFC 7541 4.2: size updates come at the beginning of a block.
        if (fields.length > 0) throw new HpackError("dynamic table size update after a header field");
        const size = readInteger(block, cursor, 5);
        if (size > this.settingsTableBytes) throw new HpackError(`dynamic table size ${size} above the limit`);
        this.tableBytesMax = size;
        this.evictTo(size);
        continue;
      } else {
        field = this.readLiteral(block, cursor, 4, (first & 0x10) !== 0);
      }
      decodedBytes += field.name.length + field.value.length + entryOverhead;
      if (decodedBytes > decodedBytesMax) throw new HpackError("header list too large");
      fields.push(field);
    }
    return fields;
  }

  private readLiteral(
    block: Uint8Array,
    cursor: { at: number },
    prefixBits: number,
    neverIndexed: boolean,
  ): HeaderField {
    const index = readInteger(block, cursor, prefixBits);
    const name = index === 0 ? readString(block, cursor) : this.lookup(index)[0];
    return { name, value: readString(block, cursor), neverIndexed };
  }

  private lookup(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError("header index 0");
    if (index <= staticTable.length) return staticTable[index - 1]!;
    const entry = this.entries[this.entries.length - 1 - (index - staticTable.length - 1)];
    if (entry === undefined) throw new HpackError(`header index ${index} beyond the dynamic table`);
    return entry;
  }

  private insert(name: string, value: string): void {
    const size = name.length + value.length + entryOverhead;
    // RFC 7541 4.4: an entry larger than the table empties it and is not added.
    this.evictTo(this.tableBytesMax - size);
    if (size > this.tableBytesMax) return;
    this.entries.push([name, value]);
    this.tableBytes += size;
  }

  private evictTo(bytes: number): void {
    let evicted = 0;
    while (this.tableBytes > Math.max(0, bytes) && evicted < this.entries.length) {
      const [name, value] = this.entries[evicted++]!;
      this.tableBytes -= name.length + value.length + entryOverhead;
    }
    if (evicted > 0) this.entries.splice(0, evicted);
  }
}

/** RFC 7541 5.1, bounded: no header block needs an integer near 2^28. */
function readInteger(block: Uint8Array, cursor: { at: number }, prefixBits: number): number {
  const prefixMax = (1 << prefixBits) - 1;
  let value = block[cursor.at++]! & prefixMax;
  if (value < prefixMax) return value;
  for (let shift = 0; ; shift += 7) {
    if (shift > 21) throw new HpackError("integer too large");
    const byte = block[cursor.at++];
    if (byte === undefined) throw new HpackError("truncated integer");
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return value;
  }
}

function readString(block: Uint8Array, cursor: { at: number }): string {
  if (cursor.at >= block.length) throw new HpackError("truncated string");
  const huffman = (block[cursor.at]! & 0x80) !== 0;
  const length = readInteger(block, cursor, 7);
  const start = cursor.at;
  const end = start + length;
  if (end > block.length) throw new HpackError("string beyond the block");
  cursor.at = end;
  return huffman
    ? huffmanDecode(block, start, end)
    : Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString("latin1", start, end);
}
