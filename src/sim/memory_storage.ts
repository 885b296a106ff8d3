import { assert } from "../util/assert.js";
import { logIndex, NO_NODE, term, type LogIndex } from "../util/ids.js";
import type { DurableState, Entry, HardState, Snapshot } from "../raft/index.js";

/**
 * What a simulated node has made durable, with the WAL's contract: a save is all-or-nothing, an
 * append at index i replaces every stored entry from i on, a snapshot replaces the entries it
 * covers, and nothing unsaved survives a crash.
 */
export class MemoryStorage {
  #hardState: HardState = { term: term(0), vote: NO_NODE, commit: logIndex(0) };
  #snapshot: Snapshot | undefined;
  /** Index of the entry before #entries[0]. */
  #offset = 0;
  #entries: Entry[] = [];
  /** A hard state that moved only its commit index: not durable until the next save carries it. */
  #deferredHardState: HardState | undefined;
  /** Set by a simulated bit flip: the node must refuse to start from this disk. */
  corrupt = false;

  /** Keeps a Ready's hard state that needs no sync (as the node driver does), lost by a crash. */
  defer(hardState: HardState | undefined): void {
    this.#deferredHardState = hardState ?? this.#deferredHardState;
  }

  /** A crash forgets what was never written durably. */
  dropDeferred(): void {
    this.#deferredHardState = undefined;
  }

  save(savedHardState: HardState | undefined, entries: readonly Entry[], snapshot?: Snapshot): void {
    const hardState = savedHardState ?? this.#deferredHardState;
    this.#deferredHardState = undefined;
    if (snapshot !== undefined) this.#installSnapshot(snapshot);
    const first = entries[0];
    if (first !== undefined) {
      const last = this.#offset + this.#entries.length;
      assert(
        first.index > this.#offset && first.index <= last + 1,
        `stored entry ${first.index} not in (${this.#offset}, ${last + 1}]`,
      );
      this.#entries.length = first.index - this.#offset - 1;
      this.#entries.push(...entries);
    }
    if (hardState !== undefined) {
      assert(
        hardState.commit <= this.lastIndex(),
        `durable commit ${hardState.commit} beyond durable log ${this.lastIndex()}`,
      );
      this.#hardState = hardState;
    }
  }

  /** A follower's installed snapshot replaces the whole log. */
  #installSnapshot(snapshot: Snapshot): void {
    this.#snapshot = snapshot;
    this.#offset = snapshot.meta.index;
    this.#entries = [];
  }

  /** The node's own snapshot: keep it and drop the entries through `compactIndex`. */
  saveSnapshot(snapshot: Snapshot, compactIndex: LogIndex): void {
    if (this.#snapshot === undefined || snapshot.meta.index > this.#snapshot.meta.index) this.#snapshot = snapshot;
    const drop = Math.min(compactIndex, this.lastIndex()) - this.#offset;
    if (drop <= 0) return;
    this.#entries = this.#entries.slice(drop);
    this.#offset += drop;
  }

  hardState(): HardState {
    return this.#hardState;
  }

  snapshot(): Snapshot | undefined {
    return this.#snapshot;
  }

  lastIndex(): LogIndex {
    return logIndex(this.#offset + this.#entries.length);
  }

  durableState(): DurableState {
    return { hardState: this.#hardState, entries: [...this.#entries], snapshot: this.#snapshot };
  }
}
