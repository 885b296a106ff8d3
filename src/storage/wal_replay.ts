import { join } from "node:path";
import { NO_NODE } from "../util/ids.js";
import type { Disk } from "./disk.js";
import type { StorageResult } from "./errors.js";
import { corrupt, diskError, failed } from "./errors.js";
import type { WalItem } from "./wal_record.js";
import { findRecord, readRecord } from "./wal_record.js";
import type { SegmentName } from "./wal_segment.js";
import type { SnapshotMarker, StoredEntry, StoredHardState } from "./types.js";

/**
 * A segment as recovery found it. `maxIndex` is the highest index any of its records names, a
 * snapshot marker counting as one past its index (see `markerMaxIndex`).
 */
export interface ReplayedSegment {
  readonly segment: SegmentName;
  readonly validBytes: number;
  readonly maxIndex: number;
}

/** A crash mid-write left a partial or bad last record; recovery cuts the file back to `offset`. */
export interface TornTail {
  readonly file: string;
  readonly offset: number;
  readonly bytesDropped: number;
  readonly why: string;
}

export interface Replayed {
  readonly hardState: StoredHardState | undefined;
  /** The log after the snapshot: consecutive, starting at snapshot.index + 1 (or 1). */
  readonly entries: StoredEntry[];
  readonly snapshot: SnapshotMarker | undefined;
  readonly segments: ReplayedSegment[];
  readonly tornTail: TornTail | undefined;
  /**
   * The last valid record of the last segment, as read (a copy), or undefined if that segment holds
   * none. It is the only record that may not be durable yet: see `openLive` in wal.ts.
   */
  readonly lastRecord: { readonly offset: number; readonly bytes: Uint8Array } | undefined;
}

interface LogState {
  entries: StoredEntry[];
  /** The index just before entries[0]. */
  offset: number;
  hardState: StoredHardState | undefined;
  snapshot: SnapshotMarker | undefined;
}

/** Reads `segments` (sorted, non-empty) back into the state they were written to hold. */
export async function replay(
  disk: Disk,
  dir: string,
  segments: readonly SegmentName[],
): Promise<StorageResult<Replayed>> {
  const gap = segments.findIndex((s, k) => s.seq !== segments[0]!.seq + k);
  if (gap > 0)
    return failed(corrupt(join(dir, segments[gap]!.name), 0, `segment ${segments[gap - 1]!.seq + 1} is missing`));
  const state: LogState = {
    entries: [],
    offset: segments[0]!.firstIndex - 1,
    hardState: undefined,
    snapshot: undefined,
  };
  const replayed: ReplayedSegment[] = [];
  let tornTail: TornTail | undefined;
  let lastRecord: Replayed["lastRecord"];
  for (const [k, segment] of segments.entries()) {
    const file = join(dir, segment.name);
    let bytes: Uint8Array;
    try {
      bytes = await disk.readFile(file);
    } catch (cause) {
      return failed(diskError(cause, "reading", file));
    }
    const scanned = scanSegment(bytes, k === segments.length - 1);
    if ("why" in scanned) return failed(corrupt(file, scanned.offset, scanned.why));
    let maxIndex = 0;
    for (const record of scanned.records) {
      for (const item of record.items) {
        const why = applyItem(state, item);
        if (why !== undefined) return failed(corrupt(file, record.offset, why));
        maxIndex = Math.max(maxIndex, itemMaxIndex(item));
      }
    }
    replayed.push({ segment, validBytes: scanned.validBytes, maxIndex });
    const last = scanned.records[scanned.records.length - 1];
    if (k === segments.length - 1 && last !== undefined)
      lastRecord = { offset: last.offset, bytes: bytes.slice(last.offset, scanned.validBytes) };
    if (scanned.torn !== undefined) {
      tornTail = {
        file,
        offset: scanned.validBytes,
        bytesDropped: bytes.length - scanned.validBytes,
        why: scanned.torn,
      };
    }
  }
  const why = checkCoverage(state, segments[0]!);
  if (why !== undefined) return failed(corrupt(join(dir, segments[0]!.name), 0, why));
  const { hardState, entries, snapshot } = state;
  return { ok: true, value: { hardState, entries, snapshot, segments: replayed, tornTail, lastRecord } };
}

type Scanned =
  | {
      readonly records: { offset: number; items: WalItem[] }[];
      readonly validBytes: number;
      readonly torn: string | undefined;
    }
  | { readonly offset: number; readonly why: string };

/**
 * Splits a segment into records. A bad record is a torn tail only at the end of the last segment
 * and only if no valid record follows it (any byte offset, as its length field may be the bad part):
 * every write waits for the previous one to be durable, so a good record after a bad one proves the
 * bad bytes had been durable, perhaps acknowledged.
 */
function scanSegment(bytes: Uint8Array, isLast: boolean): Scanned {
  const records: { offset: number; items: WalItem[] }[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const read = readRecord(bytes, offset);
    if (read.type === "record") {
      records.push({ offset, items: read.items });
      offset = read.end;
      continue;
    }
    if (read.type === "malformed" || !isLast) return { offset, why: read.why };
    const later = findRecord(bytes, offset + 1);
    if (later >= 0) return { offset, why: `${read.why}, yet a valid record follows at byte ${later}` };
    return { records, validBytes: offset, torn: read.why };
  }
  return { records, validBytes: offset, torn: undefined };
}

/** Applies one item as the writer did; returns why it cannot follow what came before. */
function applyItem(state: LogState, item: WalItem): string | undefined {
  switch (item.type) {
    case "entries":
      return applyEntries(state, item.entries);
    case "hardState": {
      const previous = state.hardState;
      const next = item.hardState;
      if (
        previous !== undefined &&
        (next.term < previous.term ||
          (next.term === previous.term && previous.vote !== NO_NODE && next.vote !== previous.vote))
      ) {
        return `hard state (term ${next.term}, vote ${next.vote}) undoes (term ${previous.term}, vote ${previous.vote})`;
      }
      state.hardState = next;
      return undefined;
    }
    case "snapshot":
      return applySnapshot(state, item.snapshot, item.logKept);
  }
}

function applyEntries(state: LogState, entries: readonly StoredEntry[]): string | undefined {
  const first = entries[0]!;
  const last = state.offset + state.entries.length;
  if (first.index > last + 1) return `entries start at index ${first.index} but the log ends at ${last}`;
  const snapshotIndex = state.snapshot?.index ?? 0;
  if (first.index <= snapshotIndex) return `entries at index ${first.index} overwrite the snapshot at ${snapshotIndex}`;
  const commit = state.hardState?.commit ?? 0;
  if (first.index <= last && first.index <= commit)
    return `entries at index ${first.index} overwrite committed index ${commit}`;
  for (let k = 1; k < entries.length; k++) {
    if (entries[k]!.term < entries[k - 1]!.term)
      return `entry ${entries[k]!.index} has a lower term than the one before it`;
  }
  if (first.index <= state.offset) {
    // Only in the oldest kept segment: the entries before it went with compaction.
    state.entries = [...entries];
    state.offset = first.index - 1;
    return undefined;
  }
  const previous = state.entries[first.index - state.offset - 2];
  if (previous !== undefined && previous.term > first.term)
    return `entry ${first.index} has a lower term than the one before it`;
  state.entries.length = first.index - state.offset - 1;
  for (const entry of entries) state.entries.push(entry);
  return undefined;
}

function applySnapshot(state: LogState, snapshot: SnapshotMarker, logKept: boolean): string | undefined {
  const previous = state.snapshot?.index ?? 0;
  if (snapshot.index < previous) return `snapshot marker ${snapshot.index} is behind the earlier marker ${previous}`;
  if (!logKept) {
    state.entries = [];
    state.offset = snapshot.index;
  } else if (snapshot.index > state.offset) {
    const held = state.entries[snapshot.index - state.offset - 1];
    if (held === undefined)
      return `snapshot marker ${snapshot.index} keeps a log that ends at ${state.offset + state.entries.length}`;
    if (held.term !== snapshot.term)
      return `snapshot marker ${snapshot.index} has term ${snapshot.term}, the log ${held.term}`;
    state.entries.splice(0, snapshot.index - state.offset);
    state.offset = snapshot.index;
  }
  state.snapshot = snapshot;
  return undefined;
}

function itemMaxIndex(item: WalItem): number {
  switch (item.type) {
    case "entries":
      return item.entries[item.entries.length - 1]!.index;
    case "hardState":
      return 0;
    case "snapshot":
      return markerMaxIndex(item.snapshot);
  }
}

/**
 * The index a snapshot marker counts as when deciding which segments compaction may delete: one past
 * the snapshot. Compacting to `snapshot.index` deletes segments whose records name nothing above that
 * index, so the segment holding the marker itself (and the hard state written with it) stays until a
 * later marker replaces it. Counted as `snapshot.index`, a marker that landed in a segment of its own
 * (a roll-over racing the compaction) would be deleted by its own compaction.
 */
export function markerMaxIndex(snapshot: SnapshotMarker): number {
  return snapshot.index + 1;
}

/** Compaction deletes old segments only after writing a snapshot marker that covers them. */
function checkCoverage(state: LogState, oldest: SegmentName): string | undefined {
  const covered = state.snapshot?.index ?? 0;
  if (oldest.seq > 0 && state.snapshot === undefined)
    return `segments before ${oldest.seq} are missing and no snapshot marker covers them`;
  if (state.offset !== covered)
    return `the log starts after index ${state.offset} but the snapshot covers only up to ${covered}: a segment is missing`;
  return undefined;
}
