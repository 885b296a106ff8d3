import type { EngineEntry } from "../engine/engine.js";
import { decodeConfEntry, type NodeId } from "../raft/index.js";
import { assert } from "../util/assert.js";
import type { LogIndex } from "../util/ids.js";
import type { Clock } from "./clock.js";
import { decodeNodeSnapshot, type AddressBook } from "./members.js";
import type { EngineNodeOptions, NodeObserver } from "./node_options.js";
import type { ForwardedProposals, PendingProposals } from "./pending.js";
import { unwrap } from "./proposal_envelope.js";
import type { RestoreInProgress, StateMachine } from "./state_machine.js";

/** Snapshot bytes restored per turn of the event loop: a few milliseconds of work. */
const restoreStepBytes = 1 << 20;

/** A snapshot's index and its data (the address book and the state machine's state). */
interface NodeSnapshot {
  readonly index: LogIndex;
  readonly data: Uint8Array;
}

interface ApplierOptions {
  readonly id: NodeId;
  /** Tells this run's forwarded proposals from those of an earlier run of this member. */
  readonly epoch: number;
  readonly stateMachine: StateMachine;
  readonly pending: PendingProposals;
  readonly forwarded: ForwardedProposals;
  readonly clock: Clock;
  readonly observer: NodeObserver | undefined;
  readonly onMembersChanged: EngineNodeOptions<never>["onMembersChanged"];
}

/**
 * The state machine's side of the Ready loop: committed entries applied in order, their results
 * handed to the proposals waiting for them, configuration entries kept in the address book, and a
 * snapshot (ours at start, or the leader's) restored.
 */
export class Applier {
  readonly #o: ApplierOptions;
  #book: AddressBook;
  #applied: number;

  constructor(options: ApplierOptions, book: AddressBook, snapshot: NodeSnapshot | undefined) {
    this.#o = options;
    this.#book = book;
    if (snapshot !== undefined) options.stateMachine.restore(this.adoptBook(snapshot.data));
    this.#applied = snapshot?.index ?? 0;
  }

  /** The index applied last. */
  get applied(): number {
    return this.#applied;
  }

  /** The members' names and addresses as of the configuration in force. */
  get book(): AddressBook {
    return this.#book;
  }

  /** Applies committed entries in order; returns their bytes, for the snapshot policy. */
  apply(entries: readonly EngineEntry[]): number {
    if (entries.length === 0) return 0;
    const { stateMachine, forwarded, pending, clock, observer } = this.#o;
    const started = clock.now();
    let bytes = 0;
    for (const entry of entries) {
      const proposal = entry.kind === "command" && entry.data.byteLength > 0 ? unwrap(entry.data) : undefined;
      const result = proposal === undefined ? undefined : stateMachine.apply(proposal.command, entry.index);
      const from = proposal?.from;
      if (from !== undefined && from.origin === this.#o.id && from.epoch === this.#o.epoch)
        forwarded.applied(from.seq, result);
      this.#applied = entry.index;
      bytes += entry.data.byteLength;
      pending.applied(entry.index, entry.tag, result);
    }
    observer?.applied?.((clock.now() - started) / 1000, entries.length);
    observer?.entriesApplied?.(entries);
    return bytes;
  }

  /** A config entry the core put in force: the names and addresses follow it. */
  applyConfig(entry: EngineEntry): void {
    const observer = this.#o.observer;
    if (observer?.configApplied !== undefined) {
      const conf = decodeConfEntry(entry.data);
      if (conf !== undefined) observer.configApplied(entry.index, conf);
    }
    for (const change of this.#book.applyEntryData(entry.data)) this.#o.onMembersChanged?.(change);
  }

  /** Takes the address book from a node snapshot; returns the state machine's part of it. */
  adoptBook(bytes: Uint8Array): Uint8Array {
    const decoded = decodeNodeSnapshot(bytes);
    // Snapshot files are checksummed and peer frames validated: undecodable bytes here are a bug.
    assert(decoded !== undefined, "a snapshot without a readable address book");
    this.#book = decoded.book;
    for (const [id, address] of decoded.book.entries()) this.#o.onMembersChanged?.({ added: [id, address] });
    return decoded.data;
  }

  /**
   * Restores the state machine from the leader's snapshot (if any), whose book was adopted already,
   * then calls `then`: at once, or, when the state machine restores a piece at a time and the snapshot is larger
   * than one piece, a piece per turn of the event loop, and then the returned promise settles after
   * `then`. The Readies after this one wait for it; heartbeats and their answers do not (ReadyPipeline's
   * sendEarly), and reads see the state as it was until the last piece.
   */
  install(snapshot: NodeSnapshot | undefined, state: Uint8Array | undefined, then: () => void): Promise<void> | void {
    if (snapshot === undefined || state === undefined) {
      then();
      return;
    }
    const { stateMachine, clock } = this.#o;
    const started = clock.now();
    const progress = stateMachine.beginRestore?.(state);
    if (progress === undefined) stateMachine.restore(state);
    else if (!progress.step(restoreStepBytes)) return this.#restoreRest(progress, snapshot, started, then);
    this.#installed(snapshot, started);
    then();
  }

  async #restoreRest(progress: RestoreInProgress, snapshot: NodeSnapshot, started: number, then: () => void) {
    const { clock } = this.#o;
    do await new Promise<void>((resolve) => clock.soon(resolve));
    while (!progress.step(restoreStepBytes));
    this.#installed(snapshot, started);
    then();
  }

  #installed(snapshot: NodeSnapshot, restoring: number): void {
    const { pending, forwarded, clock, observer } = this.#o;
    const { index } = snapshot;
    observer?.snapshot?.({
      kind: "installed",
      index,
      bytes: snapshot.data.byteLength,
      seconds: (clock.now() - restoring) / 1000,
    });
    this.#applied = index;
    pending.coveredBySnapshot(index);
    // Whether the snapshot holds them is unknown.
    forwarded.failAll({ type: "timeout" });
  }
}
