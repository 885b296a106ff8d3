import { assert } from "../util/assert.js";
import { logIndex, term, type LogIndex, type Term } from "../util/ids.js";
import type { Entry } from "./types.js";

/**
 * The log since the last snapshot, held entirely in memory (the core never reads the disk), with
 * the bookkeeping of what is durable, committed and handed out to apply.
 *
 * Invariants: entries[k].index === offset + 1 + k; terms never decrease;
 * applied ≤ applying ≤ committed ≤ lastIndex(); stableIndex ≤ handedOutIndex ≤ lastIndex().
 */
export class RaftLog {
  /** Index and term of the entry just before entries[0] (the snapshot's last entry, or 0). */
  #offset: LogIndex;
  #offsetTerm: Term;
  #entries: Entry[];
  /** Entries after this index are not known to be durable yet. */
  #stableIndex: LogIndex;
  /** Entries up to this index were handed to the driver to persist (some may be still in flight). */
  #handedOutIndex: LogIndex;
  committed: LogIndex;
  /** Highest index handed out for applying (entries up to it left in a Ready); etcd's word. */
  applying: LogIndex;
  /** Highest index the driver has said it applied (it called advance() for the Ready carrying it). */
  applied: LogIndex;
  /** The lowest config entry committed here whose commit index is not known durable, or 0. */
  #configCommitUnsynced: LogIndex = logIndex(0);
  /** Indexes of the config entries in #entries, ascending. */
  #configIndexes: LogIndex[] = [];

  constructor(options: {
    offset: LogIndex;
    offsetTerm: Term;
    entries: readonly Entry[];
    committed: LogIndex;
    applied?: LogIndex;
  }) {
    this.#offset = options.offset;
    this.#offsetTerm = options.offsetTerm;
    this.#entries = [...options.entries];
    this.#stableIndex = this.lastIndex();
    this.#handedOutIndex = this.#stableIndex;
    this.committed = options.committed;
    this.applied = options.applied ?? options.offset;
    this.applying = this.applied;
    for (let k = 0; k < this.#entries.length; k++) {
      const entry = this.#entries[k]!;
      assert(entry.index === this.#offset + 1 + k, `log entry ${k} has index ${entry.index}`);
      const prevTerm = k === 0 ? this.#offsetTerm : this.#entries[k - 1]!.term;
      assert(entry.term >= prevTerm, `log term goes back at index ${entry.index}`);
      if (entry.kind === "config") this.#configIndexes.push(entry.index);
    }
    this.committed = logIndex(Math.max(this.committed, this.#configCommitFloor()));
    assert(this.committed <= this.lastIndex(), "commit beyond the log");
    assert(this.committed >= this.#offset, "commit before the snapshot");
    assert(
      this.applied >= this.#offset && this.applied <= this.committed,
      `applied ${this.applied} outside [${this.#offset}, ${this.committed}]`,
    );
  }

  /** The index the in-memory log starts after (the last compacted entry, or 0). */
  offset(): LogIndex {
    return this.#offset;
  }

  firstIndex(): LogIndex {
    return logIndex(this.#offset + 1);
  }

  lastIndex(): LogIndex {
    return logIndex(this.#offset + this.#entries.length);
  }

  lastTerm(): Term {
    return this.#entries.at(-1)?.term ?? this.#offsetTerm;
  }

  stableIndex(): LogIndex {
    return this.#stableIndex;
  }

  /** Whether some entries were never handed to the driver to persist. */
  hasUnstableEntries(): boolean {
    return this.#handedOutIndex < this.lastIndex();
  }

  /** The term at `index`, or undefined when it is compacted away or beyond the end. */
  termAt(index: LogIndex): Term | undefined {
    if (index === this.#offset) return this.#offsetTerm;
    if (index < this.#offset || index > this.lastIndex()) return undefined;
    return this.#entries[index - this.#offset - 1]!.term;
  }

  matchTerm(index: LogIndex, t: Term): boolean {
    return this.termAt(index) === t;
  }

  entryAt(index: LogIndex): Entry | undefined {
    if (index <= this.#offset) return undefined;
    return this.#entries[index - this.#offset - 1];
  }

  /** Raft's §5.4.1 up-to-date check for a candidate's last entry. */
  isUpToDate(lastLogIndex: LogIndex, lastLogTerm: Term): boolean {
    const myTerm = this.lastTerm();
    return lastLogTerm > myTerm || (lastLogTerm === myTerm && lastLogIndex >= this.lastIndex());
  }

  /**
   * Entries in [from, to], capped at `bytesMax` total data but always at least one entry, so a
   * single oversized entry still makes progress.
   */
  slice(from: LogIndex, to: LogIndex, bytesMax: number): Entry[] {
    assert(from > this.#offset, `slice from ${from} is compacted (offset ${this.#offset})`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = from; i <= to && i <= this.lastIndex(); i++) {
      const entry = this.#entries[i - this.#offset - 1]!;
      bytes += entry.data.byteLength;
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(entry);
    }
    return out;
  }

  /** Appends entries the leader created; they continue the log directly. */
  appendNew(entries: readonly Entry[]): void {
    for (const entry of entries) {
      assert(entry.index === this.lastIndex() + 1, `append at ${entry.index} after ${this.lastIndex()}`);
      assert(entry.term >= this.lastTerm(), `append of term ${entry.term} after ${this.lastTerm()}`);
      this.#entries.push(entry);
      if (entry.kind === "config") this.#configIndexes.push(entry.index);
    }
    this.commitTo(this.#configCommitFloor());
  }

  /**
   * A leader appends a config entry only once every earlier one is committed (and applied), so a
   * config entry anywhere in a log proves the config entries before it committed, whoever wrote it
   * and whether or not it survives. A node therefore never campaigns or votes in a configuration
   * older than the second-newest one in its log, and a restart cannot forget that (etcd's "Append"
   * invariant of apply-time configuration changes, with the log itself as the durable record).
   */
  #configCommitFloor(): LogIndex {
    return this.#configIndexes.at(-2) ?? logIndex(0);
  }

  /** The newest committed config entry still in the log, or 0. */
  committedConfigIndex(): LogIndex {
    for (let k = this.#configIndexes.length - 1; k >= 0; k--) {
      if (this.#configIndexes[k]! <= this.committed) return this.#configIndexes[k]!;
    }
    return logIndex(0);
  }

  /**
   * Follower side of AppendEntries once prevLogIndex/prevLogTerm matched: skips entries already
   * held, truncates at the first conflict, appends the rest. Returns the last index now matching.
   */
  maybeAppend(prevLogIndex: LogIndex, entries: readonly Entry[]): LogIndex {
    let k = 0;
    for (; k < entries.length; k++) {
      const entry = entries[k]!;
      if (entry.index <= this.#offset) continue;
      const existing = this.termAt(entry.index);
      if (existing === undefined) break;
      if (existing !== entry.term) {
        assert(entry.index > this.committed, `conflict at committed index ${entry.index}`);
        this.#truncateFrom(entry.index);
        break;
      }
    }
    this.appendNew(entries.slice(k));
    return logIndex(prevLogIndex + entries.length);
  }

  #truncateFrom(index: LogIndex): void {
    this.#entries.length = index - this.#offset - 1;
    while ((this.#configIndexes.at(-1) ?? 0) >= index) this.#configIndexes.pop();
    if (this.#stableIndex >= index) this.#stableIndex = logIndex(index - 1);
    // The new entries replacing the suffix must be handed out, after whatever is still in flight.
    if (this.#handedOutIndex >= index) this.#handedOutIndex = logIndex(index - 1);
  }

  /**
   * The fast back-off hint (etcd's findConflictByTerm): the largest index ≤ `index` whose term is
   * ≤ `t`, with that term. Everything after it can be skipped by a leader whose entry there has term t.
   */
  findConflictByTerm(index: LogIndex, t: Term): { index: LogIndex; term: Term } {
    let i = Math.min(index, this.lastIndex());
    for (; i > this.#offset; i--) {
      const entryTerm = this.termAt(logIndex(i))!;
      if (entryTerm <= t) return { index: logIndex(i), term: entryTerm };
    }
    return { index: logIndex(i), term: this.#offsetTerm };
  }

  commitTo(index: LogIndex): boolean {
    if (index <= this.committed) return false;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    if (this.#configCommitUnsynced === 0) this.#configCommitUnsynced = this.#firstConfigIn(this.committed, index);
    this.committed = index;
    return true;
  }

  /**
   * Whether a configuration entry is committed here while the commit index that covers it may not
   * be durable yet. A restart must never take back a configuration change this node saw committed:
   * the member it removed may have applied it already and will never campaign or catch up again,
   * and the cluster could be left needing its vote (the hard state is then synced, see Ready.mustSync).
   */
  configCommitUnsynced(): boolean {
    return this.#configCommitUnsynced !== 0;
  }

  /** The commit index through `index` is durable. */
  commitSyncedTo(index: LogIndex): void {
    if (this.#configCommitUnsynced === 0 || index < this.#configCommitUnsynced) return;
    this.#configCommitUnsynced = this.#firstConfigIn(index, this.committed);
  }

  /** The first config entry in (after, to], or 0. */
  #firstConfigIn(after: LogIndex, to: LogIndex): LogIndex {
    return this.#configIndexes.find((i) => i > after && i <= to) ?? logIndex(0);
  }

  /**
   * Entries the caller has not been given to persist yet, now handed out: the caller may still be
   * persisting earlier ones, and writes these after them.
   */
  takeUnstableEntries(): Entry[] {
    const entries = this.#entries.slice(this.#handedOutIndex - this.#offset);
    this.#handedOutIndex = this.lastIndex();
    return entries;
  }

  /** The caller made entries up to `index` (with that term) durable; ignored if since truncated. */
  stableTo(index: LogIndex, t: Term): void {
    if (index > this.#stableIndex && this.matchTerm(index, t)) this.#stableIndex = index;
  }

  /** Whether nextCommitted would hand out anything. */
  hasCommittedToApply(): boolean {
    return Math.min(this.committed, this.#stableIndex) > this.applying;
  }

  /** Committed entries not yet handed out; only durable ones, so a crash cannot un-apply them. */
  nextCommitted(bytesMax: number): Entry[] {
    const to = Math.min(this.committed, this.#stableIndex);
    if (to <= this.applying) return [];
    return this.slice(logIndex(this.applying + 1), logIndex(to), bytesMax);
  }

  applyingTo(index: LogIndex): void {
    assert(index <= this.committed, `applying ${index} beyond commit ${this.committed}`);
    if (index > this.applying) this.applying = index;
  }

  appliedTo(index: LogIndex): void {
    assert(index <= this.applying, `applied ${index} beyond what was handed out (${this.applying})`);
    if (index > this.applied) this.applied = index;
  }

  /**
   * Drops entries through `index`, which must be applied and durable: a snapshot covers them now.
   * Returns whether anything was dropped.
   */
  compact(index: LogIndex): boolean {
    if (index <= this.#offset) return false;
    assert(
      index <= this.applied && index <= this.#stableIndex,
      `compact ${index} beyond applied ${this.applied} or stable ${this.#stableIndex}`,
    );
    this.#offsetTerm = this.termAt(index)!;
    this.#entries = this.#entries.slice(index - this.#offset);
    this.#offset = index;
    while ((this.#configIndexes[0] ?? Infinity) <= index) this.#configIndexes.shift();
    return true;
  }

  /** Replaces the whole log by a snapshot's end point (a follower installing the leader's snapshot). */
  restore(index: LogIndex, t: Term): void {
    assert(index > this.committed, `restore to ${index} at or below commit ${this.committed}`);
    this.#offset = index;
    this.#offsetTerm = t;
    this.#entries = [];
    this.#configIndexes = [];
    this.#stableIndex = index;
    this.#handedOutIndex = index;
    this.committed = index;
    this.applying = index;
    this.applied = index;
    // The snapshot carries the configuration, and it is made durable before anything is answered.
    this.#configCommitUnsynced = logIndex(0);
  }

  static empty(): RaftLog {
    return new RaftLog({ offset: logIndex(0), offsetTerm: term(0), entries: [], committed: logIndex(0) });
  }
}
