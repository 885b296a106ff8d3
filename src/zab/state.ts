import { assert } from "../util/assert.js";
import { NO_NODE, type NodeId } from "../util/ids.js";
import { History } from "./history.js";
import type { Notification, ZabMessage } from "./messages.js";
import { resolveZabOptions, type ResolvedZabOptions, type ZabOptions } from "./options.js";
import { epoch, type DurableState, type Epoch, type Phase, type ReadState, type Vote } from "./types.js";

/*
 * The state every role shares, and each role's own state as one member of a union, so that what
 * belongs to a role exists only while the member has it. The role modules (election.ts,
 * follower.ts, leader.ts) import this leaf module; zab_node.ts dispatches to them.
 */

export interface LookingState {
  readonly role: "looking";
  vote: Vote;
  /** The votes of this election round, this member's own included. */
  readonly votes: Map<NodeId, Vote>;
}

export interface FollowingState {
  readonly role: "following";
  readonly leader: NodeId;
  /** The vote that made this member follow (told to looking members while discovery waits). */
  readonly vote: Vote;
  phase: Exclude<Phase, "election">;
  /** The epoch the leader proposed (NEWEPOCH); 0 until it arrives. */
  epoch: Epoch;
  /** This member raised its acceptedEpoch to `epoch` for this leader, so its ACKEPOCH counts as a promise. */
  promised: boolean;
  /**
   * Acknowledgements are built when the Ready is, from the state then, and only if this member
   * still follows this leader in this phase: an acknowledgement queued before a change of leader
   * would claim a history the change may have cut.
   */
  owesAckEpoch: boolean;
  owesAck: boolean;
}

/** The leader's view of one follower, created by its FOLLOWERINFO. */
export interface Learner {
  acceptedEpoch: Epoch;
  /** info: waiting for its ACKEPOCH; epochAcked: NEWLEADER sent; synced: it acknowledged NEWLEADER. */
  stage: "info" | "epochAcked" | "synced";
  promised: boolean;
  /** From its ACKEPOCH: where to start its NEWLEADER. */
  commonIndex: number;
  /** The highest index it acknowledged as durable in this epoch. */
  match: number;
  /** The highest index sent to it. */
  sent: number;
  /** The last index its previous pong said it held (a lagging follower reports the same one twice). */
  heldIndex: number;
  /** The highest sync round it answered. */
  readRound: number;
  /** Ticks since its last NEWEPOCH or NEWLEADER, resent when unanswered for long. */
  sinceSent: number;
}

/** A `sync` waiting for a quorum to confirm this leader: served at `index` once confirmed. */
export interface PendingRead {
  readonly context: Uint8Array;
  readonly index: number;
  readonly round: number;
  readonly requester: NodeId;
}

export interface LeadingState {
  readonly role: "leading";
  phase: Exclude<Phase, "election">;
  /** The epoch chosen from a quorum's FOLLOWERINFO; 0 until then. */
  epoch: Epoch;
  readonly learners: Map<NodeId, Learner>;
  /** Members heard from since the last quorum check. */
  readonly heard: Set<NodeId>;
  /** The history's length when the epoch was established: reads wait for it to commit. */
  initialLength: number;
  phaseElapsed: number;
  checkElapsed: number;
  heartbeatElapsed: number;
  readRound: number;
  /** Reads arrived since the last ping: the next flush pings everyone with the current round. */
  readPingPending: boolean;
  readonly pendingReads: PendingRead[];
  /** The commit index last announced to followers. */
  commitSent: number;
  /** The epoch's counter is used up: no more proposals, and a new epoch once they commit. */
  exhausted: boolean;
}

export type RoleState = LookingState | FollowingState | LeadingState;

export interface ZabStats {
  messagesDropped: number;
  leaderChanges: number;
}

export interface Epochs {
  readonly acceptedEpoch: Epoch;
  readonly currentEpoch: Epoch;
}

/**
 * One member's ZAB state. It mutates in place on its inputs; the work it asks for accumulates for
 * ZabNode to hand out in a Ready.
 */
export class ZabState {
  readonly id: NodeId;
  readonly options: ResolvedZabOptions;
  /** Every other member, ascending. */
  readonly peers: readonly NodeId[];
  readonly quorum: number;
  readonly counterMax: number;
  readonly history: History;
  acceptedEpoch: Epoch;
  currentEpoch: Epoch;
  /** The epochs as of the last Ready handed out, and as known durable. */
  writtenEpochs: Epochs;
  durableEpochs: Epochs;
  /** Epochs of the Readies handed out and not yet advanced, oldest first. */
  readonly pendingEpochs: Epochs[] = [];
  committed = 0;
  /** Handed out for applying through here. */
  applied = 0;
  state: RoleState;
  /** The election round (ZooKeeper's logical clock); volatile. */
  round = 0;
  /** The leader for which acceptedEpoch was last raised in this incarnation (a restart forgets it). */
  promisedTo: NodeId = NO_NODE;
  electionElapsed = 0;
  electionTimeout = 0;
  heartbeatElapsed = 0;
  messages: ZabMessage[] = [];
  messagesAfterPersist: ZabMessage[] = [];
  readStates: ReadState[] = [];
  readonly stats: ZabStats = { messagesDropped: 0, leaderChanges: 0 };

  constructor(options: ZabOptions, durable?: DurableState) {
    this.options = resolveZabOptions(options);
    this.id = options.id;
    this.peers = this.options.members.filter((m) => m !== this.id).sort((a, b) => a - b);
    this.quorum = Math.floor(this.options.members.length / 2) + 1;
    this.counterMax = 2 ** this.options.counterBits - 1;
    this.history = new History(durable?.history ?? []);
    this.acceptedEpoch = durable?.acceptedEpoch ?? epoch(0);
    this.currentEpoch = durable?.currentEpoch ?? epoch(0);
    assert(this.currentEpoch <= this.acceptedEpoch, "recovered currentEpoch above acceptedEpoch");
    this.writtenEpochs = { acceptedEpoch: this.acceptedEpoch, currentEpoch: this.currentEpoch };
    this.durableEpochs = this.writtenEpochs;
    this.state = this.#looking();
  }

  isMember(id: NodeId): boolean {
    return id !== this.id && this.peers.includes(id);
  }

  ownVote(): Vote {
    return { leader: this.id, epoch: this.currentEpoch, zxid: this.history.lastZxid() };
  }

  send(m: ZabMessage): void {
    assert(m.to !== this.id && m.from === this.id, "a member only messages others, as itself");
    this.messages.push(m);
  }

  /** A message that promises what this Ready persists; it leaves only after the write. */
  sendAfterPersist(m: ZabMessage): void {
    assert(m.to !== this.id && m.from === this.id, "a member only messages others, as itself");
    this.messagesAfterPersist.push(m);
  }

  notification(to: NodeId, state: Notification["state"], vote: Vote): Notification {
    return { type: "notification", from: this.id, to, round: this.round, state, vote };
  }

  resetElectionTimer(): void {
    this.electionElapsed = 0;
    this.electionTimeout = this.options.random.int(this.options.electionTicks, 2 * this.options.electionTicks);
  }

  commitTo(index: number): void {
    if (index > this.committed) this.committed = index;
  }

  // ---- transitions -------------------------------------------------------------------------

  /**
   * Looks for a leader with a vote for itself, sent to everyone: in a new election round, or in
   * the current one when joining the round of a notification about to be handled.
   */
  becomeLooking(newRound = true): LookingState {
    if (newRound) this.round++;
    const looking = this.#looking();
    this.state = looking;
    this.heartbeatElapsed = 0;
    this.resetElectionTimer();
    for (const peer of this.peers) this.send(this.notification(peer, "looking", looking.vote));
    return looking;
  }

  /** Follows `vote.leader`: discovery starts with this member's acceptedEpoch (CEPOCH). */
  becomeFollower(vote: Vote): FollowingState {
    const { leader } = vote;
    assert(leader !== this.id, "a member does not follow itself");
    const following: FollowingState = {
      role: "following",
      leader,
      vote,
      phase: "discovery",
      epoch: epoch(0),
      promised: false,
      owesAckEpoch: false,
      owesAck: false,
    };
    this.state = following;
    this.stats.leaderChanges++;
    this.heartbeatElapsed = 0;
    this.resetElectionTimer();
    this.send({ type: "followerInfo", from: this.id, to: leader, acceptedEpoch: this.acceptedEpoch });
    return following;
  }

  /** Leads: discovery starts by waiting for a quorum's FOLLOWERINFO (leader.ts: leaderProgress). */
  becomeLeader(): LeadingState {
    const leading: LeadingState = {
      role: "leading",
      phase: "discovery",
      epoch: epoch(0),
      learners: new Map(),
      heard: new Set(),
      initialLength: 0,
      phaseElapsed: 0,
      checkElapsed: 0,
      heartbeatElapsed: 0,
      readRound: 0,
      readPingPending: false,
      pendingReads: [],
      commitSent: this.committed,
      exhausted: false,
    };
    this.state = leading;
    this.stats.leaderChanges++;
    return leading;
  }

  #looking(): LookingState {
    const vote = this.ownVote();
    return { role: "looking", vote, votes: new Map([[this.id, vote]]) };
  }
}
