import { assert } from "../util/assert.js";
import { logIndex, NO_NODE, term as asTerm, type LogIndex, type NodeId, type Term } from "../util/ids.js";
import { RaftLog } from "./log.js";
import { waitsForConfigCommit, sendsBeforePersist, type Message } from "./messages.js";
import { resolveOptions, type RaftOptions, type ResolvedOptions } from "./options.js";
import { Progress } from "./progress.js";
import { allVoters, type JointVoters } from "./quorum.js";
import { ReadOnly } from "./read_only.js";
import type { Entry, HardState, Role, Snapshot } from "./types.js";

/*
 * The state every role shares, and each role's own state as one member of a union, so that what
 * belongs to a role exists only while the node has it: a follower has no progress map, a leader
 * no votes. The role modules (follower.ts, candidate.ts, leader.ts, ...) import this leaf module;
 * raft.ts dispatches to them.
 */

/** Why a message was not acted on; counted, never thrown. */
export type DropReason = "staleTerm" | "unexpected" | "unknownPeer" | "malformed" | "noLeader";

export type StepResult = { readonly ok: true } | { readonly ok: false; readonly reason: DropReason };

export interface ReadState {
  readonly index: LogIndex;
  readonly context: Uint8Array;
}

export interface RaftStats {
  messagesDropped: number;
  proposalsDropped: number;
  leaderChanges: number;
}

/**
 * What a restarted node recovers from its durable storage: its hard state, its newest snapshot,
 * and the entries after that snapshot. `applied` is the state machine's own durable applied index
 * when it keeps one beyond the snapshot (it defaults to the snapshot's index), so that nothing
 * already applied is handed out again.
 */
export interface DurableState {
  readonly hardState: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot | undefined;
  readonly applied?: LogIndex | undefined;
}

interface FollowerState {
  readonly role: "follower";
  /** A TimeoutNow arrived while a committed config entry was not yet in force: campaign once it is. */
  transferCampaignPending: boolean;
}

export interface CandidateState {
  readonly role: "preCandidate" | "candidate";
  /** Answers so far in this (pre-)campaign, this node's own included. */
  readonly votes: Map<NodeId, boolean>;
}

/** What only a leader has, for as long as it leads in one term. */
export class LeaderState {
  readonly role = "leader";
  /** The leader's view of every member, itself included (its match is its durable last index). */
  readonly progress = new Map<NodeId, Progress>();
  readonly readOnly = new ReadOnly();
  /** Ticks since this node became leader: the lease's clock. */
  ticks = 0;
  heartbeatElapsed = 0;
  /** Index of the newest config entry this leader appended; no new change until it is applied. */
  pendingConfIndex: LogIndex;
  /** Where leadership is being handed (NO_NODE when not transferring), and for how many ticks. */
  leadTransferee: NodeId = NO_NODE;
  transferElapsed = 0;
  /**
   * A TimeoutNow went out in this term. Its target may campaign past the followers' stickiness
   * whenever it arrives, even after the transfer was abandoned here, so the lease is void for the
   * rest of this leadership.
   */
  timeoutNowSent = false;
  /** Entry data bytes the leader appended in this term and has not yet committed. */
  uncommittedBytes = 0;
  /** Proposals appended since the last Ready; their replication is sent when the Ready is built. */
  appendPending = false;

  constructor(pendingConfIndex: LogIndex) {
    this.pendingConfIndex = pendingConfIndex;
  }

  /** The entry for a member, or undefined for a sender outside the configuration. */
  progressOf(id: NodeId): Progress | undefined {
    return this.progress.get(id);
  }

  /** The entry for a member this leader replicates to; its absence is a bug, not an input. */
  progressOfMember(id: NodeId): Progress {
    const pr = this.progress.get(id);
    assert(pr !== undefined, `no progress for member ${id}`);
    return pr;
  }
}

type RoleState = FollowerState | CandidateState | LeaderState;

/**
 * One node's consensus state. It mutates in place on its inputs; the work it asks for (messages,
 * entries to persist, entries to apply) accumulates for the RawNode to hand out in a Ready.
 */
export class RaftState {
  readonly id: NodeId;
  readonly options: ResolvedOptions;
  term: Term = asTerm(0);
  vote: NodeId = NO_NODE;
  leader: NodeId = NO_NODE;
  state: RoleState = { role: "follower", transferCampaignPending: false };
  readonly log: RaftLog;
  voters: JointVoters;
  learners: Set<NodeId>;
  /** The index of the config entry (or snapshot) that set `voters` and `learners`. */
  configIndex: LogIndex;
  electionElapsed = 0;
  randomizedElectionTimeout = 0;
  /** The newest snapshot, sent to followers that need compacted entries. */
  snapshot: Snapshot | undefined;
  /** A snapshot received from the leader that the driver must persist and restore. */
  pendingSnapshot: Snapshot | undefined;
  readStates: ReadState[] = [];
  /** Messages that may leave at once: only a leader's, whose term is already durable. */
  messages: Message[] = [];
  /** Messages that promise something durable (votes, acknowledgements): sent after the Ready persists. */
  messagesAfterPersist: Message[] = [];
  readonly stats: RaftStats = { messagesDropped: 0, proposalsDropped: 0, leaderChanges: 0 };

  constructor(options: RaftOptions, durable?: DurableState) {
    this.options = resolveOptions(options);
    this.id = options.id;
    const snapshot = durable?.snapshot;
    const meta = snapshot?.meta;
    const outgoing = meta?.votersOutgoing ?? [];
    this.voters =
      meta === undefined
        ? [new Set(this.options.voters)]
        : outgoing.length === 0
          ? [new Set(meta.voters)]
          : [new Set(meta.voters), new Set(outgoing)];
    this.learners = new Set(meta?.learners ?? this.options.learners);
    this.configIndex = meta?.index ?? logIndex(0);
    this.snapshot = snapshot;
    const hardState = durable?.hardState;
    const offset = meta?.index ?? logIndex(0);
    this.log = new RaftLog({
      offset,
      offsetTerm: meta?.term ?? asTerm(0),
      // Entries the snapshot covers may linger on disk until compaction catches up.
      entries: (durable?.entries ?? []).filter((e) => e.index > offset),
      // A state machine that persists its own applied index may be ahead of a commit written unsynced.
      committed: logIndex(Math.max(hardState?.commit ?? 0, offset, durable?.applied ?? 0)),
      applied: logIndex(Math.max(durable?.applied ?? 0, offset)),
    });
    if (hardState !== undefined) {
      this.term = hardState.term;
      this.vote = hardState.vote;
    }
    if (this.log.lastTerm() > this.term) {
      // A torn write kept entries of a newer term but not the hard state written after them.
      // No vote in that term was ever sent (votes leave only after the whole write), so none is owed.
      this.term = this.log.lastTerm();
      this.vote = NO_NODE;
    }
  }

  get role(): Role {
    return this.state.role;
  }

  /** Whether a committed config entry is not yet in force here (it takes effect when handed out). */
  hasConfigPending(): boolean {
    return this.log.committedConfigIndex() > this.configIndex;
  }

  lastTermNotAfterCurrent(): boolean {
    return this.log.lastTerm() <= this.term;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  isVoter(id: NodeId): boolean {
    return this.voters[0].has(id) || (this.voters[1]?.has(id) ?? false);
  }

  /** Every member but this node: the destinations of replication and campaigns. */
  peers(): NodeId[] {
    const ids = allVoters(this.voters);
    for (const id of this.learners) ids.add(id);
    ids.delete(this.id);
    return [...ids].sort((a, b) => a - b);
  }

  send(m: Message): void {
    assert(m.to !== this.id, "a node never messages itself");
    if (sendsBeforePersist(m) && !(waitsForConfigCommit(m) && this.log.configCommitUnsynced())) this.messages.push(m);
    else this.messagesAfterPersist.push(m);
  }

  // ---- transitions -------------------------------------------------------------------------

  becomeFollower(newTerm: Term, leader: NodeId): void {
    this.#reset(newTerm);
    this.state = { role: "follower", transferCampaignPending: false };
    if (leader !== NO_NODE && leader !== this.leader) this.stats.leaderChanges++;
    this.leader = leader;
  }

  becomePreCandidate(): CandidateState {
    assert(this.state.role !== "leader", "a leader does not pre-campaign");
    // A pre-candidate keeps its term and vote: it only asks whether it could win.
    const { term, vote } = this;
    this.#reset(term);
    this.vote = vote;
    return this.#campaigning("preCandidate");
  }

  becomeCandidate(): CandidateState {
    assert(this.state.role !== "leader", "a leader does not campaign");
    this.#reset(asTerm(this.term + 1));
    this.vote = this.id;
    return this.#campaigning("candidate");
  }

  /** Takes the leader's role; the caller opens the term (leader.ts: startLeading). */
  becomeLeader(): LeaderState {
    assert(this.state.role === "candidate", `only a candidate becomes leader, not a ${this.state.role}`);
    this.#reset(this.term);
    // Any config entry in the uncommitted tail may still be pending: no new change until it applies.
    const leader = new LeaderState(this.log.lastIndex());
    for (const id of [this.id, ...this.peers()]) {
      leader.progress.set(id, new Progress(logIndex(this.log.lastIndex() + 1), this.options.inflightMax));
    }
    this.state = leader;
    this.stats.leaderChanges++;
    this.leader = this.id;
    return leader;
  }

  #campaigning(role: CandidateState["role"]): CandidateState {
    const campaign: CandidateState = { role, votes: new Map([[this.id, true]]) };
    this.state = campaign;
    return campaign;
  }

  #reset(newTerm: Term): void {
    if (this.term !== newTerm) {
      this.term = newTerm;
      this.vote = NO_NODE;
      // Votes and acknowledgements of an older term, not yet sent, would leave with a Ready whose
      // hard state no longer holds that vote, and whose log may no longer hold those entries:
      // dropped, as the network may drop them.
      this.messagesAfterPersist = this.messagesAfterPersist.filter((m) => m.term >= newTerm);
    }
    this.leader = NO_NODE;
    this.electionElapsed = 0;
    this.randomizedElectionTimeout = this.options.random.int(
      this.options.electionTicks,
      2 * this.options.electionTicks,
    );
  }
}
