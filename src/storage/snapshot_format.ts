import { crc32c } from "../util/crc32c.js";
import { setU64 } from "./u64.js";

/*
 * A snapshot file, little-endian: u32 magic "RKSN", u32 crc32c over the rest of the file, u64 index,
 * u64 term, u32 config length, config bytes, then the state machine's data to the end of the file.
 * Named `<index>-<term>.snap` (16 hex digits each) so a listing shows which is newest; written as
 * `<name>.tmp` until it is durable.
 */
export const magic = 0x4e534b52;
export const headerBytes = 28;
export const tempSuffix = ".tmp";

export function fileName(index: number, t: number): string {
  return `${index.toString(16).padStart(16, "0")}-${t.toString(16).padStart(16, "0")}.snap`;
}

/** Data checksummed per turn of the event loop: a large snapshot must not stall the node. */
export const checksumStepBytes = 4 << 20;

/**
 * The file's header and config, its checksum field still zero, and the checksum of its bytes after
 * that field: the data's checksum continues from it.
 */
export function encodeHead(snapshot: { index: number; term: number; config: Uint8Array }): {
  head: Uint8Array;
  crc: number;
} {
  const head = new Uint8Array(headerBytes + snapshot.config.length);
  const view = new DataView(head.buffer);
  view.setUint32(0, magic, true);
  setU64(view, 8, snapshot.index);
  setU64(view, 16, snapshot.term);
  view.setUint32(24, snapshot.config.length, true);
  head.set(snapshot.config, headerBytes);
  return { head, crc: crc32c(head, { start: 8 }) };
}
