import { findRecord, readRecord, recordHeaderBytes } from "../storage/wal_record.js";
import type { SimDisk } from "./disk/sim_disk.js";

/**
 * Flips a bit in the payload of the first record of the oldest WAL segment, when a whole, valid
 * record follows it in that file's durable bytes: corruption the WAL must refuse to start from. (A
 * flip in a record nothing valid follows reads as a torn write, which recovery may rightly drop, so
 * it is not a fault the WAL can be held to: a later record's header alone, its payload torn, is not
 * enough.) Returns where it flipped, or undefined when no such record is durable yet.
 */
export function corruptOldestRecord(disk: SimDisk, walDir: string): string | undefined {
  const segment = disk.names(walDir).find((name) => name.endsWith(".wal"));
  if (segment === undefined) return undefined;
  const path = `${walDir}/${segment}`;
  const bytes = disk.fileBytes(path, "durable");
  if (bytes === undefined) return undefined;
  const first = readRecord(bytes, 0);
  if (first.type !== "record" || first.end === recordHeaderBytes || findRecord(bytes, first.end) < 0) return undefined;
  const payloadBytes = first.end - recordHeaderBytes;
  const { offset, bit } = disk.flipBit(path, recordHeaderBytes + Math.floor(payloadBytes / 2));
  return `${path} byte ${offset} bit ${bit}`;
}
