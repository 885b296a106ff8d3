import { assert } from "../../util/assert.js";
import { logIndex } from "../../util/ids.js";
import type { ChosenEntry, CommittedEntry, Slot } from "./types.js";

/**
 * What a learner knows chosen: the values of the consecutive slots (offset, chosenThrough], and
 * how far they have been handed out to apply. Slots through `offset` are in a snapshot (or, at
 * start, before the first). Invariants: offset ≤ applied ≤ chosenThrough; entries[i].slot = offset + 1 + i.
 */
export class LearnerLog {
  #offset: Slot;
  #entries: ChosenEntry[] = [];
  #applied: Slot;

  constructor(offset: Slot) {
    this.#offset = offset;
    this.#applied = offset;
  }

  /** Every slot through this one is chosen and its value known here. */
  get chosenThrough(): Slot {
    return logIndex(this.#offset + this.#entries.length);
  }

  get applied(): Slot {
    return this.#applied;
  }

  /** Slots through this one are compacted: only a snapshot holds them. */
  get offset(): Slot {
    return this.#offset;
  }

  entryAt(slot: Slot): ChosenEntry | undefined {
    return slot > this.#offset ? this.#entries[slot - this.#offset - 1] : undefined;
  }

  /** Records the next slot's chosen value; anything else is a programmer error. */
  append(entry: ChosenEntry): void {
    assert(entry.slot === this.chosenThrough + 1, `learnt slot ${entry.slot} after ${this.chosenThrough}`);
    this.#entries.push(entry);
  }

  /**
   * The chosen entries not yet handed out, in slot order, at most `bytesMax` of data (one bigger
   * entry still goes alone); they count as applied from now on.
   */
  takeToApply(bytesMax: number): CommittedEntry[] {
    const out: CommittedEntry[] = [];
    let bytes = 0;
    while (this.#applied < this.chosenThrough) {
      const entry = this.entryAt(logIndex(this.#applied + 1))!;
      if (out.length > 0 && bytes + entry.value.data.length > bytesMax) break;
      bytes += entry.value.data.length;
      out.push({ index: entry.slot, kind: entry.value.kind, data: entry.value.data });
      this.#applied = entry.slot;
    }
    return out;
  }

  hasToApply(): boolean {
    return this.#applied < this.chosenThrough;
  }

  /** Chosen entries from `from` on, at most `countMax` and about `bytesMax` of data (at least one). */
  slice(from: Slot, countMax: number, bytesMax: number): ChosenEntry[] {
    assert(from > this.#offset, `slice from compacted slot ${from}`);
    const out: ChosenEntry[] = [];
    let bytes = 0;
    for (let slot = from; slot <= this.chosenThrough && out.length < countMax; slot++) {
      const entry = this.entryAt(logIndex(slot))!;
      if (out.length > 0 && bytes + entry.value.data.length > bytesMax) break;
      bytes += entry.value.data.length;
      out.push(entry);
    }
    return out;
  }

  /** Drops the entries through `through` (≤ applied): a snapshot holds them. */
  compact(through: Slot): void {
    assert(through <= this.#applied, `compaction through ${through} beyond applied ${this.#applied}`);
    if (through <= this.#offset) return;
    this.#entries = this.#entries.slice(through - this.#offset);
    this.#offset = through;
  }

  /** Starts over after a snapshot through `index` (beyond chosenThrough) replaced the state machine. */
  restore(index: Slot): void {
    assert(index > this.chosenThrough, `snapshot ${index} not beyond chosen ${this.chosenThrough}`);
    this.#entries = [];
    this.#offset = index;
    this.#applied = index;
  }
}
