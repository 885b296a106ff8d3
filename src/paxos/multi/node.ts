import { assertNever } from "../../util/assert.js";
import { logIndex, NO_NODE, type NodeId } from "../../util/ids.js";
import { onAccept, onPrepare } from "./acceptor.js";
import { onNack, onPromise, startCampaign, tickElection } from "./election.js";
import { checkLocalInvariants } from "./invariants.js";
import {
  afterLearnt,
  catchUpStalled,
  flushLeader,
  leaderHasWork,
  leaderReadIndex,
  leaseValid as leaseValidOf,
  onAccepted,
  propose,
  tickLeader,
  type ProposeResult,
} from "./leader.js";
import { onLearn, onLearnRequest, onSnapshot } from "./learner.js";
import { ballotOwnerMatches, type Message } from "./messages.js";
import type { MultiPaxosOptions, ReadMode } from "./options.js";
import { PaxosState, type MultiPaxosStats } from "./state.js";
import { OK, type StepResult } from "./step_result.js";
import type {
  AcceptedRecord,
  Ballot,
  ChosenEntry,
  CommittedEntry,
  DurableState,
  HardState,
  ReadState,
  Role,
  Slot,
  Snapshot,
} from "./types.js";

/** Volatile facts about a member, for the application and for checkers; never persisted. */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId;
  /** The leader's or candidate's own ballot; a follower's promise. */
  readonly ballot: Ballot;
}

/**
 * The work a member asks its driver to do, in this order:
 * 1. persist `snapshot` (if present: replacing the state machine, and every accepted record at or
 *    below its index), `hardState` (if present) and `accepted` (each replaces the stored record of its
 *    slot), with one durability barrier for all of them when `mustSync`; restore the state machine
 *    from `snapshot`;
 * 2. send `messagesAfterPersist` — they promise what step 1 made durable (promises, acceptances, and
 *    Prepares in a ballot that must never be drawn again); `messages` may be sent at once;
 * 3. apply `committedEntries` in order and serve `readStates` once applied through their index;
 * 4. call `advance(ready)` (one Ready at a time: this member's own acceptor answers its proposer then).
 */
export interface Ready {
  readonly softState: SoftState;
  readonly hardState: HardState | undefined;
  readonly accepted: readonly AcceptedRecord[];
  readonly snapshot: Snapshot | undefined;
  readonly mustSync: boolean;
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  readonly committedEntries: readonly CommittedEntry[];
  readonly readStates: readonly ReadState[];
}

export type ReadIndexResult = { readonly ok: true } | { readonly ok: false; readonly error: "noLeader" };

export interface Status extends SoftState {
  readonly id: NodeId;
  readonly promised: Ballot;
  /** Every slot through it is chosen and its value known here. */
  readonly chosenThrough: Slot;
  readonly appliedIndex: Slot;
  /** The highest slot this member proposed (leader) or accepted. */
  readonly lastSlot: Slot;
  readonly snapshotIndex: Slot;
  readonly stats: Readonly<MultiPaxosStats>;
}

/** What the safety checks read of an acceptor. */
export interface AcceptorView {
  readonly promised: Ballot;
  readonly accepted: ReadonlyMap<Slot, AcceptedRecord>;
}

/**
 * The public face of the pure Multi-Paxos core, shaped like raft's RawNode: drive it with
 * tick/step/propose/readIndex, collect its work with ready(), acknowledge with advance(). It performs
 * no I/O and reads no clock; randomness comes from `options.random`.
 */
export class MultiPaxosNode {
  readonly #s: PaxosState;
  readonly #checkInvariants: boolean;
  /** This member's acceptor's answers to its own proposer, waiting for the Ready that persists them. */
  #selfInFlight: Message[] = [];

  constructor(options: MultiPaxosOptions & { checkInvariants?: boolean }, durable?: DurableState) {
    this.#s = new PaxosState(options, durable);
    this.#checkInvariants = options.checkInvariants ?? false;
  }

  get id(): NodeId {
    return this.#s.id;
  }

  tick(): void {
    const s = this.#s;
    if (s.role !== "leader") tickElection(s);
    else {
      tickLeader(s);
      if (catchUpStalled(s)) startCampaign(s);
    }
    this.#afterInput();
  }

  /** Feeds one message from a peer. A stale or unexpected message is dropped and counted, never thrown. */
  step(m: Message): StepResult {
    const s = this.#s;
    if (m.to !== s.id || m.from === s.id || !s.peers.includes(m.from)) {
      s.stats.messagesDropped++;
      return { ok: false, reason: "unknownPeer" };
    }
    if (!ballotOwnerMatches(m)) {
      s.stats.messagesDropped++;
      return { ok: false, reason: "malformed" };
    }
    const result = this.#dispatch(m);
    if (!result.ok) s.stats.messagesDropped++;
    this.#afterInput();
    return result;
  }

  #dispatch(m: Message): StepResult {
    const s = this.#s;
    switch (m.type) {
      case "prepare":
        return onPrepare(s, m);
      case "promise":
        return onPromise(s, m);
      case "accept":
        return onAccept(s, m);
      case "accepted":
        return onAccepted(s, m);
      case "nack":
        return onNack(s, m);
      case "learnRequest":
        return onLearnRequest(s, m);
      case "learn":
        return this.#learnt(s.log.chosenThrough, onLearn(s, m));
      case "snapshot":
        return this.#learnt(s.log.chosenThrough, onSnapshot(s, m));
      case "readIndexRequest":
        if (s.lead === undefined) return { ok: false, reason: "unexpected" };
        leaderReadIndex(s, { context: m.context, requester: m.from, lease: s.options.readMode === "lease" });
        return OK;
      case "readIndexResponse":
        s.readStates.push({ index: m.index, context: m.context });
        return OK;
      case "propose":
        return this.#proposeForwarded(m.data);
      default:
        return assertNever(m, "message");
    }
  }

  /**
   * A follower's proposal. Only the leader proposes it; anyone else drops it rather than pass it
   * on, so two members with stale views of each other never bounce it between them.
   */
  #proposeForwarded(data: Uint8Array): StepResult {
    const s = this.#s;
    if (s.lead === undefined) return { ok: false, reason: "stale" };
    return propose(s, data).ok ? OK : { ok: false, reason: "unexpected" };
  }

  #learnt(chosenBefore: Slot, result: StepResult): StepResult {
    afterLearnt(this.#s, chosenBefore);
    return result;
  }

  /**
   * Proposes application data. On the leader the result names the slot it went to (it is applied
   * there only if the entry applied at that slot carries these bytes: a leader change may fill the
   * slot otherwise); elsewhere a typed refusal names the leader this member knows, if any.
   */
  propose(data: Uint8Array): ProposeResult {
    const result = propose(this.#s, data);
    this.#afterInput();
    return result;
  }

  /**
   * Passes a proposal to the leader this member knows, which proposes it if it still leads (a
   * leader proposes its own with `propose`). The proposer learns the outcome only by applying its
   * bytes, so they should be unique; nothing here reports whether the leader took it.
   */
  forward(data: Uint8Array): { readonly ok: true } | { readonly ok: false; readonly error: "noLeader" | "leading" } {
    const s = this.#s;
    if (s.lead !== undefined) return { ok: false, error: "leading" };
    if (s.leader === NO_NODE) return { ok: false, error: "noLeader" };
    s.send({ type: "propose", from: s.id, to: s.leader, data });
    this.#afterInput();
    return { ok: true };
  }

  /**
   * Asks for a linearizable read point: a ReadState with `context` appears in a later Ready once the
   * leader has confirmed its ballot (or, in "lease" mode, at once inside its lease); serve the read
   * after applying through its index. A follower asks its leader.
   */
  readIndex(context: Uint8Array, mode: ReadMode = this.#s.options.readMode): ReadIndexResult {
    const s = this.#s;
    if (s.lead !== undefined) {
      leaderReadIndex(s, { context, requester: s.id, lease: mode === "lease" });
    } else if (s.leader === NO_NODE) {
      return { ok: false, error: "noLeader" };
    } else {
      s.send({ type: "readIndexRequest", from: s.id, to: s.leader, context });
    }
    this.#afterInput();
    return { ok: true };
  }

  /** Runs phase 1 at once, as if the election timeout had passed (tests and tools). */
  campaign(): void {
    if (this.#s.role !== "leader") startCampaign(this.#s);
    this.#afterInput();
  }

  hasReady(): boolean {
    const s = this.#s;
    return (
      s.messages.length > 0 ||
      s.messagesAfterPersist.length > 0 ||
      s.selfReplies.length > 0 ||
      s.readStates.length > 0 ||
      s.promisedDirty ||
      s.dirtyRecords.size > 0 ||
      s.pendingSnapshot !== undefined ||
      s.log.hasToApply() ||
      (s.lead !== undefined && leaderHasWork(s.lead))
    );
  }

  ready(): Ready {
    const s = this.#s;
    flushLeader(s);
    const hardState = s.promisedDirty ? { promised: s.promised } : undefined;
    // Records an installed snapshot covers are moot; that snapshot is durable with this Ready.
    const installed = s.pendingSnapshot?.index ?? 0;
    const accepted = [...s.dirtyRecords.values()].filter((r) => r.slot > installed).sort((a, b) => a.slot - b.slot);
    const ready: Ready = {
      softState: { role: s.role, leader: s.leader, ballot: s.currentBallot() },
      hardState,
      accepted,
      snapshot: s.pendingSnapshot,
      mustSync: hardState !== undefined || accepted.length > 0 || s.pendingSnapshot !== undefined,
      messages: s.messages,
      messagesAfterPersist: s.messagesAfterPersist,
      committedEntries: s.log.takeToApply(s.options.applyBytesMax),
      readStates: s.readStates,
    };
    this.#selfInFlight.push(...s.selfReplies);
    s.selfReplies = [];
    s.promisedDirty = false;
    s.dirtyRecords.clear();
    s.pendingSnapshot = undefined;
    s.messages = [];
    s.messagesAfterPersist = [];
    s.readStates = [];
    return ready;
  }

  /**
   * The messages that may leave before anything is persisted (what a Ready's `messages` would hold,
   * the leader's pending Accepts and heartbeat included), taken now without the rest of a Ready: a
   * driver still persisting the previous Ready keeps heartbeats and phase 2 going.
   */
  takeMessages(): Message[] {
    const s = this.#s;
    flushLeader(s);
    const messages = s.messages;
    s.messages = [];
    return messages;
  }

  /** Acknowledges that the Ready is durable: this member's own promise and acceptances count now. */
  advance(_ready: Ready): void {
    const replies = this.#selfInFlight;
    this.#selfInFlight = [];
    for (const m of replies) {
      if (m.type === "promise") onPromise(this.#s, m);
      else if (m.type === "accepted") onAccepted(this.#s, m);
    }
    this.#afterInput();
  }

  /**
   * Records that a snapshot of every slot through `index` (which the state machine has applied) is
   * durably stored — call it only then: Promises report it as what this acceptor can always serve.
   * Drops the learnt values through `index − keepEntries` (kept for members slightly behind) and the
   * accepted records through `index`, which the driver may now delete from disk. Returns undefined
   * when a newer snapshot is already in place.
   */
  snapshotTaken(options: { index: Slot; data: Uint8Array; keepEntries?: number }): Snapshot | undefined {
    const s = this.#s;
    if (options.index > s.log.applied)
      throw new RangeError(`snapshot ${options.index} beyond applied ${s.log.applied}`);
    if (s.snapshot !== undefined && options.index <= s.snapshot.index) return undefined;
    const snapshot: Snapshot = { index: options.index, data: options.data };
    s.snapshot = snapshot;
    s.log.compact(logIndex(Math.max(0, options.index - (options.keepEntries ?? 0))));
    s.dropRecordsThrough(options.index);
    this.#afterInput();
    return snapshot;
  }

  status(): Status {
    const s = this.#s;
    let lastSlot = s.lead === undefined ? s.log.chosenThrough : logIndex(s.lead.nextSlot - 1);
    for (const slot of s.accepted.keys()) if (slot > lastSlot) lastSlot = slot;
    return {
      id: s.id,
      role: s.role,
      leader: s.leader,
      ballot: s.currentBallot(),
      promised: s.promised,
      chosenThrough: s.log.chosenThrough,
      appliedIndex: s.log.applied,
      lastSlot,
      snapshotIndex: s.snapshot?.index ?? logIndex(0),
      stats: { ...s.stats },
    };
  }

  /** Read-only access for checkers: the acceptor's promise and records (live; copy what you keep). */
  acceptorView(): AcceptorView {
    return { promised: this.#s.promised, accepted: this.#s.accepted };
  }

  /** Read-only access for checkers: the value this member knows chosen at `slot`, if it holds it. */
  chosenAt(slot: Slot): ChosenEntry | undefined {
    return this.#s.log.entryAt(slot);
  }

  /** Whether this leader may serve a read locally now (false on any other member). */
  leaseValid(): boolean {
    return this.#s.lead !== undefined && leaseValidOf(this.#s);
  }

  #afterInput(): void {
    if (this.#checkInvariants) checkLocalInvariants(this.#s);
  }
}
