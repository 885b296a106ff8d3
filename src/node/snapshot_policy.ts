import type { EngineCore, EngineTypes, SnapshotTaken } from "../engine/engine.js";
import type { SnapshotFileWriter, StorageError } from "../storage/index.js";
import { logIndex } from "../util/ids.js";
import type { Clock } from "./clock.js";
import type { EngineStorage } from "./engine_storage.js";
import { nodeSnapshotHeader, type AddressBook } from "./members.js";
import type { NodeObserver } from "./node_options.js";
import { snapshotInOnePiece, type SnapshotInProgress, type StateMachine } from "./state_machine.js";

/** Snapshot bytes encoded per turn of the event loop: a few milliseconds of work. */
const snapshotStepBytes = 1 << 20;

interface SnapshotPolicyOptions<E extends EngineTypes> {
  readonly raw: EngineCore<E>;
  readonly storage: EngineStorage<E>;
  readonly stateMachine: StateMachine;
  readonly clock: Clock;
  readonly observer: NodeObserver | undefined;
  /** Take a snapshot every this many applied entries, or this many applied command bytes. */
  readonly snapshotEntries: number;
  readonly snapshotBytes: number;
  readonly snapshotKeepEntries: number;
  /** The address book now; it changes in place as config entries apply. */
  readonly book: () => AddressBook;
  /** Wakes the Ready loop: the core may have work after learning of a durable snapshot. */
  readonly wake: () => void;
  readonly stopping: () => boolean;
  readonly fail: (error: StorageError) => void;
}

/**
 * When this node takes a snapshot of its state machine, and how: encoded a piece per turn of the
 * event loop when the state machine can, each piece written to the snapshot file as it comes (no
 * one holds the whole snapshot), the file made durable in the background.
 */
export class SnapshotPolicy<E extends EngineTypes> {
  readonly #o: SnapshotPolicyOptions<E>;
  #lastSnapshotIndex: number;
  #bytesSinceSnapshot = 0;
  /** Names the snapshot being encoded into its file; replaced or cleared, it is abandoned. */
  #taking: object | undefined;
  /** Settles once every snapshot begun so far is written (or abandoned, or has failed). */
  #saving: Promise<void> = Promise.resolve();

  constructor(options: SnapshotPolicyOptions<E>, lastSnapshotIndex: number) {
    this.#o = options;
    this.#lastSnapshotIndex = lastSnapshotIndex;
  }

  /** Entries of `bytes` bytes were applied. */
  applied(bytes: number): void {
    this.#bytesSinceSnapshot += bytes;
  }

  /**
   * The leader's snapshot through `index` is about to replace the state: ours in the making is
   * older, and its file must not be finished after the leader's (the WAL's marker never goes back).
   */
  installed(index: number): void {
    this.#taking = undefined;
    this.#lastSnapshotIndex = index;
  }

  /** Settles once every snapshot begun so far is written (or abandoned, or has failed). */
  saved(): Promise<void> {
    return this.#saving;
  }

  /** Called by the Ready loop once entries through `applied` are applied: starts a snapshot if one is due. */
  step(applied: number): void {
    const { raw, stateMachine, clock, snapshotKeepEntries } = this.#o;
    if (raw.capabilities.snapshots === false) return;
    const due =
      applied - this.#lastSnapshotIndex >= this.#o.snapshotEntries || this.#bytesSinceSnapshot >= this.#o.snapshotBytes;
    if (!due || applied <= this.#lastSnapshotIndex || this.#taking !== undefined) return;
    this.#bytesSinceSnapshot = 0;
    const index = logIndex(applied);
    this.#lastSnapshotIndex = index;
    const started = clock.now();
    // Raft records the snapshot now, at the index applied last, with the configuration in force;
    // until its file is durable a follower that needs it is sent it later, and the WAL keeps the
    // entries it covers (storage compacts only after the file is durable). An engine whose core may
    // count on it only once it is durable (snapshotAfterStore) is told after the write instead.
    const taken = raw.capabilities.snapshotAfterStore
      ? { index, store: undefined, compactThrough: undefined }
      : raw.snapshotTaken({ index, keepEntries: snapshotKeepEntries });
    // The leader's snapshot replaced the log past `index`.
    if (taken === undefined) return;
    // The book changes in place as config entries apply; the snapshot needs it as it is now.
    const header = nodeSnapshotHeader(this.#o.book());
    const progress = stateMachine.beginSnapshot?.() ?? snapshotInOnePiece(stateMachine.snapshot());
    const taking = {};
    this.#taking = taking;
    const file = this.#o.storage.beginSnapshot(taken);
    const done = this.#take(taking, { taken, file, progress, header, started });
    this.#saving = this.#saving.then(() => done);
  }

  /**
   * Writes the address book, then a piece of the state machine's encoding per turn of the event
   * loop, each to the file once the one before is written, then makes the file durable. The Ready
   * loop goes on meanwhile: a large file's fdatasync must not hold up heartbeats.
   */
  async #take(
    taking: object,
    t: {
      taken: SnapshotTaken<E["snapshot"]>;
      file: SnapshotFileWriter;
      progress: SnapshotInProgress;
      header: Uint8Array;
      started: number;
    },
  ): Promise<void> {
    const { file, progress, taken } = t;
    const { raw, observer, clock } = this.#o;
    const abandoned = (): boolean => this.#taking !== taking || this.#o.stopping();
    let bytes = t.header.length;
    let written = await file.write(t.header);
    for (let done = false; written.ok && !done;) {
      // One piece per turn: a write may settle within the turn (an empty piece), and applying goes on between.
      await new Promise<void>((resolve) => clock.soon(resolve));
      if (abandoned()) return file.abort();
      const piece = progress.step(snapshotStepBytes);
      done = piece.done;
      bytes += piece.bytes.length;
      written = await file.write(piece.bytes);
    }
    if (!written.ok) {
      this.#o.fail(written.error);
      return;
    }
    if (abandoned()) return file.abort();
    this.#taking = undefined;
    const saved = await file.finish();
    if (!saved.ok) {
      this.#o.fail(saved.error);
      return;
    }
    observer?.snapshot?.({ kind: "taken", index: taken.index, bytes, seconds: (clock.now() - t.started) / 1000 });
    if (taken.compactThrough !== undefined) observer?.compacted?.(taken.compactThrough);
    if (!raw.capabilities.snapshotAfterStore || this.#o.stopping()) return;
    raw.snapshotTaken({ index: taken.index, keepEntries: this.#o.snapshotKeepEntries });
    this.#o.wake();
  }
}
