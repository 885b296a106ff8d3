import { logIndex, NO_NODE, term, type LogIndex } from "../util/ids.js";
import { assert } from "../util/assert.js";
import type { DurableState, Entry, HardState } from "../raft/index.js";

/**
 * What a simulated node has made durable, with the WAL's contract: a save is all-or-nothing, an
 * append at index i replaces every stored entry from i on, and nothing unsaved survives a crash.
 */
export class MemoryStorage {
  #hardState: HardState = { term: term(0), vote: NO_NODE, commit: logIndex(0) };
  #entries: Entry[] = [];

  save(hardState: HardState | undefined, entries: readonly Entry[]): void {
    const first = entries[0];
    if (first !== undefined) {
      assert(first.index >= 1 && first.index <= this.#entries.length + 1, `gap before stored entry ${first.index}`);
      this.#entries.length = first.index - 1;
      this.#entries.push(...entries);
    }
    if (hardState !== undefined) {
      assert(hardState.commit <= this.#entries.length, `durable commit ${hardState.commit} beyond durable log`);
      this.#hardState = hardState;
    }
  }

  hardState(): HardState {
    return this.#hardState;
  }

  lastIndex(): LogIndex {
    return logIndex(this.#entries.length);
  }

  durableState(): DurableState {
    return { hardState: this.#hardState, entries: [...this.#entries] };
  }
}
