import type { Notification } from "./messages.js";
import type { LookingState, ZabState } from "./state.js";
import { compareVote, type Vote } from "./types.js";

/*
 * Fast leader election, kept to what safety and liveness need. Every member looks with a vote for
 * the best member it knows of, best meaning the highest (currentEpoch, lastZxid, id); votes of a
 * higher round replace everything seen in a lower one. A member decides once a quorum of its round
 * votes as it does, on its next tick. Election only picks a candidate: discovery establishes the epoch, and a
 * prospective leader that finds a follower more recent than itself gives up (leader.ts), so an
 * unlucky decision costs time, never safety. A member that hears a leader announce itself joins
 * it at once (a restarted member rejoining a running ensemble).
 */

/** Handles a notification while looking. */
export function stepLooking(z: ZabState, s: LookingState, m: Notification): void {
  if (m.state === "leading") {
    if (m.vote.leader === m.from) z.becomeFollower(m.vote);
    return;
  }
  if (m.state === "following") {
    // A decided member's vote counts in its round; it is never answered (that could ping-pong).
    if (m.round !== z.round) return;
  } else if (m.round < z.round) {
    // The sender is behind: our vote brings it into this round.
    z.send(z.notification(m.from, "looking", s.vote));
    return;
  }
  if (m.round > z.round) {
    z.round = m.round;
    s.votes.clear();
    changeVote(z, s, better(z.ownVote(), m.vote));
  } else if (compareVote(m.vote, s.vote) > 0) {
    changeVote(z, s, m.vote);
  }
  s.votes.set(m.from, m.vote);
}

/**
 * A looking member decides on a tick, so that better votes arriving just after a quorum agreed
 * still count (ZooKeeper's finalizeWait); it repeats its vote in case it was lost.
 */
export function tickLooking(z: ZabState, s: LookingState): void {
  if (decideIfQuorum(z, s)) return;
  z.electionElapsed++;
  if (z.electionElapsed < z.electionTimeout) return;
  z.resetElectionTimer();
  for (const peer of z.peers) z.send(z.notification(peer, "looking", s.vote));
}

/** Follows, or leads, once a quorum of this round votes as this member does. */
export function decideIfQuorum(z: ZabState, s: LookingState): boolean {
  let agreeing = 0;
  for (const vote of s.votes.values()) if (compareVote(vote, s.vote) === 0) agreeing++;
  if (agreeing < z.quorum) return false;
  if (s.vote.leader === z.id) z.becomeLeader();
  else z.becomeFollower(s.vote);
  return true;
}

function changeVote(z: ZabState, s: LookingState, vote: Vote): void {
  s.vote = vote;
  s.votes.set(z.id, vote);
  for (const peer of z.peers) z.send(z.notification(peer, "looking", vote));
}

function better(a: Vote, b: Vote): Vote {
  return compareVote(a, b) >= 0 ? a : b;
}
