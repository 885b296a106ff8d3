import type { SimDisk } from "./disk/sim_disk.js";

/**
 * Flips a bit in the payload of the first record of the oldest WAL segment, when a later record
 * follows it in that file's durable bytes: corruption the WAL must refuse to start from. (A flip in
 * the last record reads as a torn write, which recovery may rightly drop, so it is not a fault the
 * WAL can be held to.) Returns where it flipped, or undefined when no such record is durable yet.
 */
export function corruptOldestRecord(disk: SimDisk, walDir: string): string | undefined {
  const segment = disk.names(walDir).find((name) => name.endsWith(".wal"));
  if (segment === undefined) return undefined;
  const path = `${walDir}/${segment}`;
  const bytes = disk.fileBytes(path, "durable");
  if (bytes === undefined || bytes.length < recordHeaderBytes) return undefined;
  const payloadBytes = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const end = recordHeaderBytes + payloadBytes;
  if (payloadBytes === 0 || end + recordHeaderBytes > bytes.length) return undefined;
  const { offset, bit } = disk.flipBit(path, recordHeaderBytes + Math.floor(payloadBytes / 2));
  return `${path} byte ${offset} bit ${bit}`;
}

/** {u32 length, u32 crc32c, u8 type}: see storage/wal_record.ts. */
const recordHeaderBytes = 9;
