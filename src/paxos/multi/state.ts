import { assert } from "../../util/assert.js";
import { logIndex, NO_NODE, type NodeId } from "../../util/ids.js";
import { LearnerLog } from "./log.js";
import { sendsBeforePersist, type Message, type PromiseReply } from "./messages.js";
import { resolveOptions, type MultiPaxosOptions, type ResolvedOptions } from "./options.js";
import type { ReadRounds } from "./reads.js";
import {
  compareBallots,
  maxBallot,
  ZERO_BALLOT,
  type AcceptedRecord,
  type Ballot,
  type DurableState,
  type ReadState,
  type Role,
  type Slot,
  type Snapshot,
  type Value,
} from "./types.js";

/** A proposal of the leader's ballot for one slot, until the leader knows it chosen. */
export interface Proposal {
  readonly value: Value;
  /** Acceptors that answered that they durably accepted it (the leader itself included). */
  readonly acks: Set<NodeId>;
  chosen: boolean;
  /** Leader tick of the last Accept sent for it; undefined until first sent. */
  sentAt: number | undefined;
}

/** What the leader knows of one other member. */
export interface PeerProgress {
  /** The member's last report of how far it knows the chosen values. */
  learnedThrough: Slot;
  /** How far the last commit notice sent to it reached. */
  toldThrough: Slot;
  /** Heard from since the last check-quorum. */
  active: boolean;
  /** The last catch-up sent to it: through which slot, at which leader tick. */
  catchup: { readonly through: Slot; readonly atTick: number } | undefined;
}

/** Phase 1 in progress: the promises gathered for `ballot`. */
export interface Campaign {
  readonly ballot: Ballot;
  readonly promises: Map<NodeId, PromiseReply>;
}

/** A leader's state, from the phase 1 it won until it steps down. */
export interface Leadership {
  readonly ballot: Ballot;
  /** Every slot through it is chosen: in a promiser's snapshot, or chosen here since; learnt, not proposed. */
  knownChosenThrough: Slot;
  /** The last slot phase 1 had to settle (re-proposed or filled with a no-op); reads wait for it. */
  readonly recoveryEnd: Slot;
  nextSlot: Slot;
  /** Slots above chosenThrough proposed in this ballot, ascending. */
  readonly proposals: Map<Slot, Proposal>;
  /** Proposed slots whose first Accept has not gone out yet. */
  unsent: Slot[];
  readonly peers: Map<NodeId, PeerProgress>;
  readonly reads: ReadRounds;
  /** A read waits for a confirmation round that has not been broadcast yet. */
  roundWanted: boolean;
  ticks: number;
  heartbeatElapsed: number;
  checkElapsed: number;
  /** The leader's own request for chosen values it lacks, and when it went out. */
  learnAskedAt: number | undefined;
  /** Leader tick at which its log last took values learnt from others (or it began to lead). */
  learntAt: number;
}

export interface MultiPaxosStats {
  messagesDropped: number;
  proposalsRefused: number;
  leaderChanges: number;
  campaigns: number;
  snapshotsSent: number;
}

/**
 * One member's whole state: acceptor (promised, accepted), learner (the chosen log), and proposer
 * (the role). It mutates in place; the work it asks for accumulates for MultiPaxosNode's Ready.
 */
export class PaxosState {
  readonly id: NodeId;
  readonly options: ResolvedOptions;
  /** Every member but this one, ascending. */
  readonly peers: readonly NodeId[];
  readonly quorum: number;
  // Acceptor.
  promised: Ballot;
  readonly accepted = new Map<Slot, AcceptedRecord>();
  // Learner.
  readonly log: LearnerLog;
  snapshot: Snapshot | undefined;
  // Proposer.
  role: Role = "follower";
  /** The leader this member follows (itself when leading); NO_NODE when it knows none. */
  leader: NodeId = NO_NODE;
  /** The highest ballot seen anywhere: a new campaign goes above it. */
  highestSeen: Ballot;
  electionElapsed = 0;
  randomizedTimeout = 0;
  /**
   * Ticks since this member last heard its leader (or started). While below electionTicks it
   * refuses every other proposer's Prepare: the promise a leader's lease counts on.
   */
  leaderSilence = 0;
  campaign: Campaign | undefined;
  lead: Leadership | undefined;
  // Work for the next Ready.
  messages: Message[] = [];
  messagesAfterPersist: Message[] = [];
  /** Replies of this member's acceptor to its own proposer: delivered once the Ready is durable. */
  selfReplies: Message[] = [];
  readStates: ReadState[] = [];
  promisedDirty = false;
  /** Records to persist, the latest per slot. */
  readonly dirtyRecords = new Map<Slot, AcceptedRecord>();
  pendingSnapshot: Snapshot | undefined;
  readonly stats: MultiPaxosStats = {
    messagesDropped: 0,
    proposalsRefused: 0,
    leaderChanges: 0,
    campaigns: 0,
    snapshotsSent: 0,
  };

  constructor(options: MultiPaxosOptions, durable?: DurableState) {
    this.options = resolveOptions(options);
    this.id = options.id;
    this.peers = this.options.members.filter((m) => m !== this.id).sort((a, b) => a - b);
    this.quorum = Math.floor(this.options.members.length / 2) + 1;
    this.snapshot = durable?.snapshot;
    const floor = durable?.snapshot?.index ?? logIndex(0);
    this.log = new LearnerLog(floor);
    let promised = durable?.hardState.promised ?? ZERO_BALLOT;
    for (const record of durable?.accepted ?? []) {
      if (record.slot <= floor) continue;
      this.accepted.set(record.slot, record);
      // A torn write kept a record but not the promise written beside it: accepting implied promising.
      promised = maxBallot(promised, record.ballot);
    }
    this.promised = promised;
    this.highestSeen = promised;
    this.becomeFollower(NO_NODE);
    // A restart may fall inside a lease this member helped grant (a heartbeat's echo leaves before
    // anything is durable, so even an empty disk proves nothing): refuse other proposers for a while.
    // Only a member's very first start, with no durable state at all, is free of that.
    this.leaderSilence = durable === undefined ? this.options.electionTicks : 0;
  }

  /** The slot below which accepts are ignored: chosen, applied and in the snapshot. */
  get acceptorFloor(): Slot {
    return this.snapshot?.index ?? logIndex(0);
  }

  isSticky(): boolean {
    return this.role === "leader" || this.leaderSilence < this.options.electionTicks;
  }

  send(m: Message): void {
    assert(m.to !== this.id && m.from === this.id, `bad envelope ${m.from} → ${m.to} on ${this.id}`);
    if (sendsBeforePersist(m)) this.messages.push(m);
    else this.messagesAfterPersist.push(m);
  }

  /** Raises the promise (durably, before any reply that depends on it leaves). */
  promise(ballot: Ballot): void {
    assert(compareBallots(ballot, this.promised) >= 0, "a promise never goes down");
    this.observe(ballot);
    if (compareBallots(ballot, this.promised) === 0) return;
    this.promised = ballot;
    this.promisedDirty = true;
  }

  observe(ballot: Ballot): void {
    this.highestSeen = maxBallot(this.highestSeen, ballot);
  }

  /** Accepts `record` (its ballot must not be below the promise, which rises to it). */
  accept(record: AcceptedRecord): void {
    this.promise(record.ballot);
    this.accepted.set(record.slot, record);
    this.dirtyRecords.set(record.slot, record);
  }

  /** Drops the accepted records a snapshot through `index` covers. */
  dropRecordsThrough(index: Slot): void {
    for (const slot of this.accepted.keys()) if (slot <= index) this.accepted.delete(slot);
  }

  becomeFollower(leader: NodeId): void {
    if (leader !== NO_NODE && leader !== this.leader) this.stats.leaderChanges++;
    this.role = "follower";
    this.leader = leader;
    this.campaign = undefined;
    this.lead = undefined;
    this.resetElectionTimer();
    if (leader !== NO_NODE) this.leaderSilence = 0;
  }

  resetElectionTimer(): void {
    this.electionElapsed = 0;
    this.randomizedTimeout = this.options.random.int(this.options.electionTicks, 2 * this.options.electionTicks);
  }

  /** The ballot this member proposes in, or its promise when it proposes in none. */
  currentBallot(): Ballot {
    return this.lead?.ballot ?? this.campaign?.ballot ?? this.promised;
  }
}
