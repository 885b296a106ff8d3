import { logIndex, NO_NODE, term, type LogIndex, type NodeId, type Term } from "../util/ids.js";
import {
  Raft,
  type ConfChange,
  type ConfChangeResult,
  type Config,
  type DurableState,
  type Forwarded,
  type ProposeResult,
  type RaftStats,
  type ReadIndexResult,
  type ReadState,
  type StepResult,
  type TransferError,
  type Message,
  type RaftOptions,
  type ReadOnlyMode,
  type Entry,
  type HardState,
  type Role,
  type Snapshot,
} from "./raft.js";

export type { ReadIndexResult } from "./raft.js";

/** Volatile facts about a node, for the application and for checkers; never persisted. */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId;
  readonly term: Term;
}

/**
 * The work a node asks its driver to do, in this order:
 * 1. persist `snapshot` (if present: the leader's, replacing the whole log and the state machine),
 *    `hardState` (if present) and `entries` (an append at index i replaces any stored entries from
 *    i on), with one durability barrier for all of them; restore the state machine from `snapshot`;
 * 2. send `messagesAfterPersist` — they promise what step 1 made durable (votes, acknowledgements);
 *    `messages` may be sent at once, even before step 1;
 * 3. apply `committedEntries` in order and serve `readStates` once applied through their index;
 * 4. call `advance(ready)`.
 */
export interface Ready {
  readonly softState: SoftState;
  readonly hardState: HardState | undefined;
  readonly snapshot: Snapshot | undefined;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  /**
   * Whether step 1 needs its durability barrier: true when there are entries, a snapshot, a new
   * term or vote, or a commit index that passed a configuration entry. A hard state that differs
   * only in `commit` may otherwise be written without one (or not yet written): the commit index is
   * volatile in Raft, and a restarted node learns it again from the leader or from its own next
   * commit (etcd's MustSync). A configuration change is the exception: a restart must not revert
   * one this node saw committed (RaftLog.configCommitUnsynced).
   */
  readonly mustSync: boolean;
}

export interface Status extends SoftState {
  readonly id: NodeId;
  readonly commitIndex: LogIndex;
  readonly appliedIndex: LogIndex;
  readonly lastIndex: LogIndex;
  readonly snapshotIndex: LogIndex;
  readonly stats: Readonly<RaftStats>;
}

/**
 * The public face of the pure consensus core: drive it with tick/step/propose/readIndex, collect
 * its work with ready(), acknowledge with advance(). It performs no I/O and reads no clock.
 */
export class RawNode {
  readonly #raft: Raft;
  #persistedHardState: HardState;
  /**
   * Checking every invariant after every input is cheap at simulator sizes and catches bugs early;
   * the constant-time ones run always.
   */
  readonly #checkAllInvariants: boolean;

  constructor(options: RaftOptions & { checkInvariants?: boolean }, durable?: DurableState) {
    this.#raft = new Raft(options, durable);
    // What is on disk, not what the constructor made of it: a bootstrap must be persisted.
    this.#persistedHardState = durable?.hardState ?? { term: term(0), vote: NO_NODE, commit: logIndex(0) };
    this.#checkAllInvariants = options.checkInvariants ?? false;
  }

  get id(): NodeId {
    return this.#raft.id;
  }

  tick(): void {
    this.#raft.tick();
    this.#afterInput();
  }

  /** Feeds one message from a peer. A stale or unexpected message is dropped and counted, never thrown. */
  step(m: Message): StepResult {
    if (m.to !== this.#raft.id || m.from === this.#raft.id) {
      this.#raft.stats.messagesDropped++;
      return { ok: false, reason: "malformed" };
    }
    const result = this.#raft.step(m);
    this.#afterInput();
    return result;
  }

  /**
   * Proposes application data. On the leader the result names the entry's index and term (it is
   * applied only if that index commits with that term); a follower forwards it to the leader.
   */
  propose(data: Uint8Array): ProposeResult | Forwarded {
    return this.proposeBatch([data]);
  }

  /** Proposes several items as consecutive entries; on a leader `index` is the last one's. */
  proposeBatch(data: readonly Uint8Array[]): ProposeResult | Forwarded {
    const result = this.#raft.propose(data);
    this.#afterInput();
    return result;
  }

  /**
   * Asks for a linearizable read point: a ReadState with `context` appears in a later Ready once
   * the leader has confirmed it still leads; the read may be served after applying through its index.
   * In "lease" mode a leader inside its check-quorum lease answers without a round trip.
   */
  readIndex(context: Uint8Array, mode: ReadOnlyMode = this.#raft.options.readOnlyMode): ReadIndexResult {
    const result = this.#raft.readIndex(context, mode);
    this.#afterInput();
    return result;
  }

  /**
   * Proposes a membership change (leader only): one change, or several made at once in one entry
   * (replacing voters). It takes effect when its entry is applied; voter changes pass through a
   * joint configuration that the leader leaves on its own.
   */
  proposeConfChange(changes: ConfChange | readonly ConfChange[]): ConfChangeResult {
    const result = this.#raft.proposeConfChange(isChangeList(changes) ? changes : [changes]);
    this.#afterInput();
    return result;
  }

  /** Hands leadership to `to` (leader only); proposals are refused until it completes or is abandoned. */
  transferLeader(to: NodeId): { ok: true } | { ok: false; error: TransferError } {
    const result = this.#raft.transferLeader(to);
    this.#afterInput();
    return result;
  }

  /** The configuration in force (as of the last applied config entry). */
  config(): Config {
    return this.#raft.config();
  }

  /** Starts an election at once, as if the election timeout had passed (used by tests and tools). */
  campaign(): void {
    this.#raft.campaignNow();
    this.#afterInput();
  }

  hasReady(): boolean {
    const r = this.#raft;
    return (
      r.hasAppendsPending() ||
      r.pendingSnapshot !== undefined ||
      r.messages.length > 0 ||
      r.messagesAfterPersist.length > 0 ||
      r.readStates.length > 0 ||
      r.log.hasUnstableEntries() ||
      r.term !== this.#persistedHardState.term ||
      r.vote !== this.#persistedHardState.vote ||
      r.log.committed !== this.#persistedHardState.commit ||
      r.log.hasCommittedToApply()
    );
  }

  ready(): Ready {
    const r = this.#raft;
    const committedEntries = r.takeCommittedEntries();
    const hardState = r.hardState();
    const previous = this.#persistedHardState;
    const changed = !sameHardState(hardState, previous);
    this.#persistedHardState = hardState;
    const entries = r.log.takeUnstableEntries();
    const ready: Ready = {
      softState: { role: r.role, leader: r.leader, term: r.term },
      hardState: changed ? hardState : undefined,
      snapshot: r.pendingSnapshot,
      entries,
      messages: r.messages,
      messagesAfterPersist: r.messagesAfterPersist,
      committedEntries,
      readStates: r.readStates,
      mustSync:
        entries.length > 0 ||
        r.pendingSnapshot !== undefined ||
        hardState.term !== previous.term ||
        hardState.vote !== previous.vote ||
        r.log.configCommitUnsynced(),
    };
    r.pendingSnapshot = undefined;
    r.messages = [];
    r.messagesAfterPersist = [];
    r.readStates = [];
    return ready;
  }

  /**
   * The messages that may leave before anything is persisted (a Ready's `messages`), taken now
   * without the rest of a Ready: a driver still persisting earlier Readies sends heartbeats and
   * their answers without waiting for its disk.
   */
  takeMessages(): Message[] {
    const r = this.#raft;
    const messages = r.messages;
    r.messages = [];
    return messages;
  }

  /** Acknowledges that the Ready's entries and hard state are durable and its entries applied. */
  advance(ready: Ready): void {
    const applied = ready.committedEntries.at(-1);
    if (applied !== undefined) this.#raft.log.appliedTo(applied.index);
    const last = ready.entries.at(-1);
    if (last !== undefined) this.#raft.onPersisted(last.index, last.term);
    if (ready.mustSync && ready.hardState !== undefined) this.#raft.log.commitSyncedTo(ready.hardState.commit);
    this.#afterInput();
  }

  /**
   * Records that the state machine holds a snapshot of everything through `index` (which it has
   * applied), and lets the log drop entries through `index − keepEntries` — kept so a follower
   * slightly behind can still catch up from the log rather than by a snapshot. Returns the
   * snapshot with the metadata the driver must store beside the data, or undefined when a
   * snapshot installed from the leader has already replaced the log past `index`. Take it at the
   * index applied last: the configuration recorded is the one in force now.
   */
  snapshotTaken(options: { index: LogIndex; data: Uint8Array; keepEntries?: number }): Snapshot | undefined {
    const compactIndex = logIndex(Math.max(0, options.index - (options.keepEntries ?? 0)));
    const snapshot = this.#raft.snapshotTaken(options.index, options.data, compactIndex);
    this.#afterInput();
    return snapshot;
  }

  /** The first index still in the in-memory log (everything before is in the snapshot). */
  firstIndex(): LogIndex {
    return this.#raft.log.firstIndex();
  }

  status(): Status {
    const r = this.#raft;
    return {
      id: r.id,
      role: r.role,
      leader: r.leader,
      term: r.term,
      commitIndex: r.log.committed,
      appliedIndex: r.log.applied,
      lastIndex: r.log.lastIndex(),
      snapshotIndex: r.snapshot?.meta.index ?? logIndex(0),
      stats: { ...r.stats },
    };
  }

  /** Read-only access for checkers: the term of this node's entry at `index`, if it holds one. */
  termAt(index: LogIndex): Term | undefined {
    return this.#raft.log.termAt(index);
  }

  /** Read-only access for checkers: this node's entry at `index`, if it holds one. */
  entryAt(index: LogIndex): Entry | undefined {
    return this.#raft.log.entryAt(index);
  }

  #afterInput(): void {
    this.#raft.checkInvariants(this.#checkAllInvariants);
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function isChangeList(changes: ConfChange | readonly ConfChange[]): changes is readonly ConfChange[] {
  return Array.isArray(changes);
}
