import { assertNever } from "../util/assert.js";
import { logIndex } from "../util/ids.js";
import type { AppendEntries, Heartbeat, InstallSnapshot, Message } from "./messages.js";
import { campaign } from "./election.js";
import type { RaftState, StepResult } from "./state.js";

const OK: StepResult = { ok: true };

export function stepFollower(r: RaftState, m: Message): StepResult {
  switch (m.type) {
    case "appendEntries":
      heardFromLeader(r, m);
      handleAppendEntries(r, m);
      return OK;
    case "heartbeat":
      heardFromLeader(r, m);
      handleHeartbeat(r, m);
      return OK;
    case "installSnapshot":
      heardFromLeader(r, m);
      handleInstallSnapshot(r, m);
      return OK;
    case "timeoutNow":
      // Ordered by the leader: campaign now, skipping pre-vote and past the others' stickiness.
      if (!r.isVoter(r.id)) return { ok: false, reason: "unexpected" };
      r.log.commitTo(logIndex(Math.min(m.commit, r.log.lastIndex())));
      campaign(r, "vote", true);
      return OK;
    case "propose":
      // Forwarded proposals travel one hop only, so a stale leader hint cannot bounce them around.
      return { ok: false, reason: "unexpected" };
    case "readIndexResponse":
      r.readStates.push({ index: m.index, context: m.context });
      return OK;
    case "voteRequest":
    case "voteResponse":
    case "appendEntriesResponse":
    case "heartbeatResponse":
    case "readIndexRequest":
      return { ok: false, reason: "unexpected" };
    default:
      return assertNever(m, "message");
  }
}

function heardFromLeader(r: RaftState, m: AppendEntries | Heartbeat | InstallSnapshot): void {
  r.electionElapsed = 0;
  if (r.leader !== m.from) r.becomeFollower(r.term, m.from);
}

/** The receiver side of AppendEntries: the consistency check, then append and learn the commit. */
export function handleAppendEntries(r: RaftState, m: AppendEntries): void {
  const reply = { type: "appendEntriesResponse", from: r.id, to: m.from, term: r.term } as const;
  if (m.prevLogIndex < r.log.committed) {
    // Everything up to our commit already matches any leader's log; say so and let it move on.
    r.send({ ...reply, success: true, matchIndex: r.log.committed });
    return;
  }
  if (r.log.matchTerm(m.prevLogIndex, m.prevLogTerm)) {
    const lastNew = r.log.maybeAppend(m.prevLogIndex, m.entries);
    r.log.commitTo(logIndex(Math.min(m.commit, lastNew)));
    r.send({ ...reply, success: true, matchIndex: lastNew });
    return;
  }
  const hint = r.log.findConflictByTerm(logIndex(Math.min(m.prevLogIndex, r.log.lastIndex())), m.prevLogTerm);
  r.send({ ...reply, success: false, rejectedIndex: m.prevLogIndex, hintIndex: hint.index, hintTerm: hint.term });
}

export function handleHeartbeat(r: RaftState, m: Heartbeat): void {
  // The leader caps `commit` at what it knows we hold, so it never points past our matching log.
  r.log.commitTo(logIndex(Math.min(m.commit, r.log.lastIndex())));
  r.send({ type: "heartbeatResponse", from: r.id, to: m.from, term: r.term, context: m.context });
}

/**
 * A snapshot replaces the log unless the log already holds its last entry (then it only
 * teaches us the commit). Either way the leader learns where we now match.
 */
export function handleInstallSnapshot(r: RaftState, m: InstallSnapshot): void {
  const { meta } = m.snapshot;
  const reply = { type: "appendEntriesResponse", from: r.id, to: m.from, term: r.term, success: true } as const;
  if (meta.index <= r.log.committed) {
    r.send({ ...reply, matchIndex: r.log.committed });
    return;
  }
  if (r.log.matchTerm(meta.index, meta.term)) {
    r.log.commitTo(meta.index);
    r.send({ ...reply, matchIndex: meta.index });
    return;
  }
  r.log.restore(meta.index, meta.term);
  r.voters =
    meta.votersOutgoing.length === 0 ? [new Set(meta.voters)] : [new Set(meta.voters), new Set(meta.votersOutgoing)];
  r.learners = new Set(meta.learners);
  r.configIndex = meta.index;
  r.snapshot = m.snapshot;
  r.pendingSnapshot = m.snapshot;
  r.send({ ...reply, matchIndex: meta.index });
}
