import { assert, assertNever } from "../util/assert.js";
import { logIndex, NO_NODE, term as asTerm, type LogIndex, type NodeId, type Term } from "../util/ids.js";
import { stepCandidate } from "./candidate.js";
import { stepFollower } from "./follower.js";
import { becomeLeaderState, leaderPersisted, stepLeader, tickLeader } from "./leader.js";
import { RaftLog } from "./log.js";
import { waitsForConfigCommit, isFromLeader, sendsBeforePersist, type Message, type VoteRequest } from "./messages.js";
import { resolveOptions, type RaftOptions, type ResolvedOptions } from "./options.js";
import { Progress } from "./progress.js";
import { allVoters, jointVote, type JointVoters } from "./quorum.js";
import { bootstrap, restoreConfig } from "./membership.js";
import { ReadOnly } from "./read_only.js";
import type { Entry, HardState, Role, Snapshot } from "./types.js";

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

const OK: StepResult = { ok: true };

/**
 * One node's consensus state. It mutates in place on tick()/step()/propose(); the work it asks for
 * (messages, entries to persist, entries to apply) accumulates for the RawNode to hand out in a
 * Ready. Role-specific handling lives in follower.ts, candidate.ts and leader.ts.
 */
export class Raft {
  readonly id: NodeId;
  readonly options: ResolvedOptions;
  term: Term = asTerm(0);
  vote: NodeId = NO_NODE;
  role: Role = "follower";
  leader: NodeId = NO_NODE;
  readonly log: RaftLog;
  voters: JointVoters;
  learners: Set<NodeId>;
  /** The index of the config entry (or snapshot) that set `voters` and `learners`. */
  configIndex: LogIndex;
  /** The leader's view of every member, itself included (its match is its durable last index). */
  progress = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();
  electionElapsed = 0;
  heartbeatElapsed = 0;
  /** Ticks since this node became leader: the lease's clock. */
  leaderTicks = 0;
  randomizedElectionTimeout = 0;
  /** Index of the newest config entry this leader appended; no new change until it is applied. */
  pendingConfIndex = logIndex(0);
  /** Where leadership is being handed (NO_NODE when not transferring), and for how many ticks. */
  leadTransferee: NodeId = NO_NODE;
  transferElapsed = 0;
  /**
   * A TimeoutNow went out in this term. Its target may campaign past the followers' stickiness
   * whenever it arrives, even after the transfer was abandoned here, so the lease is void until
   * this node leaves the term.
   */
  timeoutNowSent = false;
  /** A TimeoutNow arrived while a committed config entry was not yet in force: campaign once it is. */
  transferCampaignPending = false;
  /** Entry data bytes the leader appended in this term and has not yet committed. */
  uncommittedBytes = 0;
  /** Proposals appended since the last Ready; their replication is sent when the Ready is built. */
  appendPending = false;
  readonly readOnly = new ReadOnly();
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
      outgoing.length === 0
        ? [new Set(meta?.voters ?? this.options.voters)]
        : [new Set(meta!.voters), new Set(outgoing)];
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
    restoreConfig(this, durable?.entries ?? []);
    const fresh =
      durable === undefined ||
      (durable.entries.length === 0 && durable.snapshot === undefined && durable.hardState.term === 0);
    if (fresh && this.options.voters.length > 0) bootstrap(this);
    this.becomeFollower(this.term, NO_NODE);
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
    this.heartbeatElapsed = 0;
    this.leaderTicks = 0;
    this.randomizedElectionTimeout = this.options.random.int(
      this.options.electionTicks,
      2 * this.options.electionTicks,
    );
    this.votes = new Map();
    this.progress = new Map();
    this.uncommittedBytes = 0;
    this.appendPending = false;
    this.leadTransferee = NO_NODE;
    this.transferElapsed = 0;
    this.timeoutNowSent = false;
    this.transferCampaignPending = false;
    this.readOnly.reset();
  }

  becomeFollower(newTerm: Term, leader: NodeId): void {
    this.#reset(newTerm);
    this.role = "follower";
    this.#setLeader(leader);
  }

  #setLeader(leader: NodeId): void {
    if (leader !== NO_NODE && leader !== this.leader) this.stats.leaderChanges++;
    this.leader = leader;
  }

  becomePreCandidate(): void {
    assert(this.role !== "leader", "a leader does not pre-campaign");
    // A pre-candidate keeps its term and vote: it only asks whether it could win.
    const { term, vote } = this;
    this.#reset(term);
    this.vote = vote;
    this.role = "preCandidate";
  }

  becomeCandidate(): void {
    assert(this.role !== "leader", "a leader does not campaign");
    this.#reset(asTerm(this.term + 1));
    this.vote = this.id;
    this.role = "candidate";
  }

  becomeLeader(): void {
    assert(this.role === "candidate", `only a candidate becomes leader, not a ${this.role}`);
    const { term } = this;
    this.#reset(term);
    this.role = "leader";
    this.#setLeader(this.id);
    for (const id of [this.id, ...this.peers()]) {
      this.progress.set(id, new Progress(logIndex(this.log.lastIndex() + 1), this.options.inflightMax));
    }
    // Any config entry in the uncommitted tail may still be pending: no new change until it applies.
    this.pendingConfIndex = this.log.lastIndex();
    becomeLeaderState(this);
  }

  /**
   * Starts a (pre-)election; `transfer` marks one ordered by leadership transfer. Never while a
   * committed config entry is not yet in force: the election would be decided by the quorums of a
   * configuration the cluster has left (etcd's "Campaign" invariant). A transfer campaign waits for
   * the entry to be handed out (RawNode.ready); another one waits for the next election timeout.
   */
  campaign(kind: "preVote" | "vote", transfer = false): void {
    if (this.hasConfigPending()) {
      if (transfer) this.transferCampaignPending = true;
      return;
    }
    if (!this.isVoter(this.id)) return;
    if (kind === "preVote") this.becomePreCandidate();
    else this.becomeCandidate();
    const preVote = kind === "preVote";
    this.votes.set(this.id, true);
    if (this.pollVotes() !== "pending") return;
    const campaignTerm = asTerm(preVote ? this.term + 1 : this.term);
    for (const to of this.peers()) {
      if (!this.isVoter(to)) continue;
      this.send({
        type: "voteRequest",
        from: this.id,
        to,
        term: campaignTerm,
        preVote,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
        transfer,
      });
    }
  }

  /** Tallies the votes; a won pre-vote starts the real election, a won election makes a leader. */
  pollVotes(): "won" | "lost" | "pending" {
    const result = jointVote(this.voters, this.votes);
    if (result === "won") {
      if (this.role === "preCandidate") this.campaign("vote");
      else this.becomeLeader();
    } else if (result === "lost") {
      this.becomeFollower(this.term, NO_NODE);
    }
    return result;
  }

  // ---- inputs ------------------------------------------------------------------------------

  tick(): void {
    if (this.role === "leader") {
      tickLeader(this);
      return;
    }
    this.electionElapsed++;
    // A node that may not campaign (a learner, a removed member) lets its count run on, so its
    // stickiness to a leader it no longer hears lapses instead of renewing itself forever.
    if (this.electionElapsed >= this.randomizedElectionTimeout && this.isVoter(this.id)) {
      this.electionElapsed = 0;
      this.campaign(this.options.preVote ? "preVote" : "vote");
    }
  }

  step(m: Message): StepResult {
    const termCheck = this.#checkTerm(m);
    if (termCheck !== OK) return this.#dropped(termCheck);
    if (m.type === "voteRequest") {
      this.#handleVoteRequest(m);
      return OK;
    }
    const result = this.#stepRole(m);
    return result.ok ? result : this.#dropped(result);
  }

  #stepRole(m: Message): StepResult {
    switch (this.role) {
      case "leader":
        return stepLeader(this, m);
      case "candidate":
      case "preCandidate":
        return stepCandidate(this, m);
      case "follower":
        return stepFollower(this, m);
      default:
        return assertNever(this.role, "role");
    }
  }

  #dropped(result: StepResult): StepResult {
    this.stats.messagesDropped++;
    return result;
  }

  /** Raft's term rules, with the pre-vote and leader-stickiness exceptions of the thesis §9.6. */
  #checkTerm(m: Message): StepResult {
    if (m.term > this.term) {
      if (m.type === "voteRequest" && !m.transfer && this.#inLeaderLease()) {
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

  /** Leader stickiness: while a live leader is heard, no one else can win this node's vote. */
  #inLeaderLease(): boolean {
    return this.options.checkQuorum && this.leader !== NO_NODE && this.electionElapsed < this.options.electionTicks;
  }

  #handleVoteRequest(m: VoteRequest): void {
    const canVote =
      this.vote === m.from || (this.vote === NO_NODE && this.leader === NO_NODE) || (m.preVote && m.term > this.term);
    const granted = canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
    // A granted pre-vote answers in the asked term, so the pre-candidate counts it.
    this.send({
      type: "voteResponse",
      from: this.id,
      to: m.from,
      term: granted ? m.term : this.term,
      preVote: m.preVote,
      granted,
    });
    if (granted && !m.preVote) {
      this.electionElapsed = 0;
      this.vote = m.from;
    }
  }

  /** The leader's entry for `m.from`, or undefined for a sender outside the configuration. */
  progressOf(id: NodeId): Progress | undefined {
    return this.progress.get(id);
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
    if (this.role === "leader") leaderPersisted(this);
  }
}
