import type { StateMachine } from "../node/state_machine.js";

/**
 * The non-idempotent state machine of the design notes: every command takes the next ID from a
 * counter. If a crash ever made a node apply a command twice, or restore a counter that does not
 * match its applied index, the same ID would be handed out for two commands.
 */
export class IdAllocator implements StateMachine<number> {
  #next = 1;

  apply(): number {
    return this.#next++;
  }

  snapshot(): Uint8Array {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, this.#next);
    return bytes;
  }

  restore(snapshot: Uint8Array): void {
    this.#next = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength).getFloat64(0);
  }
}
