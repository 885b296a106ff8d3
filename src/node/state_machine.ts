import type { LogIndex } from "../util/ids.js";

/**
 * The application's replicated state. Raft calls `apply` for each committed command, in log order,
 * exactly once per index in the state's history: the snapshot records the index it ends at, and a
 * restored state machine continues after it, so a command that is not idempotent (an ID generator)
 * is never applied twice.
 *
 * `apply` must be deterministic: the same commands in the same order give the same state and results
 * on every node. `snapshot` returns the state as bytes; `restore` replaces the state with them.
 *
 * A large state should also offer `beginSnapshot`: the node then encodes snapshots a piece at a time
 * between its other work, where one `snapshot()` call would stall it (and a stalled leader loses its
 * followers). The pieces must add up to what `snapshot()` returned when `beginSnapshot` was called,
 * although `apply` runs in between, after `headroomBytes` bytes left for the node (its own header:
 * this saves copying a large snapshot once more); `restore` may abandon a snapshot in progress.
 *
 * Likewise `beginRestore`: the node then restores the leader's snapshot a piece at a time, answering
 * heartbeats and reads in between, where one `restore` call would stall it long enough to lose its
 * leader. The state must stay as it was (readable) until the last step replaces it; the node applies
 * nothing before then.
 */
export interface StateMachine<Result = unknown> {
  apply(command: Uint8Array, index: LogIndex): Result;
  snapshot(): Uint8Array;
  restore(snapshot: Uint8Array): void;
  beginSnapshot?(headroomBytes: number): SnapshotInProgress;
  beginRestore?(snapshot: Uint8Array): RestoreInProgress;
}

/**
 * A snapshot being restored: each `step` does about `bytesMax` bytes of work and says whether the
 * state is now the snapshot's; a step throws if the snapshot is not valid (the state stays as it was).
 */
export interface RestoreInProgress {
  step(bytesMax: number): boolean;
}

/**
 * A snapshot being encoded: each `step` does about `bytesMax` bytes of work; the last returns the
 * snapshot, its first `headroomBytes` bytes left for the caller.
 */
export interface SnapshotInProgress {
  step(bytesMax: number): Uint8Array | undefined;
}
