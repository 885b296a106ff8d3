import { assert } from "../util/assert.js";
import { logIndex, NO_NODE, type LogIndex, type NodeId } from "../util/ids.js";

/**
 * Majority maths for a voter set, and for a joint configuration (both halves must agree), in one
 * place so that commit and election rules cannot drift apart.
 */
export type VoteResult = "won" | "lost" | "pending";

/** The voter sets whose majorities must all agree; one set normally, two while joint. */
export type JointVoters = readonly [ReadonlySet<NodeId>, ReadonlySet<NodeId>?];

/** The largest index that a majority of `voters` has reached, given each voter's match index. */
export function majorityCommitted(voters: ReadonlySet<NodeId>, matchOf: (id: NodeId) => LogIndex): LogIndex {
  if (voters.size === 0) return logIndex(Number.MAX_SAFE_INTEGER);
  checkVoters(voters);
  const matches = [...voters].map(matchOf).sort((a, b) => b - a);
  return matches[Math.floor(voters.size / 2)]!;
}

export function jointCommitted(joint: JointVoters, matchOf: (id: NodeId) => LogIndex): LogIndex {
  const [incoming, outgoing] = joint;
  const a = majorityCommitted(incoming, matchOf);
  return outgoing === undefined ? a : logIndex(Math.min(a, majorityCommitted(outgoing, matchOf)));
}

export function majorityVote(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return "won";
  checkVoters(voters);
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const quorum = Math.floor(voters.size / 2) + 1;
  if (granted >= quorum) return "won";
  if (voters.size - rejected < quorum) return "lost";
  return "pending";
}

export function jointVote(joint: JointVoters, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const [incoming, outgoing] = joint;
  const a = majorityVote(incoming, votes);
  const b = outgoing === undefined ? "won" : majorityVote(outgoing, votes);
  if (a === "lost" || b === "lost") return "lost";
  if (a === "won" && b === "won") return "won";
  return "pending";
}

/** Whether the nodes in `active` form a quorum (used by check-quorum and ReadIndex acks). */
export function hasQuorum(joint: JointVoters, active: ReadonlySet<NodeId>): boolean {
  const votes = new Map<NodeId, boolean>();
  for (const id of active) votes.set(id, true);
  return jointVote(joint, votes) === "won";
}

export function allVoters(joint: JointVoters): Set<NodeId> {
  return new Set([...joint[0], ...(joint[1] ?? [])]);
}

/** Match indexes are range-checked where they are made (logIndex); what a quorum could get wrong is its set. */
function checkVoters(voters: ReadonlySet<NodeId>): void {
  assert(!voters.has(NO_NODE), "NO_NODE among the voters");
}
