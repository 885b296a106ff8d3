import { assertNever } from "../util/assert.js";
import type { NodeId } from "../util/ids.js";
import type { Handled } from "./follower.js";
import type { AckEpoch, FollowerInfo, Pong, ZabMessage } from "./messages.js";
import type { LeadingState, Learner, ZabState } from "./state.js";
import { compareZxid, epoch, type Zxid } from "./types.js";

export type ProposeResult =
  | { readonly ok: true; readonly zxid: Zxid; readonly index: number }
  | { readonly ok: false; readonly error: "notLeader"; readonly leader: NodeId }
  | { readonly ok: false; readonly error: "notReady" }
  | { readonly ok: false; readonly error: "epochExhausted" };

/** Handles a message while leading. */
export function stepLeading(z: ZabState, s: LeadingState, m: ZabMessage): Handled {
  switch (m.type) {
    case "notification":
      if (m.state !== "looking") return false;
      // A looking member (a restart, or a follower that lost us) learns that we lead.
      z.send(z.notification(m.from, "leading", z.ownVote()));
      return true;
    case "followerInfo":
      return onFollowerInfo(z, s, m);
    case "ackEpoch":
      return onAckEpoch(z, s, m);
    case "ack": {
      const learner = s.learners.get(m.from);
      const index = z.history.indexOf(m.zxid);
      if (learner === undefined || m.epoch !== s.epoch || s.phase === "discovery" || index === undefined) return false;
      s.heard.add(m.from);
      learner.match = Math.max(learner.match, index);
      if (learner.stage === "epochAcked") {
        learner.stage = "synced";
        learner.sent = Math.max(learner.sent, index);
      }
      return true;
    }
    case "pong":
      return onPong(z, s, m);
    case "syncRequest":
      // Not only from a follower we count as synchronized, nor only once we are in broadcast: a
      // follower is in broadcast once it has taken NEWLEADER, and its Ack waits for its disk where
      // its sync does not, so the sync can overtake the Ack, and reach us before a quorum's Acks
      // have put us in broadcast. The read waits for broadcast and a quorum's confirmation all the
      // same, and the follower serves it once it has applied through the index, through our commits.
      if (s.phase === "discovery" || !s.learners.has(m.from)) return false;
      startRead(z, s, m.context, m.from);
      return true;
    case "forward":
      // Proposed as our own, or dropped (not yet in broadcast, or the epoch exhausted): never
      // passed on, so two members with stale views of each other never bounce it between them.
      return proposeAsLeader(z, s, m.data).ok;
    case "newEpoch":
    case "newLeader":
    case "proposal":
    case "commit":
    case "ping":
    case "syncResponse":
      return false;
    default:
      return assertNever(m, "zab message");
  }
}

/** Heartbeats and resends; steps down without a quorum, or when discovery and synchronization drag on. */
export function tickLeading(z: ZabState, s: LeadingState): void {
  for (const learner of s.learners.values()) learner.sinceSent++;
  if (++s.heartbeatElapsed >= z.options.heartbeatTicks) {
    s.heartbeatElapsed = 0;
    heartbeat(z, s);
  }
  if (++s.checkElapsed >= z.options.electionTicks) {
    s.checkElapsed = 0;
    // Past discovery a follower sends nothing until its disk lets it (ACKEPOCH, the Ack of
    // NEWLEADER), so silence before broadcast proves nothing; initTicks bounds those phases, as
    // ZooKeeper's initLimit does.
    if (s.phase === "broadcast" && s.heard.size + 1 < z.quorum) {
      z.becomeLooking();
      return;
    }
    s.heard.clear();
  }
  if (s.phase !== "broadcast" && ++s.phaseElapsed >= z.options.initTicks) z.becomeLooking();
}

/**
 * Re-evaluates what quorums allow after any input: choosing the epoch (a quorum's FOLLOWERINFO),
 * establishing it (a quorum of promises), broadcast (a quorum synchronized), commits, confirmed
 * reads, and stepping down once an exhausted epoch has committed everything.
 */
export function leaderProgress(z: ZabState, s: LeadingState): void {
  if (s.phase === "discovery" && s.epoch === 0 && s.learners.size + 1 >= z.quorum) chooseEpoch(z, s);
  if (s.phase === "discovery" && s.epoch > 0) {
    const self = z.durableEpochs.acceptedEpoch >= s.epoch ? 1 : 0;
    if (self + count(s, (l) => l.promised) >= z.quorum) establish(z, s);
  }
  if (s.phase === "synchronization") {
    const self = z.durableEpochs.currentEpoch === s.epoch ? 1 : 0;
    if (self + count(s, (l) => l.stage === "synced") >= z.quorum) s.phase = "broadcast";
  }
  if (s.phase !== "broadcast") return;
  const self = z.durableEpochs.currentEpoch === s.epoch ? z.history.durableLength : 0;
  z.commitTo(quorumValue(z, s, self, (l) => l.match));
  resolveReads(z, s);
  if (s.exhausted && z.committed >= z.history.length) z.becomeLooking();
}

/** Appends a proposal (broadcast phase only); the next flush sends it. */
export function proposeAsLeader(z: ZabState, s: LeadingState, data: Uint8Array): ProposeResult {
  if (s.phase !== "broadcast") return { ok: false, error: "notReady" };
  if (s.exhausted) return { ok: false, error: "epochExhausted" };
  const counter = z.history.lastCounterIn(s.epoch) + 1;
  const zxid = { epoch: s.epoch, counter };
  z.history.append({ zxid, data });
  // ZooKeeper forces a new epoch before its 32-bit counter rolls over; so do we, at any width.
  if (counter >= z.counterMax) s.exhausted = true;
  return { ok: true, zxid, index: z.history.length };
}

/**
 * A linearizable read point: the commit index now (at least the epoch's initial history, which
 * holds every write acknowledged in earlier epochs), served once a quorum answers a ping sent
 * after this call — proof that no later epoch had been established when the read began.
 */
export function startRead(z: ZabState, s: LeadingState, context: Uint8Array, requester: NodeId): void {
  if (!s.readPingPending) {
    s.readRound++;
    s.readPingPending = true;
  }
  s.pendingReads.push({ context, index: Math.max(z.committed, s.initialLength), round: s.readRound, requester });
  resolveReads(z, s);
}

/** Sends what accumulated since the last Ready: new proposals, the commit point, pings for reads. */
export function flushLeader(z: ZabState, s: LeadingState): void {
  for (const [id, learner] of s.learners) {
    if (learner.stage !== "synced") continue;
    while (learner.sent < z.history.length) {
      const txns = z.history.txnsAfter(learner.sent, z.options.proposalTxnsMax);
      const prevZxid = z.history.zxidAt(learner.sent);
      z.send({ type: "proposal", from: z.id, to: id, epoch: s.epoch, prevZxid, txns });
      learner.sent += txns.length;
    }
  }
  if (z.committed > s.commitSent) {
    s.commitSent = z.committed;
    const zxid = z.history.zxidAt(z.committed);
    for (const id of syncedIds(s)) z.send({ type: "commit", from: z.id, to: id, epoch: s.epoch, zxid });
  }
  if (s.readPingPending) {
    s.readPingPending = false;
    for (const id of syncedIds(s)) ping(z, s, id);
  }
}

export function hasLeaderWork(z: ZabState, s: LeadingState): boolean {
  if (z.committed > s.commitSent || s.readPingPending) return true;
  for (const learner of s.learners.values()) {
    if (learner.stage === "synced" && learner.sent < z.history.length) return true;
  }
  return false;
}

function onFollowerInfo(z: ZabState, s: LeadingState, m: FollowerInfo): Handled {
  const previous = s.learners.get(m.from);
  s.learners.set(m.from, {
    acceptedEpoch: m.acceptedEpoch,
    stage: "info",
    // A promise is durable on the follower, and what it acknowledged stays acknowledged.
    promised: previous?.promised ?? false,
    commonIndex: 0,
    match: previous?.match ?? 0,
    sent: 0,
    heldIndex: -1,
    readRound: previous?.readRound ?? 0,
    sinceSent: 0,
  });
  s.heard.add(m.from);
  if (s.epoch === 0) return true;
  if (m.acceptedEpoch > s.epoch) {
    // The follower promised a later epoch: another leader was established after ours.
    z.becomeLooking();
    return true;
  }
  z.send({ type: "newEpoch", from: z.id, to: m.from, epoch: s.epoch });
  return true;
}

function onAckEpoch(z: ZabState, s: LeadingState, m: AckEpoch): Handled {
  const learner = s.learners.get(m.from);
  if (learner === undefined || s.epoch === 0 || m.epoch !== s.epoch) return false;
  s.heard.add(m.from);
  if (s.phase === "discovery" && moreRecentThanUs(z, m)) {
    // Its history may hold commits ours lacks; it wins the next election (its vote beats ours).
    z.becomeLooking();
    return true;
  }
  learner.stage = "epochAcked";
  learner.promised ||= m.promised;
  learner.commonIndex = z.history.commonIndex(m.extents);
  if (s.phase !== "discovery") sendNewLeader(z, s, m.from, learner);
  return true;
}

function onPong(z: ZabState, s: LeadingState, m: Pong): Handled {
  const learner = s.learners.get(m.from);
  const held = z.history.indexOf(m.lastZxid);
  const durable = z.history.indexOf(m.durableZxid);
  if (learner?.stage !== "synced" || m.epoch !== s.epoch || held === undefined || durable === undefined) return false;
  s.heard.add(m.from);
  learner.readRound = Math.max(learner.readRound, m.round);
  learner.match = Math.max(learner.match, durable);
  // Holding the same as one ping ago while we sent more: something was lost, resend from there.
  if (held === learner.heldIndex && held < learner.sent) learner.sent = held;
  learner.heldIndex = held;
  return true;
}

function chooseEpoch(z: ZabState, s: LeadingState): void {
  let highest = z.acceptedEpoch;
  for (const learner of s.learners.values()) highest = epoch(Math.max(highest, learner.acceptedEpoch));
  s.epoch = epoch(highest + 1);
  z.acceptedEpoch = s.epoch;
  z.promisedTo = z.id;
  for (const id of s.learners.keys()) z.send({ type: "newEpoch", from: z.id, to: id, epoch: s.epoch });
}

function establish(z: ZabState, s: LeadingState): void {
  s.phase = "synchronization";
  s.initialLength = z.history.length;
  z.currentEpoch = s.epoch;
  for (const [id, learner] of s.learners) if (learner.stage === "epochAcked") sendNewLeader(z, s, id, learner);
}

function heartbeat(z: ZabState, s: LeadingState): void {
  const resendTicks = Math.max(z.options.heartbeatTicks, Math.floor(z.options.electionTicks / 2));
  for (const [id, learner] of s.learners) {
    if (learner.stage === "synced") ping(z, s, id);
    else if (learner.sinceSent < resendTicks) continue;
    else if (learner.stage === "info" && s.epoch > 0) {
      learner.sinceSent = 0;
      z.send({ type: "newEpoch", from: z.id, to: id, epoch: s.epoch });
    } else if (learner.stage === "epochAcked" && s.phase !== "discovery") sendNewLeader(z, s, id, learner);
  }
}

function sendNewLeader(z: ZabState, s: LeadingState, id: NodeId, learner: Learner): void {
  const prevZxid = z.history.zxidAt(learner.commonIndex);
  z.send({
    type: "newLeader",
    from: z.id,
    to: id,
    epoch: s.epoch,
    prevZxid,
    txns: z.history.txnsAfter(learner.commonIndex),
  });
  learner.sent = z.history.length;
  learner.sinceSent = 0;
}

function ping(z: ZabState, s: LeadingState, id: NodeId): void {
  const committedZxid = z.history.zxidAt(z.committed);
  z.send({ type: "ping", from: z.id, to: id, epoch: s.epoch, committedZxid, round: s.readRound });
}

function resolveReads(z: ZabState, s: LeadingState): void {
  if (s.pendingReads.length === 0 || s.phase !== "broadcast") return;
  const confirmed = quorumValue(z, s, s.readRound, (l) => (l.stage === "synced" ? l.readRound : 0));
  while (s.pendingReads.length > 0 && s.pendingReads[0]!.round <= confirmed) {
    const read = s.pendingReads.shift()!;
    if (read.requester === z.id) z.readStates.push({ context: read.context, index: read.index });
    else
      z.send({
        type: "syncResponse",
        from: z.id,
        to: read.requester,
        epoch: s.epoch,
        context: read.context,
        index: read.index,
      });
  }
}

function moreRecentThanUs(z: ZabState, m: AckEpoch): boolean {
  if (m.currentEpoch !== z.currentEpoch) return m.currentEpoch > z.currentEpoch;
  return compareZxid(m.lastZxid, z.history.lastZxid()) > 0;
}

/** The highest value a quorum reaches, counting this leader's own. */
function quorumValue(z: ZabState, s: LeadingState, own: number, of: (learner: Learner) => number): number {
  const values = [own];
  for (const learner of s.learners.values()) values.push(of(learner));
  values.sort((a, b) => b - a);
  return values[z.quorum - 1] ?? 0;
}

function count(s: LeadingState, predicate: (learner: Learner) => boolean): number {
  let n = 0;
  for (const learner of s.learners.values()) if (predicate(learner)) n++;
  return n;
}

function syncedIds(s: LeadingState): NodeId[] {
  return [...s.learners].filter(([, learner]) => learner.stage === "synced").map(([id]) => id);
}
