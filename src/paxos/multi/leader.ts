import { assert } from "../../util/assert.js";
import { logIndex, NO_NODE, type NodeId } from "../../util/ids.js";
import { acceptLocally } from "./acceptor.js";
import { sendChosenFrom } from "./learner.js";
import { leaseTicks } from "./options.js";
import type { AcceptedReply, CommitNotice, PromiseReply, SlotValue } from "./messages.js";
import { ReadRounds } from "./reads.js";
import type { Leadership, PaxosState, PeerProgress } from "./state.js";
import { OK, type StepResult } from "./step_result.js";
import {
  compareBallots,
  NOOP,
  sameBallot,
  type AcceptedRecord,
  type Ballot,
  type ChosenEntry,
  type Slot,
  type Value,
} from "./types.js";

export type ProposeError = "notLeader" | "noLeader" | "tooManyInflight";
export type ProposeResult =
  | { readonly ok: true; readonly slot: Slot; readonly ballot: Ballot }
  | { readonly ok: false; readonly error: ProposeError; readonly leader: NodeId };

/**
 * Phase 1 won for every slot after what this node knows chosen. The new leader takes the chosen
 * values the promises carry; slots through a promiser's snapshot it learns (they are chosen, and
 * durable there); for every later slot up to the highest any acceptor reported it proposes again the
 * highest-ballot value it heard of, or a no-op where it heard of none (a hole).
 */
export function establish(s: PaxosState, ballot: Ballot, promises: readonly PromiseReply[]): void {
  assert(sameBallot(ballot, s.promised), "a leader leads in the ballot it promised itself");
  learnFromPromises(s, promises);
  let knownChosenThrough = s.log.chosenThrough;
  for (const p of promises) knownChosenThrough = logIndex(Math.max(knownChosenThrough, p.snapshotIndex));
  const highest = highestAccepted(promises, knownChosenThrough);
  let recoveryEnd = knownChosenThrough;
  for (const slot of highest.keys()) recoveryEnd = logIndex(Math.max(recoveryEnd, slot));
  const peers = new Map<NodeId, PeerProgress>();
  for (const id of s.peers) {
    const learnedThrough = promises.find((p) => p.from === id)?.chosenThrough ?? logIndex(0);
    peers.set(id, { learnedThrough, toldThrough: logIndex(0), active: true, catchup: undefined });
  }
  s.role = "leader";
  s.leader = s.id;
  s.campaign = undefined;
  s.stats.leaderChanges++;
  s.lead = {
    ballot,
    knownChosenThrough,
    recoveryEnd,
    nextSlot: logIndex(recoveryEnd + 1),
    proposals: new Map(),
    unsent: [],
    peers,
    reads: new ReadRounds(),
    // The first round tells everyone at once who leads, and starts the lease.
    roundWanted: true,
    ticks: 0,
    heartbeatElapsed: 0,
    checkElapsed: 0,
    learnAskedAt: undefined,
    learntAt: 0,
  };
  for (let slot = knownChosenThrough + 1; slot <= recoveryEnd; slot++) {
    addProposal(s, logIndex(slot), highest.get(logIndex(slot))?.value ?? NOOP);
  }
  askForChosen(s);
}

/** Takes the chosen values the promises carry that continue this node's log. */
function learnFromPromises(s: PaxosState, promises: readonly PromiseReply[]): void {
  const values = new Map<Slot, ChosenEntry>();
  for (const p of promises) for (const entry of p.chosen) values.set(entry.slot, entry);
  for (let next = values.get(logIndex(s.log.chosenThrough + 1)); next !== undefined;) {
    s.log.append(next);
    next = values.get(logIndex(next.slot + 1));
  }
}

/** Per slot above `after`, the accepted record with the highest ballot among the promises. */
function highestAccepted(promises: readonly PromiseReply[], after: Slot): Map<Slot, AcceptedRecord> {
  const highest = new Map<Slot, AcceptedRecord>();
  for (const p of promises) {
    for (const record of p.accepted) {
      if (record.slot <= after) continue;
      const known = highest.get(record.slot);
      if (known === undefined || compareBallots(record.ballot, known.ballot) > 0) highest.set(record.slot, record);
    }
  }
  return highest;
}

function addProposal(s: PaxosState, slot: Slot, value: Value): void {
  const lead = s.lead!;
  lead.proposals.set(slot, { value, acks: new Set(), chosen: false, sentAt: undefined });
  lead.unsent.push(slot);
  acceptLocally(s, slot, value);
}

/** Phase 2 only: the next free slot gets the command; its Accepts leave with the next Ready. */
export function propose(s: PaxosState, data: Uint8Array): ProposeResult {
  const lead = s.lead;
  if (lead === undefined) {
    s.stats.proposalsRefused++;
    return { ok: false, error: s.leader === NO_NODE ? "noLeader" : "notLeader", leader: s.leader };
  }
  if (lead.nextSlot - 1 - s.log.chosenThrough >= s.options.inflightSlotsMax) {
    s.stats.proposalsRefused++;
    return { ok: false, error: "tooManyInflight", leader: s.id };
  }
  const slot = lead.nextSlot;
  lead.nextSlot = logIndex(slot + 1);
  addProposal(s, slot, { kind: "command", data });
  return { ok: true, slot, ballot: lead.ballot };
}

/** Phase 2b: a quorum of durable acceptances chooses a slot; the log takes chosen slots in order. */
export function onAccepted(s: PaxosState, m: AcceptedReply): StepResult {
  const lead = s.lead;
  if (lead === undefined || !sameBallot(m.ballot, lead.ballot)) return { ok: false, reason: "stale" };
  if (m.from !== s.id) {
    const peer = lead.peers.get(m.from);
    if (peer === undefined) return { ok: false, reason: "unknownPeer" };
    peer.active = true;
    peer.learnedThrough = m.learnedThrough;
    if (m.round > 0) for (const read of lead.reads.echo(m.from, m.round, s.quorum - 1)) answerRead(s, read);
    if (m.stuck) catchUp(s, m.from, peer);
  }
  for (const slot of m.slots) {
    const proposal = lead.proposals.get(slot);
    if (proposal === undefined || proposal.chosen) continue;
    proposal.acks.add(m.from);
    if (proposal.acks.size >= s.quorum) proposal.chosen = true;
  }
  drainChosen(s);
  return OK;
}

/** Moves chosen proposals that continue the log into it; drops those learnt otherwise. */
function drainChosen(s: PaxosState): void {
  const lead = s.lead!;
  for (const slot of lead.proposals.keys()) {
    if (slot > s.log.chosenThrough) break;
    lead.proposals.delete(slot);
  }
  for (;;) {
    const slot = logIndex(s.log.chosenThrough + 1);
    const proposal = lead.proposals.get(slot);
    if (proposal === undefined || !proposal.chosen) break;
    s.log.append({ slot, ballot: lead.ballot, value: proposal.value });
    lead.proposals.delete(slot);
  }
  if (s.log.chosenThrough > lead.knownChosenThrough) lead.knownChosenThrough = s.log.chosenThrough;
}

/** Chosen values arrived from elsewhere (the leader catching up on what phase 1 told it). */
export function afterLearnt(s: PaxosState, chosenBefore: Slot): void {
  const lead = s.lead;
  if (lead === undefined || s.log.chosenThrough === chosenBefore) return;
  lead.learnAskedAt = undefined;
  lead.learntAt = lead.ticks;
  drainChosen(s);
  askForChosen(s);
}

/**
 * The values phase 1 sent this leader to learn have not come for two election timeouts: the members
 * whose snapshots hold them are gone or cut off. A new phase 1 among those that answer settles those
 * slots from their records instead.
 */
export function catchUpStalled(s: PaxosState): boolean {
  const lead = s.lead;
  if (lead === undefined || s.log.chosenThrough >= lead.knownChosenThrough) return false;
  return lead.ticks - lead.learntAt >= 2 * s.options.electionTicks;
}

/** Sends a stuck member the chosen values (or the snapshot) it lacks, unless some are on their way. */
function catchUp(s: PaxosState, to: NodeId, peer: PeerProgress): void {
  const lead = s.lead!;
  const sent = peer.catchup;
  if (sent !== undefined && peer.learnedThrough < sent.through && lead.ticks - sent.atTick < s.options.electionTicks) {
    return;
  }
  const through = sendChosenFrom(s, to, logIndex(peer.learnedThrough + 1));
  peer.catchup = through === undefined ? undefined : { through, atTick: lead.ticks };
}

/** The leader lacks values phase 1 told it are chosen: ask a member that knows them. */
function askForChosen(s: PaxosState): void {
  const lead = s.lead!;
  const next = s.log.chosenThrough + 1;
  if (next > lead.knownChosenThrough) return;
  if (lead.learnAskedAt !== undefined && lead.ticks - lead.learnAskedAt < s.options.electionTicks) return;
  let best: NodeId | undefined;
  for (const [id, peer] of lead.peers) {
    if (
      peer.learnedThrough >= next &&
      (best === undefined || peer.learnedThrough > lead.peers.get(best)!.learnedThrough)
    )
      best = id;
  }
  if (best === undefined) return;
  s.send({ type: "learnRequest", from: s.id, to: best, fromSlot: logIndex(next) });
  lead.learnAskedAt = lead.ticks;
}

// ---- sending ------------------------------------------------------------------------------------

/** Sends the proposals made since the last Ready, the commit notices due, and a wanted heartbeat round. */
export function flushLeader(s: PaxosState): void {
  const lead = s.lead;
  if (lead === undefined) return;
  const entries: SlotValue[] = [];
  for (const slot of lead.unsent) {
    const proposal = lead.proposals.get(slot);
    if (proposal === undefined) continue;
    proposal.sentAt = lead.ticks;
    entries.push({ slot, value: proposal.value });
  }
  lead.unsent = [];
  const round = lead.roundWanted ? lead.reads.next(lead.ticks) : 0;
  lead.roundWanted = false;
  for (const [to, peer] of lead.peers) {
    if (entries.length > 0 || round > 0 || peer.toldThrough < s.log.chosenThrough) sendAccepts(s, to, entries, round);
  }
}

/** Whether flushLeader has anything to send. */
export function leaderHasWork(lead: Leadership): boolean {
  return lead.unsent.length > 0 || lead.roundWanted;
}

/** One or more Accepts (bounded in count and bytes), each with the commit notice due to `to`. */
function sendAccepts(s: PaxosState, to: NodeId, entries: readonly SlotValue[], round: number): void {
  const lead = s.lead!;
  const peer = lead.peers.get(to)!;
  const commit = commitNotice(s, peer);
  const { acceptEntriesMax, messageBytesMax } = s.options;
  let start = 0;
  do {
    let end = start;
    let bytes = 0;
    while (end < entries.length && end - start < acceptEntriesMax) {
      const size = entries[end]!.value.data.length;
      if (end > start && bytes + size > messageBytesMax) break;
      bytes += size;
      end++;
    }
    const chunk = entries.slice(start, end);
    s.send({
      type: "accept",
      from: s.id,
      to,
      ballot: lead.ballot,
      round: start === 0 ? round : 0,
      entries: chunk,
      commit,
    });
    start = end;
  } while (start < entries.length);
  const told = commit.runs.at(-1)?.last ?? logIndex(0);
  if (told > peer.toldThrough) peer.toldThrough = told;
}

/** Names, run by run, the ballot of each chosen slot the member has not reported learning. */
function commitNotice(s: PaxosState, peer: PeerProgress): CommitNotice {
  const from = logIndex(Math.max(peer.learnedThrough, s.log.offset) + 1);
  const through = Math.min(s.log.chosenThrough, from + s.options.commitSlotsMax - 1);
  const runs: { last: Slot; ballot: Ballot }[] = [];
  for (let slot = from; slot <= through; slot++) {
    const { ballot } = s.log.entryAt(logIndex(slot))!;
    const last = runs.at(-1);
    if (last !== undefined && sameBallot(last.ballot, ballot)) last.last = logIndex(slot);
    else runs.push({ last: logIndex(slot), ballot });
  }
  return { from, runs };
}

// ---- time ---------------------------------------------------------------------------------------

/**
 * Heartbeats, resent Accepts and the leader's own catch-up every heartbeatTicks; every
 * electionTicks, check-quorum: a leader that heard from no quorum steps down.
 */
export function tickLeader(s: PaxosState): void {
  const lead = s.lead!;
  lead.ticks++;
  lead.heartbeatElapsed++;
  lead.checkElapsed++;
  if (lead.checkElapsed >= s.options.electionTicks) {
    lead.checkElapsed = 0;
    let active = 1;
    for (const peer of lead.peers.values()) {
      if (peer.active) active++;
      peer.active = false;
    }
    if (active < s.quorum) {
      s.becomeFollower(NO_NODE);
      // It heard no leader; nothing holds it to anyone.
      s.leaderSilence = s.options.electionTicks;
      return;
    }
  }
  if (lead.heartbeatElapsed >= s.options.heartbeatTicks) {
    lead.heartbeatElapsed = 0;
    lead.roundWanted = true;
    resendStale(s);
    askForChosen(s);
  }
}

/** Accepts unanswered for acceptRetryTicks go again to the members that have not answered. */
function resendStale(s: PaxosState): void {
  const lead = s.lead!;
  const perPeer = new Map<NodeId, SlotValue[]>();
  for (const [slot, proposal] of lead.proposals) {
    if (proposal.chosen || proposal.sentAt === undefined) continue;
    if (lead.ticks - proposal.sentAt < s.options.acceptRetryTicks) continue;
    proposal.sentAt = lead.ticks;
    for (const to of s.peers) {
      if (proposal.acks.has(to)) continue;
      const list = perPeer.get(to) ?? [];
      list.push({ slot, value: proposal.value });
      perPeer.set(to, list);
    }
  }
  for (const [to, entries] of perPeer) sendAccepts(s, to, entries, 0);
}

// ---- reads --------------------------------------------------------------------------------------

/**
 * A read point for `requester`: every slot a write that completed before now can occupy. Those
 * chosen in earlier ballots are at most recoveryEnd; those this leader chose, at most chosenThrough.
 * It is answered once a quorum confirms the ballot, or at once inside the lease.
 */
export function leaderReadIndex(
  s: PaxosState,
  read: { readonly context: Uint8Array; readonly requester: NodeId; readonly lease: boolean },
): void {
  const lead = s.lead!;
  const index = logIndex(Math.max(lead.recoveryEnd, s.log.chosenThrough));
  if (s.peers.length === 0 || (read.lease && leaseValid(s))) {
    answerRead(s, { index, context: read.context, requester: read.requester });
    return;
  }
  lead.reads.add({ index, context: read.context, requester: read.requester });
  lead.roundWanted = true;
}

/** Whether a quorum's refusal of other proposers, begun at the lease's start, still holds. */
export function leaseValid(s: PaxosState): boolean {
  const lead = s.lead;
  return lead !== undefined && lead.ticks - lead.reads.leaseStart() < leaseTicks(s.options);
}

function answerRead(s: PaxosState, read: { index: Slot; context: Uint8Array; requester: NodeId }): void {
  if (read.requester === s.id) {
    s.readStates.push({ index: read.index, context: read.context });
    return;
  }
  const ballot = s.lead!.ballot;
  s.send({
    type: "readIndexResponse",
    from: s.id,
    to: read.requester,
    ballot,
    context: read.context,
    index: read.index,
  });
}
