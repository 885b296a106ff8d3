import { assert } from "../util/assert.js";
import {
  compareZxid,
  formatZxid,
  ZXID_ZERO,
  zxidEqual,
  type Epoch,
  type EpochExtent,
  type HistoryEntry,
  type Txn,
  type Zxid,
} from "./types.js";

/** What the driver must write for the history, in order: drop stored entries after `truncateAfter`, then append. */
export interface HistoryWrite {
  readonly truncateAfter: number | undefined;
  readonly entries: readonly HistoryEntry[];
}

/**
 * A member's history (the accepted transactions) in memory, with the bookkeeping of what the
 * driver has been handed to write and what is known durable.
 *
 * Invariants: zxids strictly increase; durableLength ≤ length; every write handed out and not yet
 * persisted is remembered, oldest first, with the prefix of the history it will make durable.
 */
export class History {
  readonly #txns: Txn[];
  /** The stored length once every handed-out write has landed. */
  #writtenLength: number;
  /** The lowest position changed since the last write was handed out (Infinity when none). */
  #dirtyFrom = Infinity;
  #durableLength: number;
  /** For each handed-out write, oldest first: how long a prefix of today's history it makes durable. */
  readonly #pendingDurable: number[] = [];

  constructor(txns: readonly Txn[]) {
    for (let k = 1; k < txns.length; k++) {
      assert(compareZxid(txns[k - 1]!.zxid, txns[k]!.zxid) < 0, `recovered history not increasing at ${k + 1}`);
    }
    this.#txns = [...txns];
    this.#writtenLength = txns.length;
    this.#durableLength = txns.length;
  }

  get length(): number {
    return this.#txns.length;
  }

  /** The longest prefix known to be on disk exactly as it is in memory. */
  get durableLength(): number {
    return this.#durableLength;
  }

  lastZxid(): Zxid {
    return this.zxidAt(this.#txns.length);
  }

  /** The zxid at `index`; ZXID_ZERO at 0. */
  zxidAt(index: number): Zxid {
    if (index === 0) return ZXID_ZERO;
    const txn = this.#txns[index - 1];
    // The message is built only on failure: zxidAt runs on every ping and status.
    if (txn === undefined) assert(false, `no history entry at ${index}`);
    return txn.zxid;
  }

  entry(index: number): HistoryEntry | undefined {
    const txn = this.#txns[index - 1];
    return txn === undefined ? undefined : { index, zxid: txn.zxid, data: txn.data };
  }

  /** Entries from `from` through `to`, both included. */
  slice(from: number, to: number): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    for (let index = from; index <= to; index++) out.push(this.entry(index)!);
    return out;
  }

  txnsAfter(index: number, countMax = Infinity): Txn[] {
    return this.#txns.slice(index, Math.min(this.#txns.length, index + countMax));
  }

  /** The position of the last entry whose zxid is ≤ z (0 when none). */
  indexAtOrBefore(z: Zxid): number {
    let low = 0;
    let high = this.#txns.length;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (compareZxid(this.#txns[mid - 1]!.zxid, z) <= 0) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** The position of `z` (0 for ZXID_ZERO), or undefined when this history does not hold it. */
  indexOf(z: Zxid): number | undefined {
    const index = this.indexAtOrBefore(z);
    return zxidEqual(this.zxidAt(index), z) ? index : undefined;
  }

  /** The counter of the last transaction of `e` held, or 0. */
  lastCounterIn(e: Epoch): number {
    const last = this.lastZxid();
    return last.epoch === e ? last.counter : 0;
  }

  /**
   * One extent per epoch present, newest first. An epoch's transactions are (e, 1) … (e, k), so
   * the entry before them sits k positions back: the walk costs one step per epoch.
   */
  extents(): EpochExtent[] {
    const out: EpochExtent[] = [];
    let index = this.#txns.length;
    while (index > 0) {
      const z = this.zxidAt(index);
      out.push({ epoch: z.epoch, lastCounter: z.counter });
      index -= z.counter;
    }
    return out;
  }

  /**
   * Where this history and a follower's (summarized by `extents`) part: the position of the
   * highest zxid both hold. Two histories holding the same zxid agree up to it, so the follower
   * keeps its history through there and takes the rest from this one.
   */
  commonIndex(extents: readonly EpochExtent[]): number {
    for (const extent of extents) {
      const index = this.indexAtOrBefore({ epoch: extent.epoch, counter: extent.lastCounter });
      if (index > 0 && this.zxidAt(index).epoch === extent.epoch) return index;
    }
    return 0;
  }

  append(txn: Txn): void {
    const last = this.lastZxid();
    assert(compareZxid(last, txn.zxid) < 0, `append ${formatZxid(txn.zxid)} after ${formatZxid(last)}`);
    this.#txns.push(txn);
    this.#dirtyFrom = Math.min(this.#dirtyFrom, this.#txns.length);
  }

  /** Keeps entries 1 … length only. */
  truncate(length: number): void {
    if (length >= this.#txns.length) return;
    this.#txns.length = length;
    this.#dirtyFrom = Math.min(this.#dirtyFrom, length + 1);
    this.#durableLength = Math.min(this.#durableLength, length);
    for (let k = 0; k < this.#pendingDurable.length; k++) {
      this.#pendingDurable[k] = Math.min(this.#pendingDurable[k]!, length);
    }
  }

  /**
   * Takes `txns`, a run of the leader's history following `prevZxid`, into this history:
   * entries that already match are kept, the first mismatch and all after it are replaced, and if
   * this history runs on past the run, entries of epochs before `leaderEpoch` are dropped (the
   * leader's history holds no other entry of an earlier epoch after the run, since the run reaches
   * at least the end of its initial history). Entries of `leaderEpoch` are the leader's own, so a
   * late or repeated message can never cut away an acknowledged proposal. Returns false, changing
   * nothing, when `prevZxid` is not held; never truncates at or below `committed`.
   */
  merge(options: { prevZxid: Zxid; txns: readonly Txn[]; leaderEpoch: Epoch; committed: number }): boolean {
    const start = this.indexOf(options.prevZxid);
    if (start === undefined) return false;
    let index = start;
    for (const txn of options.txns) {
      index++;
      const held = this.#txns[index - 1];
      if (held !== undefined && zxidEqual(held.zxid, txn.zxid)) continue;
      this.#truncateAbove(index - 1, options.committed);
      this.append(txn);
    }
    const next = this.#txns[index];
    if (next !== undefined && next.zxid.epoch < options.leaderEpoch) this.#truncateAbove(index, options.committed);
    return true;
  }

  #truncateAbove(length: number, committed: number): void {
    if (length >= this.#txns.length) return;
    assert(length >= committed, `truncating to ${length} would drop committed entries through ${committed}`);
    this.truncate(length);
  }

  /** Whether a write is waiting to be handed out. */
  hasUnwritten(): boolean {
    return this.#dirtyFrom !== Infinity;
  }

  /** Hands out what changed since the last write; the driver persists writes in the order taken. */
  takeWrite(): HistoryWrite {
    const from = Math.min(this.#dirtyFrom, this.#txns.length + 1);
    const truncateAfter = from - 1 < this.#writtenLength ? from - 1 : undefined;
    const entries = this.slice(from, this.#txns.length);
    this.#dirtyFrom = Infinity;
    this.#writtenLength = this.#txns.length;
    this.#pendingDurable.push(this.#txns.length);
    return { truncateAfter, entries };
  }

  /** The oldest handed-out write is durable. */
  persisted(): void {
    const length = this.#pendingDurable.shift();
    assert(length !== undefined, "persisted() without a write in flight");
    this.#durableLength = length;
  }
}
