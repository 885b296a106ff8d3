import { logIndex, NO_NODE, term, type LogIndex, type NodeId } from "../util/ids.js";
import {
  applyConfEntry,
  decodeConfEntry,
  encodeConfEntry,
  planChange,
  type ConfChange,
  type ConfChangeError,
  type Config,
} from "./confchange.js";
import { appendToLog, sendAppend, sendFinalAppend, sendTimeoutNow } from "./replication.js";
import { Progress } from "./progress.js";
import type { LeaderState, RaftState } from "./state.js";
import type { Entry } from "./types.js";

export type ConfChangeResult =
  { readonly ok: true; readonly index: LogIndex } | { readonly ok: false; readonly error: ConfChangeError };

export function configOf(r: RaftState): Config {
  return { incoming: r.voters[0], outgoing: r.voters[1], learners: r.learners };
}

function setConfig(r: RaftState, config: Config, index: LogIndex): void {
  r.voters = config.outgoing === undefined ? [config.incoming] : [config.incoming, config.outgoing];
  r.learners = new Set(config.learners);
  r.configIndex = index;
}

/**
 * The leader's entry point for a membership change (one entry, however many changes). A learner is
 * promoted only once it is within `promoteLagEntriesMax` of the leader's log, so the new voter does
 * not stall commits while it catches up.
 */
export function proposeConfChange(r: RaftState, l: LeaderState, changes: readonly ConfChange[]): ConfChangeResult {
  if (l.leadTransferee !== NO_NODE) return { ok: false, error: "transferInProgress" };
  if (l.pendingConfIndex > r.log.applying) return { ok: false, error: "changeInProgress" };
  const planned = planChange(configOf(r), changes);
  if (typeof planned === "string") return { ok: false, error: planned };
  for (const change of changes) {
    if (change.type !== "promote") continue;
    const pr = l.progressOf(change.id);
    // A learner that never acknowledged anything is not caught up, however short the log.
    if (pr === undefined || pr.match === 0 || pr.match + r.options.promoteLagEntriesMax < r.log.lastIndex())
      return { ok: false, error: "learnerBehind" };
  }
  appendToLog(r, l, [{ kind: "config", data: encodeConfEntry(planned) }]);
  l.pendingConfIndex = r.log.lastIndex();
  return { ok: true, index: l.pendingConfIndex };
}

/** A committed config entry is being handed out for applying: it takes effect now. */
export function applyConfigEntry(r: RaftState, entry: Entry): void {
  const decoded = decodeConfEntry(entry.data);
  // A config entry this node cannot read cannot have been written by a correct leader: skip it.
  if (decoded === undefined) {
    r.configIndex = entry.index;
    return;
  }
  setConfig(r, applyConfEntry(configOf(r), decoded), entry.index);
  if (r.state.role === "leader") followConfig(r, r.state);
}

/** A leader's progress map follows the configuration now in force. */
function followConfig(r: RaftState, l: LeaderState): void {
  for (const id of [...r.peers(), r.id]) {
    if (!l.progress.has(id)) l.progress.set(id, new Progress(logIndex(r.log.lastIndex() + 1), r.options.inflightMax));
  }
  const members = new Set([...r.peers(), r.id]);
  for (const id of [...l.progress.keys()]) {
    if (members.has(id)) continue;
    // A last append carrying the commit index, so the removed node can apply its own removal
    // and stop campaigning (best effort: if it is lost, the node's pre-votes fail harmlessly).
    sendFinalAppend(r, l, id);
    l.progress.delete(id);
  }
  if (l.leadTransferee !== NO_NODE && !r.isVoter(l.leadTransferee)) l.leadTransferee = NO_NODE;
  for (const to of r.peers()) sendAppend(r, l, to, true);
  handOffIfRemoved(r, l);
}

/**
 * A leader that has applied its own removal hands leadership to the most up-to-date voter rather
 * than stepping down at once: stepping down before the others learn that the change committed can
 * leave them unable to elect anyone (they still count this node's vote, which it no longer gives as
 * a voter). Until the successor takes over it keeps replicating, counting only the voters, and
 * takes no proposals. etcd leaves this to the application; the thesis (§4.2.2) steps down, but there
 * configurations take effect when appended, not when applied.
 */
export function handOffIfRemoved(r: RaftState, l: LeaderState, abandoned: NodeId = NO_NODE): void {
  if (r.isVoter(r.id) || l.leadTransferee !== NO_NODE) return;
  // A successor that did not take over may be down: try the others first.
  const candidates = [...r.voters[0]].filter((id) => id !== abandoned);
  let best: NodeId = NO_NODE;
  for (const id of candidates.length > 0 ? candidates : [...r.voters[0]]) {
    if (best === NO_NODE || l.progressOfMember(id).match > l.progressOfMember(best).match) best = id;
  }
  if (best !== NO_NODE) transferLeader(r, l, best);
}

/** While joint, the leader leaves on its own once the entry that entered is applied. */
export function maybeLeaveJoint(r: RaftState, l: LeaderState): void {
  if (r.voters[1] === undefined || l.pendingConfIndex > r.log.applying || l.leadTransferee !== NO_NODE) return;
  appendToLog(r, l, [{ kind: "config", data: encodeConfEntry({ op: "leaveJoint" }) }]);
  l.pendingConfIndex = r.log.lastIndex();
}

/**
 * A new cluster's first entry names its voters, so the configuration lives in the log like every
 * later change and a member added later learns it from the log (etcd does the same). Every initial
 * member writes the same entry (index 1, term 1), so their logs agree; it counts as committed.
 */
export function bootstrap(r: RaftState): void {
  const voters = [...r.voters[0]];
  r.log.appendNew([
    { index: logIndex(1), term: term(1), kind: "config", data: encodeConfEntry({ op: "bootstrap", voters }) },
  ]);
  r.log.commitTo(logIndex(1));
  r.configIndex = logIndex(1);
  r.term = term(1);
}

/**
 * Replays config entries a restarted node's state machine had already applied (they are not handed
 * out again), after those its snapshot holds: entries kept below a snapshot are in its configuration
 * already, and entering a joint configuration a second time would make the new voters the outgoing
 * ones too, leaving the old voters no say.
 */
export function restoreConfig(r: RaftState, entries: readonly Entry[]): void {
  for (const entry of entries) {
    if (entry.kind !== "config" || entry.index <= r.configIndex || entry.index > r.log.applying) continue;
    const decoded = decodeConfEntry(entry.data);
    if (decoded !== undefined) setConfig(r, applyConfEntry(configOf(r), decoded), entry.index);
    else r.configIndex = entry.index;
  }
}

// ---- leadership transfer --------------------------------------------------------------------------

export type TransferError = "notLeader" | "notVoter" | "transferInProgress";

/**
 * Starts handing leadership to `to`: proposals stop, `to` is brought up to date and then told to
 * campaign at once (TimeoutNow), past its peers' stickiness. Abandoned after an election timeout.
 */
export function transferLeader(
  r: RaftState,
  l: LeaderState,
  to: NodeId,
): { ok: true } | { ok: false; error: TransferError } {
  if (to === r.id) return r.isVoter(r.id) ? { ok: true } : { ok: false, error: "notVoter" };
  if (!r.isVoter(to) || (r.voters[1]?.has(to) === true && !r.voters[0].has(to)))
    return { ok: false, error: "notVoter" };
  if (l.leadTransferee !== NO_NODE)
    return l.leadTransferee === to ? { ok: true } : { ok: false, error: "transferInProgress" };
  l.leadTransferee = to;
  l.transferElapsed = 0;
  const pr = l.progressOfMember(to);
  if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, l, to);
  else sendAppend(r, l, to, true);
  return { ok: true };
}
