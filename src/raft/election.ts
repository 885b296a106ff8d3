import { NO_NODE, term as asTerm } from "../util/ids.js";
import { startLeading } from "./leader.js";
import type { VoteRequest } from "./messages.js";
import { jointVote, type VoteResult } from "./quorum.js";
import type { CandidateState, RaftState } from "./state.js";

/* Leader election (§5.2) with pre-vote and leader stickiness (thesis §9.6). */

/** A follower's or candidate's clock: an election timeout without a leader starts a campaign. */
export function tickElection(r: RaftState): void {
  r.electionElapsed++;
  // A node that may not campaign (a learner, a removed member) lets its count run on, so its
  // stickiness to a leader it no longer hears lapses instead of renewing itself forever.
  if (r.electionElapsed >= r.randomizedElectionTimeout && r.isVoter(r.id)) {
    r.electionElapsed = 0;
    campaign(r, r.options.preVote ? "preVote" : "vote");
  }
}

/**
 * Starts a (pre-)election; `transfer` marks one ordered by leadership transfer. Never while a
 * committed config entry is not yet in force: the election would be decided by the quorums of a
 * configuration the cluster has left (etcd's "Campaign" invariant). A transfer campaign waits for
 * the entry to be handed out (Raft.prepareReady); another one waits for the next election timeout.
 */
export function campaign(r: RaftState, kind: "preVote" | "vote", transfer = false): void {
  if (r.hasConfigPending()) {
    if (transfer && r.state.role === "follower") r.state.transferCampaignPending = true;
    return;
  }
  if (!r.isVoter(r.id)) return;
  const preVote = kind === "preVote";
  const candidate = preVote ? r.becomePreCandidate() : r.becomeCandidate();
  if (pollVotes(r, candidate) !== "pending") return;
  const campaignTerm = asTerm(preVote ? r.term + 1 : r.term);
  for (const to of r.peers()) {
    if (!r.isVoter(to)) continue;
    r.send({
      type: "voteRequest",
      from: r.id,
      to,
      term: campaignTerm,
      preVote,
      lastLogIndex: r.log.lastIndex(),
      lastLogTerm: r.log.lastTerm(),
      transfer,
    });
  }
}

/** Tallies the votes; a won pre-vote starts the real election, a won election makes a leader. */
export function pollVotes(r: RaftState, candidate: CandidateState): VoteResult {
  const result = jointVote(r.voters, candidate.votes);
  if (result === "won") {
    if (candidate.role === "preCandidate") campaign(r, "vote");
    else startLeading(r);
  } else if (result === "lost") {
    r.becomeFollower(r.term, NO_NODE);
  }
  return result;
}

/** Leader stickiness: while a live leader is heard, no one else can win this node's vote. */
export function inLeaderLease(r: RaftState): boolean {
  return r.options.checkQuorum && r.leader !== NO_NODE && r.electionElapsed < r.options.electionTicks;
}

export function handleVoteRequest(r: RaftState, m: VoteRequest): void {
  const canVote = r.vote === m.from || (r.vote === NO_NODE && r.leader === NO_NODE) || (m.preVote && m.term > r.term);
  const granted = canVote && r.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
  // A granted pre-vote answers in the asked term, so the pre-candidate counts it.
  r.send({
    type: "voteResponse",
    from: r.id,
    to: m.from,
    term: granted ? m.term : r.term,
    preVote: m.preVote,
    granted,
  });
  if (granted && !m.preVote) {
    r.electionElapsed = 0;
    r.vote = m.from;
  }
}
