/** Percent-encoding of raw bytes in URLs (RFC 3986), shared by the client and the server. */
const encoder = new TextEncoder();

/** RFC 3986 unreserved bytes: A-Z a-z 0-9 - . _ ~ */
function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x5f ||
    byte === 0x7e
  );
}

const hex = "0123456789ABCDEF";

/** Percent-encodes raw bytes for a path segment or a query value ("/" becomes %2F). */
export function percentEncode(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let out = "";
  for (const byte of bytes) {
    out += isUnreserved(byte) ? String.fromCharCode(byte) : `%${hex.charAt(byte >> 4)}${hex.charAt(byte & 15)}`;
  }
  return out;
}

/** The inverse of {@link percentEncode}, to bytes; undefined on a malformed escape. */
export function percentDecode(text: string): Uint8Array | undefined {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25) {
      const pair = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(pair)) return undefined;
      out.push(Number.parseInt(pair, 16));
      i += 2;
    } else if (code < 0x80) {
      out.push(code);
    } else {
      out.push(...encoder.encode(text[i] ?? ""));
    }
  }
  return Uint8Array.from(out);
}
