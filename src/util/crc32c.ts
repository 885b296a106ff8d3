/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of WAL records, snapshots and
 * frames. Chosen over CRC32 for its better error detection on storage-sized blocks (iSCSI, ext4, etcd
 * use it). Slicing-by-8 over 32-bit DataView reads in signed int32 arithmetic: about 3× the speed of
 * byte-wise indexing in V8, which matters because every WAL write checksums its whole record.
 */
const POLYNOMIAL = 0x82f63b78;
const TABLES = makeTables();

function makeTables(): Int32Array {
  const tables = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    tables[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n]!;
    for (let t = 1; t < 8; t++) {
      c = tables[c & 0xff]! ^ (c >>> 8);
      tables[t * 256 + n] = c;
    }
  }
  return tables;
}

/**
 * The CRC32C of `bytes[start, end)` (the whole array by default). With `continueFrom`, the CRC of the
 * bytes that gave that CRC followed by these: a long buffer can be checksummed a piece at a time.
 */
export function crc32c(
  bytes: Uint8Array,
  range: { readonly start?: number; readonly end?: number; readonly continueFrom?: number } = {},
): number {
  const t = TABLES;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = range.end ?? bytes.length;
  let i = range.start ?? 0;
  let c = range.continueFrom === undefined ? -1 : ~range.continueFrom;
  for (; i + 8 <= end; i += 8) {
    c ^= view.getInt32(i, true);
    const d = view.getInt32(i + 4, true);
    c =
      t[1792 + (c & 0xff)]! ^
      t[1536 + ((c >>> 8) & 0xff)]! ^
      t[1280 + ((c >>> 16) & 0xff)]! ^
      t[1024 + (c >>> 24)]! ^
      t[768 + (d & 0xff)]! ^
      t[512 + ((d >>> 8) & 0xff)]! ^
      t[256 + ((d >>> 16) & 0xff)]! ^
      t[d >>> 24]!;
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
