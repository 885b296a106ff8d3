import type { EngineCore, EngineTypes, SnapshotTaken } from "../engine/engine.js";
import type { StorageError } from "../storage/index.js";
import { logIndex, type LogIndex } from "../util/ids.js";
import type { Clock } from "./clock.js";
import type { EngineStorage } from "./engine_storage.js";
import { encodeNodeSnapshot, nodeSnapshotHeader, type AddressBook } from "./members.js";
import type { NodeObserver } from "./node_options.js";
import type { SnapshotInProgress, StateMachine } from "./state_machine.js";

/** Snapshot bytes encoded per turn of the event loop: a few milliseconds of work. */
const snapshotStepBytes = 1 << 20;

/** A node snapshot through `index`: the address book as it was then, and the state machine's data. */
interface SnapshotParts {
  readonly index: LogIndex;
  readonly data: Uint8Array;
  /** When encoding began (Clock.now()). */
  readonly started: number;
}

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
  /** Wakes the Ready loop: an encoded snapshot is waiting to be stored. */
  readonly wake: () => void;
  readonly stopping: () => boolean;
  readonly fail: (error: StorageError) => void;
}

/**
 * When this node takes a snapshot of its state machine, and how: encoded a piece per turn of the
 * event loop when the state machine can, handed to the core by the Ready loop, written in the
 * background.
 */
export class SnapshotPolicy<E extends EngineTypes> {
  readonly #o: SnapshotPolicyOptions<E>;
  #lastSnapshotIndex: number;
  #bytesSinceSnapshot = 0;
  /** A snapshot being encoded a piece per turn of the event loop (StateMachine.beginSnapshot). */
  #encoding: SnapshotInProgress | undefined;
  /** An encoded snapshot waiting for the Ready loop to store it. */
  #encoded: SnapshotParts | undefined;
  /** Settles once every snapshot handed to storage so far is written (or has failed). */
  #saving: Promise<void> = Promise.resolve();

  constructor(options: SnapshotPolicyOptions<E>, lastSnapshotIndex: number) {
    this.#o = options;
    this.#lastSnapshotIndex = lastSnapshotIndex;
  }

  /** Whether an encoded snapshot waits for the Ready loop. */
  hasEncoded(): boolean {
    return this.#encoded !== undefined;
  }

  /** Entries of `bytes` bytes were applied. */
  applied(bytes: number): void {
    this.#bytesSinceSnapshot += bytes;
  }

  /** The leader's snapshot through `index` replaced the state: ours in the making are older. */
  installed(index: number): void {
    this.#encoding = undefined;
    this.#encoded = undefined;
    this.#lastSnapshotIndex = index;
  }

  /** Settles once every snapshot handed to storage so far is written (or has failed). */
  saved(): Promise<void> {
    return this.#saving;
  }

  /** Called by the Ready loop: stores an encoded snapshot, or starts one if one is due at `applied`. */
  step(applied: number): void {
    if (this.#o.raw.capabilities.snapshots === false) return;
    const encoded = this.#encoded;
    if (encoded !== undefined) {
      this.#encoded = undefined;
      this.#store(encoded);
      return;
    }
    const due =
      applied - this.#lastSnapshotIndex >= this.#o.snapshotEntries || this.#bytesSinceSnapshot >= this.#o.snapshotBytes;
    if (!due || applied === this.#lastSnapshotIndex || this.#encoding !== undefined) return;
    this.#bytesSinceSnapshot = 0;
    const index = logIndex(applied);
    this.#lastSnapshotIndex = index;
    const { stateMachine, clock } = this.#o;
    const beginSnapshot = stateMachine.beginSnapshot?.bind(stateMachine);
    const started = clock.now();
    if (beginSnapshot === undefined) {
      this.#store({ index, data: encodeNodeSnapshot(this.#o.book(), stateMachine.snapshot()), started });
      return;
    }
    // The book changes in place as config entries apply; the snapshot needs it as it is now.
    const header = nodeSnapshotHeader(this.#o.book());
    const progress = beginSnapshot(header.length);
    this.#encoding = progress;
    this.#encode(progress, { index, header, started });
  }

  /** Encodes one piece per turn of the event loop, then hands the snapshot to the Ready loop. */
  #encode(progress: SnapshotInProgress, at: { index: LogIndex; header: Uint8Array; started: number }): void {
    this.#o.clock.soon(() => {
      if (this.#encoding !== progress || this.#o.stopping()) return;
      const data = progress.step(snapshotStepBytes);
      if (data === undefined) {
        this.#encode(progress, at);
        return;
      }
      this.#encoding = undefined;
      data.set(at.header);
      this.#encoded = { index: at.index, data, started: at.started };
      this.#o.wake();
    });
  }

  /**
   * Hands the snapshot to the core now and writes it in the background: the Ready loop must not
   * wait for a large file's fdatasync, or heartbeats would. Until the file is durable a follower
   * that needs it is simply sent it later, and the WAL keeps the entries it covers (node storage
   * compacts only after the file is durable). An engine whose core may count on the snapshot only
   * once it is durable (snapshotAfterStore) is told after the write instead.
   */
  #store(parts: SnapshotParts): void {
    const { index, data } = parts;
    const { raw, snapshotKeepEntries } = this.#o;
    const taking = { index, data, keepEntries: snapshotKeepEntries };
    if (!raw.capabilities.snapshotAfterStore) {
      const taken = raw.snapshotTaken(taking);
      if (taken !== undefined) this.#write(taken, parts);
      return;
    }
    this.#write({ index, store: undefined, compactThrough: undefined }, parts, () => {
      if (this.#o.stopping()) return;
      raw.snapshotTaken(taking);
      this.#o.wake();
    });
  }

  #write(taken: SnapshotTaken<E["snapshot"]>, parts: SnapshotParts, stored?: () => void): void {
    const { index, data, started } = parts;
    const { storage, observer, clock } = this.#o;
    const saving = storage.saveSnapshot(taken, data).then((saved) => {
      if (!saved.ok) {
        this.#o.fail(saved.error);
        return;
      }
      observer?.snapshot?.({ kind: "taken", index, bytes: data.byteLength, seconds: (clock.now() - started) / 1000 });
      if (taken.compactThrough !== undefined) observer?.compacted?.(taken.compactThrough);
      stored?.();
    });
    this.#saving = this.#saving.then(() => saving);
  }
}
