import { assertNever } from "../util/assert.js";
import { logIndex, NO_NODE, type LogIndex, type NodeId, type Term } from "../util/ids.js";
import type { AppendEntriesResponse, HeartbeatResponse, Message, ReadIndexRequest } from "./messages.js";
import { hasQuorum, jointCommitted } from "./quorum.js";
import type { LeaderState, RaftState, StepResult } from "./state.js";
import { handOffIfRemoved } from "./membership.js";
import { appendToLog, broadcastHeartbeat, sendAppend, sendTimeoutNow } from "./replication.js";
import type { ReadOnlyMode } from "./options.js";

const OK: StepResult = { ok: true };
const EMPTY = new Uint8Array(0);

/** A new leader opens its term with a no-op entry: committing it commits everything before it. */
export function startLeading(r: RaftState): void {
  const l = r.becomeLeader();
  appendToLog(r, l, [{ kind: "normal", data: EMPTY }]);
}

export function tickLeader(r: RaftState, l: LeaderState): void {
  l.ticks++;
  l.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.options.electionTicks) {
    r.electionElapsed = 0;
    // A removed leader keeps going until its successor takes over: it can decide nothing alone
    // (it is not a voter, and its lease is off while transferring), and stepping down before the
    // others learn of the removal can leave them unable to elect anyone.
    if (r.options.checkQuorum && r.isVoter(r.id) && !quorumActive(r, l)) {
      r.becomeFollower(r.term, NO_NODE);
      return;
    }
  }
  retryLostSnapshots(r, l);
  if (l.leadTransferee !== NO_NODE && ++l.transferElapsed >= r.options.electionTicks) {
    // The target did not take over within an election timeout: keep leading and take proposals
    // again, or, if this leader was removed, try the next successor.
    const abandoned = l.leadTransferee;
    l.leadTransferee = NO_NODE;
    handOffIfRemoved(r, l, abandoned);
  }
  if (l.heartbeatElapsed >= r.options.heartbeatTicks) {
    l.heartbeatElapsed = 0;
    broadcastHeartbeat(r, l);
  }
}

/** A snapshot unanswered for two election timeouts was probably lost: probe again, which resends it. */
function retryLostSnapshots(r: RaftState, l: LeaderState): void {
  for (const [id, pr] of l.progress) {
    if (pr.state !== "snapshot" || ++pr.snapshotTicks < 2 * r.options.electionTicks) continue;
    pr.becomeProbe();
    sendAppend(r, l, id, true);
  }
}

/** Check-quorum: did a quorum (counting this leader) answer during the last election timeout? */
function quorumActive(r: RaftState, l: LeaderState): boolean {
  const active = new Set<NodeId>([r.id]);
  for (const [id, pr] of l.progress) {
    if (pr.recentActive) active.add(id);
    if (id !== r.id) pr.recentActive = false;
  }
  return hasQuorum(r.voters, active);
}

export function stepLeader(r: RaftState, l: LeaderState, m: Message): StepResult {
  switch (m.type) {
    case "appendEntriesResponse":
      return handleAppendResponse(r, l, m);
    case "heartbeatResponse":
      return handleHeartbeatResponse(r, l, m);
    case "propose":
      return proposeEntries(r, l, m.data).ok ? OK : { ok: false, reason: "unexpected" };
    case "readIndexRequest":
      return handleReadIndexRequest(r, l, m);
    case "voteResponse":
      return { ok: false, reason: "unexpected" };
    case "appendEntries":
    case "heartbeat":
    case "installSnapshot":
    case "timeoutNow":
    case "voteRequest":
    case "readIndexResponse":
      // Two leaders in one term cannot happen; a message claiming otherwise is bogus.
      return { ok: false, reason: "unexpected" };
    default:
      return assertNever(m, "message");
  }
}

export type ProposeError = "notLeader" | "noLeader" | "uncommittedBytesMax" | "transferInProgress";
export type ProposeResult =
  | { readonly ok: true; readonly outcome: "appended"; readonly index: LogIndex; readonly term: Term }
  | { readonly ok: false; readonly error: ProposeError };

/** Appends proposals to the leader's log; replication goes out with the next Ready. */
export function proposeEntries(r: RaftState, l: LeaderState, data: readonly Uint8Array[]): ProposeResult {
  if (l.leadTransferee !== NO_NODE) {
    r.stats.proposalsDropped += data.length;
    return { ok: false, error: "transferInProgress" };
  }
  let bytes = 0;
  for (const d of data) bytes += d.byteLength;
  // An oversized proposal still goes through alone, or a large value could never be written.
  if (l.uncommittedBytes > 0 && l.uncommittedBytes + bytes > r.options.uncommittedBytesMax) {
    r.stats.proposalsDropped += data.length;
    return { ok: false, error: "uncommittedBytesMax" };
  }
  appendToLog(
    r,
    l,
    data.map((d) => ({ kind: "normal" as const, data: d })),
  );
  l.uncommittedBytes += bytes;
  return { ok: true, outcome: "appended", index: r.log.lastIndex(), term: r.term };
}

/** The leader's own entries are durable: it counts itself toward the commit quorum from now. */
export function leaderPersisted(r: RaftState, l: LeaderState): void {
  if (l.progressOfMember(r.id).maybeUpdate(r.log.stableIndex())) maybeCommit(r, l);
}

function handleAppendResponse(r: RaftState, l: LeaderState, m: AppendEntriesResponse): StepResult {
  const pr = l.progressOf(m.from);
  if (pr === undefined) return { ok: false, reason: "unknownPeer" };
  pr.recentActive = true;
  if (!m.success) {
    // The hint lets us skip every entry of a term the follower does not have in one round trip.
    const hintNext = m.hintTerm > 0 ? r.log.findConflictByTerm(m.hintIndex, m.hintTerm).index + 1 : m.hintIndex + 1;
    if (pr.maybeDecreaseTo(m.rejectedIndex, logIndex(hintNext))) {
      if (pr.state === "replicate") pr.becomeProbe();
      sendAppend(r, l, m.from, true);
    }
    return OK;
  }
  if (m.matchIndex > r.log.lastIndex()) return { ok: false, reason: "malformed" };
  if (!pr.maybeUpdate(m.matchIndex)) return OK;
  // After a snapshot, the follower can continue from the log once it reaches the compaction point.
  if (pr.state === "probe" || (pr.state === "snapshot" && pr.match >= r.log.offset())) pr.becomeReplicate();
  if (m.from === l.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, l, m.from);
  if (!maybeCommit(r, l)) {
    while (pr.next <= r.log.lastIndex() && !pr.isPaused()) sendAppend(r, l, m.from, false);
  }
  return OK;
}

function handleHeartbeatResponse(r: RaftState, l: LeaderState, m: HeartbeatResponse): StepResult {
  const pr = l.progressOf(m.from);
  if (pr === undefined) return { ok: false, reason: "unknownPeer" };
  pr.heardFrom();
  if (pr.match < r.log.lastIndex()) sendAppend(r, l, m.from, true);
  if (m.context !== 0) confirmReads(r, l, m.context, m.from);
  return OK;
}

/**
 * Figure 8's rule: advance commit to what a quorum holds, but only through an entry of this
 * term; older entries commit with it, never by counting replicas alone.
 */
function maybeCommit(r: RaftState, l: LeaderState): boolean {
  const quorumIndex = jointCommitted(r.voters, (id) => l.progress.get(id)?.match ?? logIndex(0));
  if (quorumIndex <= r.log.committed || r.log.termAt(quorumIndex) !== r.term) return false;
  for (let i = r.log.committed + 1; i <= quorumIndex; i++) {
    const entry = r.log.entryAt(logIndex(i))!;
    // Only this term's proposals were counted; inherited entries and config changes never took from the budget.
    if (entry.term === r.term && entry.kind === "normal") l.uncommittedBytes -= entry.data.byteLength;
  }

  r.log.commitTo(quorumIndex);
  releaseReadsWaitingForTermCommit(r, l);
  for (const to of r.peers()) sendAppend(r, l, to, true);
  return true;
}

// ---- ReadIndex and leases ---------------------------------------------------------------------

/**
 * The lease holds for leaseTicks() leader ticks after the newest heartbeat a quorum confirmed was
 * sent: the followers that heard it refuse other candidates for electionTicks of their own ticks.
 */
function leaseValid(r: RaftState, l: LeaderState): boolean {
  // A TimeoutNow lets a campaign through the followers' stickiness, which is what the lease rests on.
  if (l.timeoutNowSent) return false;
  return r.options.checkQuorum && l.ticks - l.readOnly.leaseStartTick() < leaseTicks(r.options);
}

/**
 * electionTicks shrunk by the worst ratio of two clocks' rates under clockDriftMax, less two ticks
 * for the phase difference between two members' tick timers. The driver voids the lease across its
 * own stalls.
 */
function leaseTicks(options: { readonly electionTicks: number; readonly clockDriftMax: number }): number {
  const d = options.clockDriftMax;
  return Math.floor((options.electionTicks * (1 - d)) / (1 + d)) - 2;
}

/** Starts a read for `requester` (this leader or a follower). */
export function leaderReadIndex(
  r: RaftState,
  l: LeaderState,
  context: Uint8Array,
  requester: NodeId,
  mode: ReadOnlyMode,
): void {
  const read = { index: r.log.committed, context, requester };
  if (r.log.termAt(r.log.committed) !== r.term) {
    // Until an entry of this term commits, our commit index may lag the true one.
    l.readOnly.waitingForTermCommit.push(read);
    return;
  }
  startRead(r, l, read, mode);
}

function startRead(
  r: RaftState,
  l: LeaderState,
  read: { index: LogIndex; context: Uint8Array; requester: NodeId },
  mode: ReadOnlyMode,
): void {
  if (r.peers().every((id) => !r.isVoter(id)) || (mode === "lease" && leaseValid(r, l))) {
    // Alone, or inside the lease, leadership needs no fresh confirmation.
    answerRead(r, read);
    return;
  }
  l.readOnly.add(read);
  broadcastHeartbeat(r, l);
}

function releaseReadsWaitingForTermCommit(r: RaftState, l: LeaderState): void {
  const waiting = l.readOnly.waitingForTermCommit;
  if (waiting.length === 0) return;
  l.readOnly.waitingForTermCommit = [];
  for (const read of waiting) startRead(r, l, { ...read, index: r.log.committed }, "safe");
}

function confirmReads(r: RaftState, l: LeaderState, heartbeat: number, from: NodeId): void {
  for (const read of l.readOnly.ack(r.voters, r.id, from, heartbeat)) answerRead(r, read);
}

function answerRead(r: RaftState, read: { index: LogIndex; context: Uint8Array; requester: NodeId }): void {
  if (read.requester === r.id) {
    r.readStates.push({ index: read.index, context: read.context });
  } else {
    r.send({
      type: "readIndexResponse",
      from: r.id,
      to: read.requester,
      term: r.term,
      context: read.context,
      index: read.index,
    });
  }
}

function handleReadIndexRequest(r: RaftState, l: LeaderState, m: ReadIndexRequest): StepResult {
  if (l.progressOf(m.from) === undefined) return { ok: false, reason: "unknownPeer" };
  leaderReadIndex(r, l, m.context, m.from, r.options.readOnlyMode);
  return OK;
}
