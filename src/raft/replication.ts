import { assert } from "../util/assert.js";
import { logIndex, type NodeId } from "../util/ids.js";
import type { LeaderState, RaftState } from "./state.js";
import type { Entry } from "./types.js";

/* The leader's outgoing traffic: appending to its own log, AppendEntries, snapshots, heartbeats. */

export function appendToLog(r: RaftState, l: LeaderState, items: readonly Pick<Entry, "kind" | "data">[]): void {
  const first = r.log.lastIndex() + 1;
  r.log.appendNew(
    items.map((item, k) => ({ index: logIndex(first + k), term: r.term, kind: item.kind, data: item.data })),
  );
  l.appendPending = true;
  // A single voter commits as soon as its own disk has the entries (see leaderPersisted).
}

/** Sends everything appended since the last Ready to every follower that is not paused. */
export function flushAppends(r: RaftState, l: LeaderState): void {
  if (!l.appendPending) return;
  l.appendPending = false;
  for (const to of r.peers()) {
    const pr = l.progressOfMember(to);
    while (pr.next <= r.log.lastIndex() && !pr.isPaused()) sendAppend(r, l, to, false);
  }
}

/**
 * Sends one AppendEntries to `to` from its next index, or nothing if the follower is paused.
 * `sendIfEmpty` sends a bare message to carry the commit index or to probe.
 */
export function sendAppend(r: RaftState, l: LeaderState, to: NodeId, sendIfEmpty: boolean): void {
  const pr = l.progressOfMember(to);
  if (pr.isPaused()) return;
  const prevLogIndex = logIndex(pr.next - 1);
  const prevLogTerm = r.log.termAt(prevLogIndex);
  if (prevLogTerm === undefined) {
    sendSnapshot(r, l, to);
    return;
  }
  const last = Math.min(r.log.lastIndex(), pr.next + r.options.appendEntriesMax - 1);
  const entries = pr.next <= last ? r.log.slice(pr.next, logIndex(last), r.options.appendBytesMax) : [];
  if (entries.length === 0 && !sendIfEmpty) return;
  r.send({
    type: "appendEntries",
    from: r.id,
    to,
    term: r.term,
    prevLogIndex,
    prevLogTerm,
    entries,
    commit: r.log.committed,
  });
  pr.sentAppend(entries.at(-1)?.index);
}

/** Leadership transfer: the target is up to date, so it may campaign at once. */
export function sendTimeoutNow(r: RaftState, l: LeaderState, to: NodeId): void {
  l.timeoutNowSent = true;
  // Sent only once `to` holds the whole log, so the commit index is within its matching log.
  r.send({ type: "timeoutNow", from: r.id, to, term: r.term, commit: r.log.committed });
}

/** The follower needs entries compacted away: send the newest snapshot instead. */
function sendSnapshot(r: RaftState, l: LeaderState, to: NodeId): void {
  const snapshot = r.snapshot;
  assert(snapshot !== undefined, "the log was compacted without a snapshot");
  r.send({ type: "installSnapshot", from: r.id, to, term: r.term, snapshot });
  l.progressOfMember(to).becomeSnapshot(snapshot.meta.index);
}

/** Heartbeats carry a sequence number that answers echo, for ReadIndex and the lease. */
export function broadcastHeartbeat(r: RaftState, l: LeaderState): void {
  const context = l.readOnly.nextHeartbeat(l.ticks);
  for (const to of r.peers()) {
    const pr = l.progressOfMember(to);
    r.send({
      type: "heartbeat",
      from: r.id,
      to,
      term: r.term,
      commit: logIndex(Math.min(pr.match, r.log.committed)),
      context,
    });
  }
}

/**
 * One append to a member being removed, from where its log is known to match and past flow
 * control (its progress is about to be dropped), carrying the commit index.
 */
export function sendFinalAppend(r: RaftState, l: LeaderState, to: NodeId): void {
  const pr = l.progressOf(to);
  const prevLogTerm = pr === undefined ? undefined : r.log.termAt(pr.match);
  if (pr === undefined || prevLogTerm === undefined) return;
  const last = Math.min(r.log.lastIndex(), pr.match + r.options.appendEntriesMax);
  const entries = pr.match < last ? r.log.slice(logIndex(pr.match + 1), logIndex(last), r.options.appendBytesMax) : [];
  r.send({
    type: "appendEntries",
    from: r.id,
    to,
    term: r.term,
    prevLogIndex: pr.match,
    prevLogTerm,
    entries,
    commit: r.log.committed,
  });
}
