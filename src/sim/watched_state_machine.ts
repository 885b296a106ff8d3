import type { StateMachine } from "../node/index.js";
import { snapshotInOnePiece, type RestoreInProgress, type SnapshotInProgress } from "../node/state_machine.js";
import type { LogIndex } from "../util/ids.js";

/** What the checkers see of a member's state machine. */
interface StateMachineWatch {
  /** A command was applied at `index`; `wrote` says whether the state changed. */
  applied(info: {
    readonly index: number;
    readonly command: Uint8Array;
    readonly result: unknown;
    readonly wrote: boolean;
  }): void;
  /** The state machine's own bytes at its applied `index`, from a snapshot taken or restored. */
  snapshot(index: number, data: Uint8Array): void;
}

/** The state machines the simulator runs know their applied index. */
export interface SimStateMachine<Result> extends StateMachine<Result> {
  appliedIndex(): LogIndex;
}

/** Passes everything through to `inner`, showing the checkers each apply, snapshot and restore. */
export class WatchedStateMachine<Result> implements StateMachine<Result> {
  readonly inner: SimStateMachine<Result>;
  readonly #watch: StateMachineWatch;
  /** A number that changes whenever the state does (the KV store's revision), to tell a write. */
  readonly #version: () => number;

  constructor(options: { inner: SimStateMachine<Result>; version: () => number; watch: StateMachineWatch }) {
    this.inner = options.inner;
    this.#version = options.version;
    this.#watch = options.watch;
  }

  apply(command: Uint8Array, index: LogIndex): Result {
    const before = this.#version();
    const result = this.inner.apply(command, index);
    this.#watch.applied({ index, command, result, wrote: this.#version() !== before });
    return result;
  }

  snapshot(): Uint8Array {
    const data = this.inner.snapshot();
    this.#watch.snapshot(this.inner.appliedIndex(), data);
    return data;
  }

  restore(snapshot: Uint8Array): void {
    this.inner.restore(snapshot);
    this.#watch.snapshot(this.inner.appliedIndex(), snapshot);
  }

  /** Restores a piece at a time when `inner` can, else all at the first step. */
  beginRestore(snapshot: Uint8Array): RestoreInProgress {
    const progress = this.inner.beginRestore?.(snapshot) ?? {
      step: () => {
        this.inner.restore(snapshot);
        return true;
      },
    };
    return {
      step: (bytesMax) => {
        if (!progress.step(bytesMax)) return false;
        this.#watch.snapshot(this.inner.appliedIndex(), snapshot);
        return true;
      },
    };
  }

  /**
   * Encodes a piece at a time when `inner` can, else takes the whole snapshot now and hands it out
   * as one piece; the checkers see the pieces put together (the node keeps none of them).
   */
  beginSnapshot(): SnapshotInProgress {
    const index = this.inner.appliedIndex();
    const progress = this.inner.beginSnapshot?.() ?? snapshotInOnePiece(this.inner.snapshot());
    const pieces: Uint8Array[] = [];
    return {
      step: (bytesMax) => {
        const piece = progress.step(bytesMax);
        pieces.push(piece.bytes);
        if (piece.done) this.#watch.snapshot(index, joined(pieces));
        return piece;
      },
    };
  }
}

function joined(pieces: readonly Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const out = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}
