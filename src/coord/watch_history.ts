import type { KvEvent } from "../kv/index.js";
import { assert } from "../util/assert.js";

/**
 * What one event costs beyond its key and value strings: the event and key-value objects and the
 * history's slot (an estimate; V8 gives no exact figure, and the bound only has to be roughly right).
 */
const eventOverheadBytes = 128;

function eventBytes(event: KvEvent): number {
  return eventOverheadBytes + event.key.length + event.kv.value.length + (event.prev?.value.length ?? 0);
}

/** What the compactor asks of a history: its size, and where to cut to keep the newest half. */
export interface HistoryBounds {
  readonly revisionsMax: number;
  readonly bytesMax: number;
}

/**
 * A member's event history: for each revision from `firstRevision()` to `lastRevision()`, the events
 * the store reported for it (the store's own arrays, not copies: a value's string is shared with the
 * store while the key holds it). Revisions before `firstRevision()` are not held, either because the
 * cluster compacted them or because this member never saw them (it attached later, or a snapshot
 * replaced its state).
 *
 * Every revision has at least one event, and revisions arrive one by one, so slot i holds revision
 * `firstRevision() + i`: a lookup is an index.
 */
export class WatchHistory {
  #first: number;
  #entries: (readonly KvEvent[])[] = [];
  /** Bytes of every entry appended since the history (re)started, up to and including slot i. */
  #bytesThrough: number[] = [];
  /** Bytes appended since the history (re)started, before slot 0. */
  #bytesBefore = 0;

  /** A history of nothing yet, whose first revision will be `revision + 1`. */
  constructor(revision: number) {
    this.#first = revision + 1;
  }

  /** The oldest revision held, or, while the history is empty, the next one it will hold. */
  firstRevision(): number {
    return this.#first;
  }

  /** The newest revision held (firstRevision() - 1 while empty). */
  lastRevision(): number {
    return this.#first + this.#entries.length - 1;
  }

  revisionCount(): number {
    return this.#entries.length;
  }

  /** An estimate of the memory the held events take. */
  bytes(): number {
    return this.#entries.length === 0 ? 0 : this.#bytesThrough[this.#bytesThrough.length - 1]! - this.#bytesBefore;
  }

  /** The events of `revision`, or undefined when it is not held. */
  eventsAt(revision: number): readonly KvEvent[] | undefined {
    return this.#entries[revision - this.#first];
  }

  /** Records the next revision's events (the store reports revisions in order, none skipped). */
  append(revision: number, events: readonly KvEvent[]): void {
    assert(revision === this.lastRevision() + 1, `watch history: revision ${revision} after ${this.lastRevision()}`);
    let bytes = this.#entries.length === 0 ? this.#bytesBefore : this.#bytesThrough[this.#bytesThrough.length - 1]!;
    for (const event of events) bytes += eventBytes(event);
    this.#entries.push(events);
    this.#bytesThrough.push(bytes);
  }

  /** Forgets the revisions before `revision` (the replicated compaction reached it). */
  compact(revision: number): void {
    const drop = Math.min(revision - this.#first, this.#entries.length);
    if (drop <= 0) return;
    this.#bytesBefore = this.#bytesThrough[drop - 1]!;
    this.#entries.splice(0, drop);
    this.#bytesThrough.splice(0, drop);
    this.#first = revision;
  }

  /** Forgets everything: the state was replaced at `revision`, and history resumes after it. */
  restart(revision: number): void {
    this.#entries = [];
    this.#bytesThrough = [];
    this.#bytesBefore = 0;
    this.#first = revision + 1;
  }

  /**
   * The revision to compact at so that the history keeps the newest half of whichever bound it
   * exceeds (of its revisions, of its bytes, or the stricter of the two), or undefined while it is
   * within both.
   */
  compactionTarget(bounds: HistoryBounds): number | undefined {
    const count = this.#entries.length;
    const overRevisions = count > bounds.revisionsMax;
    const overBytes = this.bytes() > bounds.bytesMax;
    if (!overRevisions && !overBytes) return undefined;
    let slot = overRevisions ? Math.ceil(count / 2) : 0;
    if (overBytes) slot = Math.max(slot, this.#firstSlotOfNewestBytes(this.bytes() / 2));
    return this.#first + Math.min(slot, count - 1);
  }

  /** The first slot from which the entries to the end take at most `bytes` (binary search). */
  #firstSlotOfNewestBytes(bytes: number): number {
    const through = this.#bytesThrough;
    const total = through[through.length - 1]!;
    // The entries from slot s on take total - bytesThrough[s - 1]; find the least s where that fits.
    let low = 0;
    let high = through.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (total - through[middle]! <= bytes) high = middle;
      else low = middle + 1;
    }
    return low + 1;
  }
}
