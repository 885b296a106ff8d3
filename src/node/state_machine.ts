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
 * followers), and writes each piece to the snapshot file as it comes, so the whole snapshot is
 * never held in memory. The pieces must add up to what `snapshot()` returned when `beginSnapshot`
 * was called, although `apply` runs in between; `restore` may abandon a snapshot in progress.
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
  beginSnapshot?(): SnapshotInProgress;
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
 * A snapshot being encoded: each `step` encodes about `bytesMax` more bytes and returns them (the
 * caller may keep them), with whether they were the last.
 */
export interface SnapshotInProgress {
  step(bytesMax: number): { readonly bytes: Uint8Array; readonly done: boolean };
}

/** A snapshot encoded already, as a single piece. */
export function snapshotInOnePiece(bytes: Uint8Array): SnapshotInProgress {
  return { step: () => ({ bytes, done: true }) };
}
