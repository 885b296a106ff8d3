import type { LogIndex } from "../util/ids.js";

/**
 * The application's replicated state. Raft calls `apply` for each committed command, in log order,
 * exactly once per index in the state's history: the snapshot records the index it ends at, and a
 * restored state machine continues after it, so a command that is not idempotent (an ID generator)
 * is never applied twice.
 *
 * `apply` must be deterministic: the same commands in the same order give the same state and results
 * on every node. `snapshot` returns the state as bytes; `restore` replaces the state with them.
 */
export interface StateMachine<Result = unknown> {
  apply(command: Uint8Array, index: LogIndex): Result;
  snapshot(): Uint8Array;
  restore(snapshot: Uint8Array): void;
}
