import type { StorageError } from "../storage/index.js";
import { logIndex, type LogIndex } from "../util/ids.js";
import type { Clock } from "./clock.js";
import type { RaftEngine } from "./engine.js";
import { encodeNodeSnapshot, nodeSnapshotHeader, type AddressBook } from "./members.js";
import type { NodeStorage } from "./node_storage.js";
import type { NodeObserver } from "./node_options.js";
import type { SnapshotInProgress, StateMachine } from "./state_machine.js";

/** Snapshot bytes encoded per turn of the event loop: a few milliseconds of work. */
const snapshotStepBytes = 1 << 20;

/**
 * The bytes the core keeps for this node's snapshots: none. Every snapshot this node holds is in
 * its data directory, and one it sends is read back from there (RaftNode's send), so a large state
 * is not held in memory twice.
 */
export const snapshotBytesInCore = new Uint8Array(0);

/** A node snapshot through `index`: the address book as it was then, and the state machine's data. */
interface SnapshotParts {
  readonly index: LogIndex;
  readonly data: Uint8Array;
  /** When encoding began (Clock.now()). */
  readonly started: number;
}

interface SnapshotPolicyOptions {
  readonly raw: RaftEngine;
  readonly storage: NodeStorage;
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
export class SnapshotPolicy {
  readonly #o: SnapshotPolicyOptions;
  #lastSnapshotIndex: number;
  #bytesSinceSnapshot = 0;
  /** A snapshot being encoded a piece per turn of the event loop (StateMachine.beginSnapshot). */
  #encoding: SnapshotInProgress | undefined;
  /** An encoded snapshot waiting for the Ready loop to store it. */
  #encoded: SnapshotParts | undefined;
  /** Settles once every snapshot handed to storage so far is written (or has failed). */
  #saving: Promise<void> = Promise.resolve();

  constructor(options: SnapshotPolicyOptions, lastSnapshotIndex: number) {
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
   * compacts only after the file is durable).
   */
  #store(parts: SnapshotParts): void {
    const { index, data, started } = parts;
    const { raw, storage, observer, clock, snapshotKeepEntries } = this.#o;
    const compactIndex = logIndex(Math.max(0, index - snapshotKeepEntries));
    const compactTerm = raw.termAt(compactIndex);
    const kept = raw.snapshotTaken({ index, data: snapshotBytesInCore, keepEntries: snapshotKeepEntries });
    if (kept === undefined) return;
    // Below the log's start the WAL was compacted already; only the snapshot file is new.
    const compact = compactTerm === undefined ? undefined : { index: compactIndex, term: compactTerm };
    const saving = storage.saveSnapshot({ meta: kept.meta, data }, compact).then((saved) => {
      if (!saved.ok) {
        this.#o.fail(saved.error);
        return;
      }
      observer?.snapshot?.({ kind: "taken", index, bytes: data.byteLength, seconds: (clock.now() - started) / 1000 });
      if (compact !== undefined && compact.index > 0) observer?.compacted?.(compact.index);
    });
    this.#saving = this.#saving.then(() => saving);
  }
}
