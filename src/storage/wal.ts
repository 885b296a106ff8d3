import { join } from "node:path";
import { AssertionError, assert } from "../util/assert.js";
import { NO_NODE, isNonNegativeInteger } from "../util/ids.js";
import type { Disk, DiskFile } from "./disk.js";
import { mkdirDurable } from "./durable_dir.js";
import type { StorageError, StorageResult } from "./errors.js";
import { OK, diskError, failed } from "./errors.js";
import type { LogTerms } from "./log_terms.js";
import { appendTerms, compactTerms, logTerms, termAt } from "./log_terms.js";
import type { RecordBuffer, WalItem } from "./wal_record.js";
import {
  appendItems,
  itemsBytes,
  recordBuffer,
  recordHeaderBytes,
  recordPayloadBytesMax,
  sealRecord,
} from "./wal_record.js";
import type { Replayed, ReplayedSegment, TornTail } from "./wal_replay.js";
import { markerMaxIndex, replay } from "./wal_replay.js";
import type { SegmentName } from "./wal_segment.js";
import { parseSegmentNames, segmentName } from "./wal_segment.js";
import type { SnapshotMarker, StoredEntry, StoredHardState } from "./types.js";

export interface WalOptions {
  /** A segment takes no new record once it holds this many bytes (one record never spans two). */
  readonly walSegmentBytesMax?: number;
  /** Saves waiting for the same durable write are joined into one record of at most this many bytes. */
  readonly walBatchBytesMax?: number;
}

const walSegmentBytesMaxDefault = 64 * 1024 * 1024;
const walBatchBytesMaxDefault = 16 * 1024 * 1024;

/** What a reopened WAL holds: the last hard state, the snapshot marker and the log after it. */
export interface WalRecovered {
  readonly hardState: StoredHardState | undefined;
  /** Consecutive, from snapshot.index + 1 (or 1 without a snapshot). */
  readonly entries: readonly StoredEntry[];
  readonly snapshot: SnapshotMarker | undefined;
  /** Set when a crash had cut the last write short and recovery dropped it (worth a log line). */
  readonly tornTail: TornTail | undefined;
}

/** One save: entries (consecutive, possibly overwriting a suffix of the log) and/or a hard state. */
export interface WalSave {
  readonly hardState?: StoredHardState | undefined;
  readonly entries?: readonly StoredEntry[] | undefined;
}

interface Segment {
  readonly name: SegmentName;
  maxIndex: number;
}

/** Saves waiting for one durable write. `lastIndexBefore` names a segment created for them. */
interface Batch {
  readonly record: RecordBuffer;
  maxIndex: number;
  readonly lastIndexBefore: number;
  readonly waiters: ((result: StorageResult<void>) => void)[];
}

/**
 * The Raft log and hard state on disk: segment files of checksummed records in one directory.
 * Segments are opened with `durableWrites` (O_DSYNC), so a record costs one write and no fdatasync.
 * `save()` calls that arrive while a write is running are written together with the next one
 * (group commit); each promise resolves once its own data is durable. After any disk failure the WAL
 * refuses further writes: what reached the disk is unknown (an fsync error may have dropped dirty
 * pages), so the only safe way on is to reopen and recover. Reopening is safe because `open` makes
 * everything it read durable before it appends (see `openLive`).
 */
export class Wal {
  readonly #disk: Disk;
  readonly #dir: string;
  readonly #segmentBytesMax: number;
  readonly #batchBytesMax: number;
  readonly #segments: Segment[];
  #file: DiskFile;
  #fileBytes: number;
  readonly #terms: LogTerms;
  #hardState: StoredHardState | undefined;
  #queue: Batch[] = [];
  #flushing: Promise<void> | undefined;
  #deleting: Promise<StorageResult<void>> = Promise.resolve(OK);
  #failure: StorageError | undefined;
  #closed = false;

  private constructor(init: {
    disk: Disk;
    dir: string;
    options: WalOptions;
    segments: Segment[];
    file: DiskFile;
    fileBytes: number;
    terms: LogTerms;
    hardState: StoredHardState | undefined;
  }) {
    this.#disk = init.disk;
    this.#dir = init.dir;
    this.#segmentBytesMax = init.options.walSegmentBytesMax ?? walSegmentBytesMaxDefault;
    this.#batchBytesMax = init.options.walBatchBytesMax ?? walBatchBytesMaxDefault;
    for (const limit of [this.#segmentBytesMax, this.#batchBytesMax]) {
      assert(Number.isSafeInteger(limit) && limit >= 1, `wal: a byte limit of ${limit}`);
    }
    this.#segments = init.segments;
    this.#file = init.file;
    this.#fileBytes = init.fileBytes;
    this.#terms = init.terms;
    this.#hardState = init.hardState;
  }

  /**
   * Opens the WAL in `dir`, creating it if empty, and recovers what it holds. A torn last write is
   * cut away; anything else that does not read back as written is a `corrupt` error naming the file
   * and byte, and nothing on disk is changed. What it recovers may have been left in the page cache
   * by a process that was killed or whose durable write failed, so before appending it makes all of it
   * durable: the directory and its parents (a segment created or deleted but not synced) and the
   * live segment (see `openLive`).
   */
  static async open(
    disk: Disk,
    dir: string,
    options: WalOptions = {},
  ): Promise<StorageResult<{ wal: Wal; recovered: WalRecovered }>> {
    let names: string[];
    try {
      // Also syncs `dir` itself, so that the segments listed below are the ones a crash leaves.
      await mkdirDurable(disk, dir);
      names = await disk.list(dir);
    } catch (cause) {
      return failed(diskError(cause, "opening", dir));
    }
    const segments = parseSegmentNames(names);
    if (segments.length === 0) return Wal.#create(disk, dir, options);
    const replayed = await replay(disk, dir, segments);
    if (!replayed.ok) return replayed;
    const { hardState, entries, snapshot, tornTail, lastRecord } = replayed.value;
    const live = replayed.value.segments[replayed.value.segments.length - 1]!;
    const opened = await openLive(disk, dir, live, lastRecord);
    if (!opened.ok) return opened;
    const wal = new Wal({
      disk,
      dir,
      options,
      segments: replayed.value.segments.map((s) => ({ name: s.segment, maxIndex: s.maxIndex })),
      file: opened.value,
      fileBytes: live.validBytes,
      terms: logTerms(snapshot, entries),
      hardState,
    });
    return { ok: true, value: { wal, recovered: { hardState, entries, snapshot, tornTail } } };
  }

  static async #create(
    disk: Disk,
    dir: string,
    options: WalOptions,
  ): Promise<StorageResult<{ wal: Wal; recovered: WalRecovered }>> {
    const name = segmentName(0, 1);
    const path = join(dir, name.name);
    let file: DiskFile;
    try {
      // `open` has made the directory and every parent durable already.
      file = await disk.open(path, { create: true, durableWrites: true });
      await disk.syncDir(dir);
    } catch (cause) {
      return failed(diskError(cause, "creating", path));
    }
    const segments = [{ name, maxIndex: 0 }];
    const wal = new Wal({
      disk,
      dir,
      options,
      segments,
      file,
      fileBytes: 0,
      terms: logTerms(undefined, []),
      hardState: undefined,
    });
    return {
      ok: true,
      value: { wal, recovered: { hardState: undefined, entries: [], snapshot: undefined, tornTail: undefined } },
    };
  }

  /**
   * Appends entries and/or a hard state; resolves once they (and every earlier save) are durable.
   * Entries must continue the log or overwrite an uncommitted suffix of it, as Raft allows; anything
   * else is a bug in the caller and throws at once.
   */
  save(save: WalSave): Promise<StorageResult<void>> {
    assert(!this.#closed, "wal: save after close");
    if (this.#failure !== undefined) return Promise.resolve(failed(this.#failure));
    const items: WalItem[] = [];
    const lastIndexBefore = this.#terms.last;
    let maxIndex = 0;
    const entries = save.entries ?? [];
    if (entries.length > 0) {
      this.#checkEntries(entries);
      appendTerms(this.#terms, entries);
      items.push({ type: "entries", entries });
      maxIndex = this.#terms.last;
    }
    if (save.hardState !== undefined) {
      this.#checkHardState(save.hardState);
      this.#hardState = save.hardState;
      items.push({ type: "hardState", hardState: save.hardState });
    }
    return this.#enqueue({ items, lastIndexBefore, maxIndex });
  }

  /**
   * Records that a snapshot now covers everything up to `snapshot.index`, then deletes the oldest
   * segments that hold nothing above it. Entries after the snapshot stay if the log holds the
   * snapshot's last entry with the same term; otherwise the log is discarded (Raft §7).
   */
  compact(snapshot: SnapshotMarker): Promise<StorageResult<void>> {
    assert(!this.#closed, "wal: compact after close");
    if (this.#failure !== undefined) return Promise.resolve(failed(this.#failure));
    assert(
      snapshot.index >= this.#terms.offset,
      `wal: snapshot ${snapshot.index} is behind snapshot ${this.#terms.offset}`,
    );
    const lastIndexBefore = this.#terms.last;
    const logKept = compactTerms(this.#terms, snapshot);
    // The hard state is written again so that deleting old segments cannot take the latest one along.
    const items: WalItem[] = [{ type: "snapshot", snapshot, logKept }];
    if (this.#hardState !== undefined) items.push({ type: "hardState", hardState: this.#hardState });
    // The marker counts as one past the snapshot, so that the deletion below keeps its own segment.
    const saved = this.#enqueue({ items, lastIndexBefore, maxIndex: markerMaxIndex(snapshot) });
    // Chained, so deletions never overlap and close() can wait for the last one.
    this.#deleting = this.#deleting.then(async () => {
      const result = await saved;
      return result.ok ? this.#deleteSegmentsBelow(snapshot.index) : result;
    });
    return this.#deleting;
  }

  /** Waits for pending saves and compactions, then closes the live segment. */
  async close(): Promise<StorageResult<void>> {
    assert(!this.#closed, "wal: closed twice");
    this.#closed = true;
    await this.#flushing;
    await this.#deleting;
    try {
      await this.#file.close();
    } catch (cause) {
      return failed(diskError(cause, "closing", this.#livePath()));
    }
    return this.#failure === undefined ? OK : failed(this.#failure);
  }

  #checkEntries(entries: readonly StoredEntry[]): void {
    const first = entries[0]!;
    const terms = this.#terms;
    assert(first.index > terms.offset, `wal: entry ${first.index} is at or below the snapshot at ${terms.offset}`);
    assert(first.index <= terms.last + 1, `wal: entry ${first.index} leaves a gap after ${terms.last}`);
    const commit = this.#hardState?.commit ?? 0;
    assert(
      first.index > terms.last || first.index > commit,
      `wal: entry ${first.index} overwrites committed index ${commit}`,
    );
    assert(
      first.term >= (termAt(terms, first.index - 1) ?? 0),
      `wal: entry ${first.index} has a lower term than its predecessor`,
    );
    let previousTerm = first.term;
    for (let k = 0; k < entries.length; k++) {
      const entry = entries[k]!;
      // Messages are built only on failure: this loop runs for every entry written.
      if (entry.index !== first.index + k || !(entry.term >= previousTerm) || !Number.isSafeInteger(entry.term)) {
        throw new AssertionError(
          `wal: entry ${entry.index} (term ${entry.term}) does not follow entry ${first.index + k - 1} (term ${previousTerm})`,
        );
      }
      previousTerm = entry.term;
    }
  }

  #checkHardState(next: StoredHardState): void {
    const previous = this.#hardState;
    const valid =
      isNonNegativeInteger(next.term) && isNonNegativeInteger(next.vote) && isNonNegativeInteger(next.commit);
    assert(valid, `wal: hard state ${JSON.stringify(next)}`);
    if (previous === undefined) return;
    assert(next.term >= previous.term, `wal: hard state term ${next.term} is behind ${previous.term}`);
    const revote = next.term === previous.term && previous.vote !== NO_NODE && next.vote !== previous.vote;
    assert(!revote, `wal: second vote in term ${next.term} (${previous.vote}, then ${next.vote})`);
  }

  #enqueue(write: {
    items: readonly WalItem[];
    lastIndexBefore: number;
    maxIndex: number;
  }): Promise<StorageResult<void>> {
    const bytes = itemsBytes(write.items);
    assert(bytes <= recordPayloadBytesMax, `wal: a save of ${bytes} bytes does not fit a record`);
    return new Promise((resolve) => {
      let batch = this.#queue[this.#queue.length - 1];
      if (batch === undefined || batch.record.length - recordHeaderBytes + bytes > this.#batchBytesMax) {
        batch = { record: recordBuffer(bytes), maxIndex: 0, lastIndexBefore: write.lastIndexBefore, waiters: [] };
        this.#queue.push(batch);
      }
      appendItems(batch.record, write.items);
      batch.maxIndex = Math.max(batch.maxIndex, write.maxIndex);
      batch.waiters.push(resolve);
      // Starting on a microtask lets saves made in the same turn share the first write as well.
      this.#flushing ??= Promise.resolve().then(() => this.#flush());
    });
  }

  async #flush(): Promise<void> {
    for (let batch = this.#queue.shift(); batch !== undefined; batch = this.#queue.shift()) {
      const result: StorageResult<void> =
        this.#failure === undefined ? await this.#write(batch) : failed(this.#failure);
      for (const resolve of batch.waiters) resolve(result);
    }
    this.#flushing = undefined;
  }

  async #write(batch: Batch): Promise<StorageResult<void>> {
    if (batch.record.length === recordHeaderBytes) return OK;
    if (this.#fileBytes >= this.#segmentBytesMax) {
      const rolled = await this.#rollOver(batch.lastIndexBefore + 1);
      if (!rolled.ok) return rolled;
    }
    const record = sealRecord(batch.record);
    try {
      await this.#file.write(record, this.#fileBytes);
    } catch (cause) {
      return this.#fail(diskError(cause, "writing", this.#livePath()));
    }
    this.#fileBytes += record.length;
    const live = this.#segments[this.#segments.length - 1]!;
    live.maxIndex = Math.max(live.maxIndex, batch.maxIndex);
    return OK;
  }

  /** Starts the next segment. The full one was made durable by the write that filled it. */
  async #rollOver(firstIndex: number): Promise<StorageResult<void>> {
    const name = segmentName(this.#segments[this.#segments.length - 1]!.name.seq + 1, firstIndex);
    const path = join(this.#dir, name.name);
    let file: DiskFile;
    try {
      file = await this.#disk.open(path, { create: true, durableWrites: true });
      await this.#disk.syncDir(this.#dir);
    } catch (cause) {
      return this.#fail(diskError(cause, "creating", path));
    }
    const full = this.#file;
    const fullPath = this.#livePath();
    this.#file = file;
    this.#fileBytes = 0;
    this.#segments.push({ name, maxIndex: 0 });
    try {
      await full.close();
    } catch (cause) {
      return this.#fail(diskError(cause, "closing", fullPath));
    }
    return OK;
  }

  /**
   * Deletes the oldest segments while they hold nothing above `index`, oldest first and each
   * unlink made durable before the next: a crash must never leave a hole in the sequence.
   */
  async #deleteSegmentsBelow(index: number): Promise<StorageResult<void>> {
    while (this.#failure === undefined && this.#segments.length > 1 && this.#segments[0]!.maxIndex <= index) {
      const path = join(this.#dir, this.#segments[0]!.name.name);
      try {
        await this.#disk.unlink(path);
        await this.#disk.syncDir(this.#dir);
      } catch (cause) {
        return this.#fail(diskError(cause, "deleting", path));
      }
      this.#segments.shift();
    }
    return this.#failure === undefined ? OK : failed(this.#failure);
  }

  #fail(error: StorageError): StorageResult<void> {
    this.#failure ??= error;
    return failed(error);
  }

  #livePath(): string {
    return join(this.#dir, this.#segments[this.#segments.length - 1]!.name.name);
  }
}

/**
 * Opens the newest segment for appending, after making what replay read from it durable: it cuts the
 * file to its valid bytes (a torn tail goes for good), writes the last record again, and syncs.
 *
 * Every write is durable before the next one starts, and the WAL stops at the first failure, so at
 * open only the live segment's last record can be short of durable. A process killed inside its
 * write leaves it in the page cache, where a plain fdatasync would write it. But when writeback fails
 * (an O_DSYNC write or an fdatasync), Linux (since 4.13) may mark the dirty pages clean: reads still
 * return them, the disk never gets them, and no later sync writes them (fsyncgate). Writing the same
 * bytes again dirties those pages, and this write is durable itself. Earlier records were made
 * durable by writes that succeeded, and pages shared with the last record held them when they did.
 * The cut is synced, and repeated every time for the same reason: one made by an earlier open whose
 * sync failed may not have reached the disk.
 */
async function openLive(
  disk: Disk,
  dir: string,
  live: ReplayedSegment,
  lastRecord: Replayed["lastRecord"],
): Promise<StorageResult<DiskFile>> {
  const path = join(dir, live.segment.name);
  let file: DiskFile;
  try {
    file = await disk.open(path, { create: false, durableWrites: true });
  } catch (cause) {
    return failed(diskError(cause, "opening", path));
  }
  try {
    await file.truncate(live.validBytes);
    if (lastRecord !== undefined) await file.write(lastRecord.bytes, lastRecord.offset);
    await file.datasync();
  } catch (cause) {
    const error = diskError(cause, "recovering", path);
    // Best effort: the open already failed, and this handle must not leak.
    await file.close().catch((again: unknown) => diskError(again, "closing", path));
    return failed(error);
  }
  return { ok: true, value: file };
}
