import { assertNever } from "../util/assert.js";
import { handleAppendEntries, handleHeartbeat, handleInstallSnapshot } from "./follower.js";
import type { Message } from "./messages.js";
import { pollVotes } from "./election.js";
import type { CandidateState, RaftState, StepResult } from "./state.js";

const OK: StepResult = { ok: true };

/** Steps a candidate or pre-candidate. */
export function stepCandidate(r: RaftState, c: CandidateState, m: Message): StepResult {
  switch (m.type) {
    case "appendEntries":
      // A leader of our term exists: stop campaigning and follow it.
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return OK;
    case "heartbeat":
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return OK;
    case "installSnapshot":
      r.becomeFollower(m.term, m.from);
      handleInstallSnapshot(r, m);
      return OK;
    case "voteResponse": {
      // A response to the other kind of campaign is left over from an earlier round.
      if (m.preVote !== (c.role === "preCandidate")) return { ok: false, reason: "unexpected" };
      if (!r.isVoter(m.from)) return { ok: false, reason: "unknownPeer" };
      c.votes.set(m.from, m.granted);
      pollVotes(r, c);
      return OK;
    }
    case "propose":
      return { ok: false, reason: "noLeader" };
    case "timeoutNow":
    case "voteRequest":
    case "appendEntriesResponse":
    case "heartbeatResponse":
    case "readIndexRequest":
    case "readIndexResponse":
      return { ok: false, reason: "unexpected" };
    default:
      return assertNever(m, "message");
  }
}
