import type { StateMachine } from "../node/state_machine.js";
import { logIndex, type LogIndex } from "../util/ids.js";

/**
 * The non-idempotent state machine of the design notes: every command takes the next ID from a
 * counter. If a crash ever made a node apply a command twice, or restore a counter that does not
 * match its applied index, the same ID would be handed out for two commands.
 */
export class IdAllocator implements StateMachine<number> {
  #next = 1;
  #appliedIndex = logIndex(0);

  apply(_command: Uint8Array, index: LogIndex): number {
    this.#appliedIndex = index;
    return this.#next++;
  }

  appliedIndex(): LogIndex {
    return this.#appliedIndex;
  }

  /** IDs handed out so far. */
  issued(): number {
    return this.#next - 1;
  }

  snapshot(): Uint8Array {
    const bytes = new Uint8Array(16);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, this.#next);
    view.setFloat64(8, this.#appliedIndex);
    return bytes;
  }

  restore(snapshot: Uint8Array): void {
    const view = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
    this.#next = view.getFloat64(0);
    this.#appliedIndex = logIndex(view.getFloat64(8));
  }
}
