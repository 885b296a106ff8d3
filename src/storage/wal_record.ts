import { Buffer } from "node:buffer";
import { crc32c } from "../util/crc32c.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import type { SnapshotMarker, StoredEntry, StoredHardState } from "./types.js";
import { getU64, setU64 } from "./u64.js";

/*
 * On-disk format, little-endian. A record is {u32 length, u32 crc32c over type+payload, u8 type,
 * payload}. Each write+fdatasync appends exactly one record, so recovery can tell a torn write from
 * corruption: only the last record can be torn, and a bad record followed by a good one means bytes
 * that had been made durable went bad. The payload is a list of items {u8 kind, u32 length, body}:
 *   entries    u64 firstIndex, u32 count, count × {u64 term, u8 kind, u32 length, data}
 *   hardState  u64 term, u64 vote, u64 commit
 *   snapshot   u64 index, u64 term, u8 logKept
 * `logKept` records the outcome of Raft's snapshot rule at write time (the log matched the snapshot
 * and entries after it stay, or it did not and the whole log went), so replay does not need entries
 * that compaction has since deleted.
 */

export const recordHeaderBytes = 9;
const recordTypeBatch = 1;
const itemHeaderBytes = 5;
const entryHeaderBytes = 13;
const hardStateBytes = 24;
const snapshotBytes = 17;
const kindCodes = { entries: 1, hardState: 2, snapshot: 3 } as const;
/** The largest payload a u32 length can describe. */
export const recordPayloadBytesMax = 0xffff_ffff;

export type WalItem =
  | { readonly type: "entries"; readonly entries: readonly StoredEntry[] }
  | { readonly type: "hardState"; readonly hardState: StoredHardState }
  | { readonly type: "snapshot"; readonly snapshot: SnapshotMarker; readonly logKept: boolean };

/**
 * A record being filled: the header is reserved up front and items are encoded straight into the
 * buffer, so a group commit costs one allocation and no copy of the payload.
 */
export interface RecordBuffer {
  bytes: Uint8Array;
  /** Bytes in use, header included. */
  length: number;
}

const recordBufferBytesMin = 4096;

export function recordBuffer(payloadBytes: number): RecordBuffer {
  // Unzeroed memory is safe here: only bytes[0, length) is ever written out, and all of it is set.
  return {
    bytes: Buffer.allocUnsafe(recordHeaderBytes + Math.max(payloadBytes, recordBufferBytesMin)),
    length: recordHeaderBytes,
  };
}

/** The payload bytes `items` will take. */
export function itemsBytes(items: readonly WalItem[]): number {
  let size = 0;
  for (const item of items) size += itemHeaderBytes + bodyBytes(item);
  return size;
}

export function appendItems(record: RecordBuffer, items: readonly WalItem[]): void {
  const needed = record.length + itemsBytes(items);
  if (needed > record.bytes.length) {
    const grown = Buffer.allocUnsafe(Math.max(needed, 2 * record.bytes.length));
    grown.set(record.bytes.subarray(0, record.length));
    record.bytes = grown;
  }
  const bytes = record.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = record.length;
  for (const item of items) {
    const body = bodyBytes(item);
    view.setUint8(at, kindCodes[item.type]);
    view.setUint32(at + 1, body, true);
    at += itemHeaderBytes;
    writeBody(view, bytes, at, item);
    at += body;
  }
  record.length = at;
}

function bodyBytes(item: WalItem): number {
  switch (item.type) {
    case "entries": {
      let size = 12;
      for (const entry of item.entries) size += entryHeaderBytes + entry.data.length;
      return size;
    }
    case "hardState":
      return hardStateBytes;
    case "snapshot":
      return snapshotBytes;
  }
}

function writeBody(view: DataView, bytes: Uint8Array, at: number, item: WalItem): void {
  switch (item.type) {
    case "entries": {
      setU64(view, at, item.entries[0]?.index ?? 0);
      view.setUint32(at + 8, item.entries.length, true);
      at += 12;
      for (const entry of item.entries) {
        setU64(view, at, entry.term);
        view.setUint8(at + 8, entry.kind === "config" ? 1 : 0);
        view.setUint32(at + 9, entry.data.length, true);
        bytes.set(entry.data, at + entryHeaderBytes);
        at += entryHeaderBytes + entry.data.length;
      }
      return;
    }
    case "hardState":
      setU64(view, at, item.hardState.term);
      setU64(view, at + 8, item.hardState.vote);
      setU64(view, at + 16, item.hardState.commit);
      return;
    case "snapshot":
      setU64(view, at, item.snapshot.index);
      setU64(view, at + 8, item.snapshot.term);
      view.setUint8(at + 16, item.logKept ? 1 : 0);
      return;
  }
}

/** Fills in the header (length, checksum) and returns the record's bytes, ready to write. */
export function sealRecord(record: RecordBuffer): Uint8Array {
  const bytes = record.bytes.subarray(0, record.length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(0, record.length - recordHeaderBytes, true);
  bytes[8] = recordTypeBatch;
  view.setUint32(4, crc32c(bytes, { start: 8 }), true);
  return bytes;
}

/**
 * The record at `offset`: `invalid` when its bytes fail the framing or the checksum (torn or
 * corrupt: only the caller knows which, by where it is), `malformed` when the checksum holds but the
 * content cannot have been written by `appendItems` (always corruption, or a bug).
 */
type RecordRead =
  | { readonly type: "record"; readonly items: WalItem[]; readonly end: number }
  | { readonly type: "invalid"; readonly why: string }
  | { readonly type: "malformed"; readonly why: string };

export function readRecord(bytes: Uint8Array, offset: number): RecordRead {
  const end = recordEnd(bytes, offset);
  if (end < 0) return { type: "invalid", why: whyInvalid(bytes, offset, end) };
  const items = decodeItems(bytes, offset + recordHeaderBytes, end);
  if (typeof items === "string") return { type: "malformed", why: items };
  return { type: "record", items, end };
}

/**
 * Where the first whole, checksummed record at or after `from` starts, or -1. Used to look past a
 * bad record; only offsets whose type byte matches are examined, found with a native indexOf, so
 * even a large zero-filled tail is scanned quickly.
 */
export function findRecord(bytes: Uint8Array, from: number): number {
  for (
    let typeAt = bytes.indexOf(recordTypeBatch, from + 8);
    typeAt !== -1;
    typeAt = bytes.indexOf(recordTypeBatch, typeAt + 1)
  ) {
    if (recordEnd(bytes, typeAt - 8) >= 0) return typeAt - 8;
  }
  return -1;
}

const partialHeader = -1;
const pastEnd = -2;
const unknownType = -3;
const itemsMisfit = -4;
const checksumMismatch = -5;

/**
 * The end of the record at `offset`, or a negative code for why there is none. No strings and no
 * allocation: looking past a torn tail probes many offsets.
 */
function recordEnd(bytes: Uint8Array, offset: number): number {
  if (bytes.length - offset < recordHeaderBytes) return partialHeader;
  const end = offset + recordHeaderBytes + u32At(bytes, offset);
  if (end > bytes.length) return pastEnd;
  if (bytes[offset + 8] !== recordTypeBatch) return unknownType;
  // Walking the item headers first is cheap and rejects garbage before the checksum pass.
  if (!itemsFit(bytes, offset + recordHeaderBytes, end)) return itemsMisfit;
  if (crc32c(bytes, { start: offset + 8, end }) !== u32At(bytes, offset + 4)) return checksumMismatch;
  return end;
}

function whyInvalid(bytes: Uint8Array, offset: number, code: number): string {
  switch (code) {
    case partialHeader:
      return `partial record header (${bytes.length - offset} of ${recordHeaderBytes} bytes)`;
    case pastEnd:
      return `record of ${u32At(bytes, offset)} bytes runs past the end of the file`;
    case unknownType:
      return `unknown record type ${bytes[offset + 8]}`;
    case itemsMisfit:
      return "record items do not fit its length";
    default:
      return "checksum mismatch";
  }
}

function itemsFit(bytes: Uint8Array, start: number, end: number): boolean {
  let at = start;
  while (at < end) {
    if (end - at < itemHeaderBytes) return false;
    const kind = bytes[at]!;
    if (kind < kindCodes.entries || kind > kindCodes.snapshot) return false;
    at += itemHeaderBytes + u32At(bytes, at + 1);
  }
  return at === end;
}

function u32At(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

function decodeItems(bytes: Uint8Array, start: number, end: number): WalItem[] | string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const items: WalItem[] = [];
  for (let at = start; at < end;) {
    const kind = view.getUint8(at);
    const bodyEnd = at + itemHeaderBytes + view.getUint32(at + 1, true);
    const item = decodeBody(view, bytes, { kind, start: at + itemHeaderBytes, end: bodyEnd });
    if (typeof item === "string") return `item at byte ${at}: ${item}`;
    items.push(item);
    at = bodyEnd;
  }
  return items;
}

function decodeBody(
  view: DataView,
  bytes: Uint8Array,
  body: { readonly kind: number; readonly start: number; readonly end: number },
): WalItem | string {
  const { start, end } = body;
  const size = end - start;
  switch (body.kind) {
    case kindCodes.entries:
      return decodeEntries(view, bytes, start, end);
    case kindCodes.hardState: {
      if (size !== hardStateBytes) return `hard state of ${size} bytes`;
      const [t, vote, commit] = [getU64(view, start), getU64(view, start + 8), getU64(view, start + 16)];
      if (t === undefined || vote === undefined || commit === undefined) return "hard state number out of range";
      return { type: "hardState", hardState: { term: term(t), vote: nodeId(vote), commit: logIndex(commit) } };
    }
    case kindCodes.snapshot: {
      if (size !== snapshotBytes) return `snapshot marker of ${size} bytes`;
      const [index, t, logKept] = [getU64(view, start), getU64(view, start + 8), view.getUint8(start + 16)];
      if (index === undefined || t === undefined || logKept > 1) return "snapshot marker out of range";
      return { type: "snapshot", snapshot: { index: logIndex(index), term: term(t) }, logKept: logKept === 1 };
    }
    default:
      return `unknown item kind ${body.kind}`;
  }
}

function decodeEntries(view: DataView, bytes: Uint8Array, start: number, end: number): WalItem | string {
  if (end - start < 12) return "entries header cut short";
  const first = getU64(view, start);
  const count = view.getUint32(start + 8, true);
  if (first === undefined || first < 1 || count < 1) return "entries with no first index or no entries";
  const entries: StoredEntry[] = [];
  let at = start + 12;
  for (let k = 0; k < count; k++) {
    if (end - at < entryHeaderBytes) return `entry ${first + k} cut short`;
    const t = getU64(view, at);
    const kind = view.getUint8(at + 8);
    const dataEnd = at + entryHeaderBytes + view.getUint32(at + 9, true);
    if (t === undefined || kind > 1 || dataEnd > end) return `entry ${first + k} out of range`;
    // A copy, so that holding one entry does not pin the whole segment's buffer in memory.
    const data = new Uint8Array(bytes.subarray(at + entryHeaderBytes, dataEnd));
    entries.push({ index: logIndex(first + k), term: term(t), kind: kind === 1 ? "config" : "normal", data });
    at = dataEnd;
  }
  if (at !== end) return `${end - at} bytes after the last entry`;
  return { type: "entries", entries };
}
