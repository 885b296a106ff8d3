import { assert, assertNever } from "../util/assert.js";
import { logIndex, NO_NODE, type LogIndex, type NodeId, type Term } from "../util/ids.js";
import { stepCandidate } from "./candidate.js";
import type { ConfChange, Config } from "./confchange.js";
import { campaign, handleVoteRequest, inLeaderLease, tickElection } from "./election.js";
import { stepFollower } from "./follower.js";
import { checkAllInvariants, checkCoreInvariants } from "./invariants.js";
import {
  leaderPersisted,
  leaderReadIndex,
  proposeEntries,
  stepLeader,
  tickLeader,
  type ProposeResult,
} from "./leader.js";
import {
  applyConfigEntry,
  bootstrap,
  configOf,
  maybeLeaveJoint,
  proposeConfChange,
  restoreConfig,
  transferLeader,
  type ConfChangeResult,
  type TransferError,
} from "./membership.js";
import { isFromLeader, type Message } from "./messages.js";
import type { RaftOptions, ReadOnlyMode } from "./options.js";
import { flushAppends } from "./replication.js";
import { RaftState, type DurableState, type StepResult } from "./state.js";
import type { Entry, Snapshot } from "./types.js";

export type { DropReason, DurableState, RaftStats, ReadState, StepResult } from "./state.js";
export type { ConfChangeResult, TransferError } from "./membership.js";
export type { ProposeResult } from "./leader.js";
export type { ConfChange, Config } from "./confchange.js";
export type { Message } from "./messages.js";
export type { RaftOptions, ReadOnlyMode } from "./options.js";
export type { Entry, HardState, Role, Snapshot } from "./types.js";

/** A proposal a follower passed on to the leader it knows. */
export interface Forwarded {
  readonly ok: true;
  readonly outcome: "forwarded";
  readonly forwardedTo: NodeId;
}

export type ReadIndexResult = { readonly ok: true } | { readonly ok: false; readonly error: "noLeader" };

const OK: StepResult = { ok: true };

/**
 * The consensus core's inputs, each dispatched on the role in one place; the role modules
 * (follower.ts, candidate.ts, leader.ts, membership.ts) hold the rules. RawNode drives it.
 */
export class Raft extends RaftState {
  constructor(options: RaftOptions, durable?: DurableState) {
    super(options, durable);
    restoreConfig(this, durable?.entries ?? []);
    const fresh =
      durable === undefined ||
      (durable.entries.length === 0 && durable.snapshot === undefined && durable.hardState.term === 0);
    if (fresh && this.options.voters.length > 0) bootstrap(this);
    this.becomeFollower(this.term, NO_NODE);
  }

  tick(): void {
    if (this.state.role === "leader") tickLeader(this, this.state);
    else tickElection(this);
  }

  step(m: Message): StepResult {
    const termCheck = this.#checkTerm(m);
    if (termCheck !== OK) return this.#dropped(termCheck);
    if (m.type === "voteRequest") {
      handleVoteRequest(this, m);
      return OK;
    }
    const result = this.#stepRole(m);
    return result.ok ? result : this.#dropped(result);
  }

  /** Appends on a leader, forwards to a known leader, refuses with noLeader otherwise. */
  propose(data: readonly Uint8Array[]): ProposeResult | Forwarded {
    if (this.state.role === "leader") return proposeEntries(this, this.state, data);
    if (this.leader === NO_NODE) {
      this.stats.proposalsDropped += data.length;
      return { ok: false, error: "noLeader" };
    }
    this.send({ type: "propose", from: this.id, to: this.leader, term: this.term, data });
    return { ok: true, outcome: "forwarded", forwardedTo: this.leader };
  }

  readIndex(context: Uint8Array, mode: ReadOnlyMode): ReadIndexResult {
    if (this.state.role === "leader") {
      leaderReadIndex(this, this.state, context, this.id, mode);
      return { ok: true };
    }
    if (this.leader === NO_NODE) return { ok: false, error: "noLeader" };
    this.send({ type: "readIndexRequest", from: this.id, to: this.leader, term: this.term, context });
    return { ok: true };
  }

  proposeConfChange(changes: readonly ConfChange[]): ConfChangeResult {
    if (this.state.role !== "leader") return { ok: false, error: "notLeader" };
    return proposeConfChange(this, this.state, changes);
  }

  transferLeader(to: NodeId): { ok: true } | { ok: false; error: TransferError } {
    if (this.state.role !== "leader") return { ok: false, error: "notLeader" };
    return transferLeader(this, this.state, to);
  }

  /** An election now, as if the election timeout had passed; a leader ignores it. */
  campaignNow(): void {
    if (this.state.role !== "leader") campaign(this, this.options.preVote ? "preVote" : "vote");
  }

  /** The configuration in force (as of the last applied config entry). */
  config(): Config {
    return configOf(this);
  }

  /** Whether a leader has appended entries whose replication has not gone out yet. */
  hasAppendsPending(): boolean {
    return this.state.role === "leader" && this.state.appendPending;
  }

  /**
   * Hands out the next committed entries for applying, and does what handing them out sets off:
   * config entries take effect, a leader leaves a joint configuration, a deferred transfer
   * campaign starts, and appends (new members' first ones included) go out.
   */
  takeCommittedEntries(): Entry[] {
    this.#flushAppends();
    const committedEntries = this.log.nextCommitted(this.options.applyBytesMax);
    const last = committedEntries.at(-1);
    // Handed out for applying now; the next Ready continues after it.
    if (last !== undefined) this.log.applyingTo(last.index);
    for (const entry of committedEntries) if (entry.kind === "config") applyConfigEntry(this, entry);
    if (this.state.role === "leader") maybeLeaveJoint(this, this.state);
    if (this.state.role === "follower" && this.state.transferCampaignPending && !this.hasConfigPending()) {
      this.state.transferCampaignPending = false;
      campaign(this, "vote", true);
    }
    this.#flushAppends();
    return committedEntries;
  }

  /**
   * The driver's state machine has a snapshot through `index` (≤ applied): keep it for followers
   * that fall behind, and drop the log through `compactIndex` (≤ index).
   */
  snapshotTaken(index: LogIndex, data: Uint8Array, compactIndex: LogIndex): Snapshot | undefined {
    assert(index <= this.log.applied, `snapshot at ${index} beyond applied ${this.log.applied}`);
    assert(compactIndex <= index, `compaction ${compactIndex} beyond snapshot ${index}`);
    const t = this.log.termAt(index);
    // The leader's snapshot replaced the log while the driver was applying older entries.
    if (t === undefined) return undefined;
    const snapshot: Snapshot = {
      meta: {
        index,
        term: t,
        voters: [...this.voters[0]],
        votersOutgoing: [...(this.voters[1] ?? [])],
        learners: [...this.learners],
      },
      data,
    };
    if (this.snapshot === undefined || index > this.snapshot.meta.index) this.snapshot = snapshot;
    this.log.compact(logIndex(Math.min(compactIndex, this.log.stableIndex())));
    return snapshot;
  }

  /** Entries on disk up to `index` with `term`: a leader may now count itself toward commit. */
  onPersisted(index: LogIndex, t: Term): void {
    this.log.stableTo(index, t);
    if (this.state.role === "leader") leaderPersisted(this, this.state);
  }

  /** The constant-time invariants always; every invariant when `all` (tests, the simulator). */
  checkInvariants(all: boolean): void {
    if (all) checkAllInvariants(this);
    else checkCoreInvariants(this);
  }

  #flushAppends(): void {
    if (this.state.role === "leader") flushAppends(this, this.state);
  }

  #stepRole(m: Message): StepResult {
    const { state } = this;
    switch (state.role) {
      case "leader":
        return stepLeader(this, state, m);
      case "candidate":
      case "preCandidate":
        return stepCandidate(this, state, m);
      case "follower":
        return stepFollower(this, m);
      default:
        return assertNever(state, "role state");
    }
  }

  #dropped(result: StepResult): StepResult {
    this.stats.messagesDropped++;
    return result;
  }

  /** Raft's term rules, with the pre-vote and leader-stickiness exceptions of the thesis §9.6. */
  #checkTerm(m: Message): StepResult {
    if (m.term > this.term) {
      if (m.type === "voteRequest" && !m.transfer && inLeaderLease(this)) {
        return { ok: false, reason: "unexpected" };
      }
      if (m.type === "voteRequest" && m.preVote) return OK;
      if (m.type === "voteResponse" && m.preVote && m.granted) return OK;
      this.becomeFollower(m.term, isFromLeader(m) ? m.from : NO_NODE);
      return OK;
    }
    if (m.term < this.term) {
      if (isFromLeader(m) && (this.options.checkQuorum || this.options.preVote)) {
        // A deposed leader cut off from the new term learns it here and steps down.
        this.send({ type: "heartbeatResponse", from: this.id, to: m.from, term: this.term, context: 0 });
      } else if (m.type === "voteRequest" && m.preVote) {
        this.send({ type: "voteResponse", from: this.id, to: m.from, term: this.term, preVote: true, granted: false });
      }
      return { ok: false, reason: "staleTerm" };
    }
    return OK;
  }
}
