import { assert, assertNever } from "../util/assert.js";
import { logIndex, NO_NODE, type LogIndex, type NodeId } from "../util/ids.js";
import type { AppendEntriesResponse, HeartbeatResponse, Message, ReadIndexRequest } from "./messages.js";
import { hasQuorum, jointCommitted } from "./quorum.js";
import type { Raft, StepResult } from "./raft.js";
import { handOffIfRemoved } from "./membership.js";
import { appendToLog, broadcastHeartbeat, sendAppend, sendTimeoutNow } from "./replication.js";
import type { ReadOnlyMode } from "./options.js";

const OK: StepResult = { ok: true };
const EMPTY = new Uint8Array(0);

/** A new leader opens its term with a no-op entry: committing it commits everything before it. */
export function becomeLeaderState(r: Raft): void {
  appendToLog(r, [{ kind: "normal", data: EMPTY }]);
}

export function tickLeader(r: Raft): void {
  r.leaderTicks++;
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.options.electionTicks) {
    r.electionElapsed = 0;
    // A removed leader keeps going until its successor takes over: it can decide nothing alone
    // (it is not a voter, and its lease is off while transferring), and stepping down before the
    // others learn of the removal can leave them unable to elect anyone.
    if (r.options.checkQuorum && r.isVoter(r.id) && !quorumActive(r)) {
      r.becomeFollower(r.term, NO_NODE);
      return;
    }
  }
  retryLostSnapshots(r);
  if (r.leadTransferee !== NO_NODE && ++r.transferElapsed >= r.options.electionTicks) {
    // The target did not take over within an election timeout: keep leading and take proposals
    // again, or, if this leader was removed, try the next successor.
    const abandoned = r.leadTransferee;
    r.leadTransferee = NO_NODE;
    handOffIfRemoved(r, abandoned);
  }
  if (r.heartbeatElapsed >= r.options.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    broadcastHeartbeat(r);
  }
}

/** A snapshot unanswered for two election timeouts was probably lost: probe again, which resends it. */
function retryLostSnapshots(r: Raft): void {
  for (const [id, pr] of r.progress) {
    if (pr.state !== "snapshot" || ++pr.snapshotTicks < 2 * r.options.electionTicks) continue;
    pr.becomeProbe();
    sendAppend(r, id, true);
  }
}

/** Check-quorum: did a quorum (counting this leader) answer during the last election timeout? */
function quorumActive(r: Raft): boolean {
  const active = new Set<NodeId>([r.id]);
  for (const [id, pr] of r.progress) {
    if (pr.recentActive) active.add(id);
    if (id !== r.id) pr.recentActive = false;
  }
  return hasQuorum(r.voters, active);
}

export function stepLeader(r: Raft, m: Message): StepResult {
  switch (m.type) {
    case "appendEntriesResponse":
      return handleAppendResponse(r, m);
    case "heartbeatResponse":
      return handleHeartbeatResponse(r, m);
    case "propose":
      return proposeEntries(r, m.data).ok ? OK : { ok: false, reason: "unexpected" };
    case "readIndexRequest":
      return handleReadIndexRequest(r, m);
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
  | { readonly ok: true; readonly index: LogIndex; readonly term: number }
  | { readonly ok: false; readonly error: ProposeError };

/** Appends proposals to the leader's log; replication goes out with the next Ready. */
export function proposeEntries(r: Raft, data: readonly Uint8Array[]): ProposeResult {
  assert(r.role === "leader", "proposeEntries on a non-leader");
  if (r.leadTransferee !== NO_NODE) {
    r.stats.proposalsDropped += data.length;
    return { ok: false, error: "transferInProgress" };
  }
  let bytes = 0;
  for (const d of data) bytes += d.byteLength;
  // An oversized proposal still goes through alone, or a large value could never be written.
  if (r.uncommittedBytes > 0 && r.uncommittedBytes + bytes > r.options.uncommittedBytesMax) {
    r.stats.proposalsDropped += data.length;
    return { ok: false, error: "uncommittedBytesMax" };
  }
  appendToLog(
    r,
    data.map((d) => ({ kind: "normal" as const, data: d })),
  );
  r.uncommittedBytes += bytes;
  return { ok: true, index: r.log.lastIndex(), term: r.term };
}

/** The leader's own entries are durable: it counts itself toward the commit quorum from now. */
export function leaderPersisted(r: Raft): void {
  const self = r.progress.get(r.id);
  assert(self !== undefined, "leader without its own progress");
  if (self.maybeUpdate(r.log.stableIndex())) maybeCommit(r);
}

function handleAppendResponse(r: Raft, m: AppendEntriesResponse): StepResult {
  const pr = r.progressOf(m.from);
  if (pr === undefined) return { ok: false, reason: "unknownPeer" };
  pr.recentActive = true;
  if (!m.success) {
    // The hint lets us skip every entry of a term the follower does not have in one round trip.
    const hintNext = m.hintTerm > 0 ? r.log.findConflictByTerm(m.hintIndex, m.hintTerm).index + 1 : m.hintIndex + 1;
    if (pr.maybeDecreaseTo(m.rejectedIndex, logIndex(hintNext))) {
      if (pr.state === "replicate") pr.becomeProbe();
      sendAppend(r, m.from, true);
    }
    return OK;
  }
  if (m.matchIndex > r.log.lastIndex()) return { ok: false, reason: "malformed" };
  if (!pr.maybeUpdate(m.matchIndex)) return OK;
  // After a snapshot, the follower can continue from the log once it reaches the compaction point.
  if (pr.state === "probe" || (pr.state === "snapshot" && pr.match >= r.log.offset())) pr.becomeReplicate();
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
  if (!maybeCommit(r)) {
    while (pr.next <= r.log.lastIndex() && !pr.isPaused()) sendAppend(r, m.from, false);
  }
  return OK;
}

function handleHeartbeatResponse(r: Raft, m: HeartbeatResponse): StepResult {
  const pr = r.progressOf(m.from);
  if (pr === undefined) return { ok: false, reason: "unknownPeer" };
  pr.heardFrom();
  if (pr.match < r.log.lastIndex()) sendAppend(r, m.from, true);
  if (m.context !== 0) confirmReads(r, m.context, m.from);
  return OK;
}

/**
 * Figure 8's rule: advance commit to what a quorum holds, but only through an entry of this
 * term; older entries commit with it, never by counting replicas alone.
 */
function maybeCommit(r: Raft): boolean {
  const quorumIndex = jointCommitted(r.voters, (id) => r.progress.get(id)?.match ?? logIndex(0));
  if (quorumIndex <= r.log.committed || r.log.termAt(quorumIndex) !== r.term) return false;
  for (let i = r.log.committed + 1; i <= quorumIndex; i++) {
    const entry = r.log.entryAt(logIndex(i))!;
    // Only this term's proposals were counted; inherited entries and config changes never took from the budget.
    if (entry.term === r.term && entry.kind === "normal") r.uncommittedBytes -= entry.data.byteLength;
  }

  r.log.commitTo(quorumIndex);
  releaseReadsWaitingForTermCommit(r);
  for (const to of r.peers()) sendAppend(r, to, true);
  return true;
}

// ---- ReadIndex and leases ---------------------------------------------------------------------

/**
 * The lease holds for leaseTicks() leader ticks after the newest heartbeat a quorum confirmed was
 * sent: the followers that heard it refuse other candidates for electionTicks of their own ticks.
 */
export function leaseValid(r: Raft): boolean {
  // A TimeoutNow lets a campaign through the followers' stickiness, which is what the lease rests on.
  if (r.timeoutNowSent) return false;
  return r.options.checkQuorum && r.leaderTicks - r.readOnly.leaseStartTick() < leaseTicks(r.options);
}

/**
 * electionTicks shrunk by the worst ratio of two clocks' rates under clockDriftMax, less two ticks
 * for the phase difference between two members' tick timers. The driver voids the lease across its
 * own stalls.
 */
export function leaseTicks(options: { readonly electionTicks: number; readonly clockDriftMax: number }): number {
  const d = options.clockDriftMax;
  return Math.floor((options.electionTicks * (1 - d)) / (1 + d)) - 2;
}

/** Starts a read for `requester` (this leader or a follower). */
export function leaderReadIndex(r: Raft, context: Uint8Array, requester: NodeId, mode: ReadOnlyMode): void {
  const read = { index: r.log.committed, context, requester };
  if (r.log.termAt(r.log.committed) !== r.term) {
    // Until an entry of this term commits, our commit index may lag the true one.
    r.readOnly.waitingForTermCommit.push(read);
    return;
  }
  startRead(r, read, mode);
}

function startRead(
  r: Raft,
  read: { index: LogIndex; context: Uint8Array; requester: NodeId },
  mode: ReadOnlyMode,
): void {
  if (r.peers().every((id) => !r.isVoter(id)) || (mode === "lease" && leaseValid(r))) {
    // Alone, or inside the lease, leadership needs no fresh confirmation.
    answerRead(r, read);
    return;
  }
  r.readOnly.add(read);
  broadcastHeartbeat(r);
}

function releaseReadsWaitingForTermCommit(r: Raft): void {
  const waiting = r.readOnly.waitingForTermCommit;
  if (waiting.length === 0) return;
  r.readOnly.waitingForTermCommit = [];
  for (const read of waiting) startRead(r, { ...read, index: r.log.committed }, "safe");
}

function confirmReads(r: Raft, heartbeat: number, from: NodeId): void {
  for (const read of r.readOnly.ack(r.voters, r.id, from, heartbeat)) answerRead(r, read);
}

function answerRead(r: Raft, read: { index: LogIndex; context: Uint8Array; requester: NodeId }): void {
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

function handleReadIndexRequest(r: Raft, m: ReadIndexRequest): StepResult {
  if (r.progressOf(m.from) === undefined) return { ok: false, reason: "unknownPeer" };
  leaderReadIndex(r, m.context, m.from, r.options.readOnlyMode);
  return OK;
}
