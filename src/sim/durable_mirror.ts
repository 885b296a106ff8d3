import type { DurableState, HardState, Ready, Term } from "../raft/index.js";
import { logIndex, term } from "../util/ids.js";

/**
 * What one life of a member has made durable, as its node reports it (a Ready persisted, or the
 * state it recovered at start): its hard state and the term of every entry. Acknowledgements and
 * commits are held to it, and the next life must recover at least this much.
 */
export class DurableMirror {
  hardState: HardState;
  /** A hard state that moved only its commit index: the node writes it with its next durable write. */
  #deferred: HardState | undefined;
  #offset: number;
  #offsetTerm: Term;
  #terms: Term[] = [];
  /** Indexes of the durable config entries, ascending. */
  #configs: number[] = [];

  constructor(durable: DurableState) {
    this.hardState = durable.hardState;
    this.#offset = durable.snapshot?.meta.index ?? 0;
    this.#offsetTerm = durable.snapshot?.meta.term ?? term(0);
    for (const entry of durable.entries) {
      if (entry.index <= this.#offset) continue;
      this.#terms.push(entry.term);
      if (entry.kind === "config") this.#configs.push(entry.index);
    }
  }

  persisted(ready: Ready): void {
    if (!ready.mustSync) {
      this.#deferred = ready.hardState ?? this.#deferred;
      return;
    }
    const meta = ready.snapshot?.meta;
    if (meta !== undefined) {
      this.#offset = meta.index;
      this.#offsetTerm = meta.term;
      this.#terms = [];
      this.#configs = [];
    }
    const first = ready.entries[0];
    if (first !== undefined) {
      this.#terms.length = Math.max(0, first.index - this.#offset - 1);
      this.#configs = this.#configs.filter((index) => index < first.index);
    }
    for (const entry of ready.entries) {
      this.#terms.push(entry.term);
      if (entry.kind === "config") this.#configs.push(entry.index);
    }
    const hardState = ready.hardState ?? this.#deferred;
    this.#deferred = undefined;
    if (hardState !== undefined) this.hardState = hardState;
  }

  lastIndex(): number {
    return this.#offset + this.#terms.length;
  }

  /** The term of the durable entry at `index`; undefined beyond the log, the snapshot's term at or before it. */
  termAt(index: number): Term | undefined {
    if (index <= this.#offset) return index === this.#offset ? this.#offsetTerm : undefined;
    return this.#terms[index - this.#offset - 1];
  }

  /**
   * The commit index this member could not forget in a crash: the one in its durable hard state,
   * or the config entry before its last durable one (a config entry proves the ones before it committed).
   */
  commitKnown(): number {
    return Math.max(this.hardState.commit, this.#configs.at(-2) ?? 0, this.#offset);
  }

  /** The first durable config entry in (after, to], if any. */
  configIn(after: number, to: number): number | undefined {
    return this.#configs.find((index) => index > after && index <= to);
  }

  /** The snapshot the log starts after. */
  offset(): number {
    return logIndex(this.#offset);
  }
}
