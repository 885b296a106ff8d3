import { assertNever } from "../util/assert.js";
import { stepLooking } from "./election.js";
import type { NewEpoch, NewLeader, Notification, Ping, Proposal, ZabMessage } from "./messages.js";
import type { FollowingState, ZabState } from "./state.js";

/** Whether a message was acted on; a dropped one is counted by the caller, never thrown. */
export type Handled = boolean;

/** Handles a message while following; only the leader's messages matter. */
export function stepFollowing(z: ZabState, s: FollowingState, m: ZabMessage): Handled {
  if (m.type === "notification") return onNotification(z, s, m);
  if (m.from !== s.leader) return false;
  switch (m.type) {
    case "newEpoch":
      return onNewEpoch(z, s, m);
    case "newLeader":
      return onNewLeader(z, s, m);
    case "proposal":
      return onProposal(z, s, m);
    case "commit":
      if (!inBroadcast(s, m.epoch)) return false;
      heardFromLeader(z);
      z.commitTo(z.history.indexAtOrBefore(m.zxid));
      return true;
    case "ping":
      return onPing(z, s, m);
    case "syncResponse":
      if (!inBroadcast(s, m.epoch)) return false;
      heardFromLeader(z);
      z.readStates.push({ context: m.context, index: m.index });
      return true;
    case "followerInfo":
    case "ackEpoch":
    case "ack":
    case "pong":
    case "syncRequest":
    case "forward":
      return false;
    default:
      return assertNever(m, "zab message");
  }
}

/** A follower that hears nothing from its leader for an election timeout looks for another. */
export function tickFollowing(z: ZabState, s: FollowingState): void {
  z.electionElapsed++;
  if (z.electionElapsed >= z.electionTimeout) {
    z.becomeLooking();
    return;
  }
  z.heartbeatElapsed++;
  if (z.heartbeatElapsed < z.options.heartbeatTicks) return;
  z.heartbeatElapsed = 0;
  // Until the leader answers, FOLLOWERINFO may have been lost.
  if (s.phase === "discovery") {
    z.send({ type: "followerInfo", from: z.id, to: s.leader, acceptedEpoch: z.acceptedEpoch });
  }
}

/**
 * Builds the acknowledgements owed, from the state as the Ready is built: the Ready persists
 * everything up to now, and they leave after it.
 */
export function sendOwedAcks(z: ZabState, s: FollowingState): void {
  if (s.owesAckEpoch && s.phase !== "discovery") {
    z.sendAfterPersist({
      type: "ackEpoch",
      from: z.id,
      to: s.leader,
      epoch: s.epoch,
      promised: s.promised,
      currentEpoch: z.currentEpoch,
      lastZxid: z.history.lastZxid(),
      extents: z.history.extents(),
    });
  }
  if (s.owesAck && s.phase === "broadcast") {
    z.sendAfterPersist({ type: "ack", from: z.id, to: s.leader, epoch: s.epoch, zxid: z.history.lastZxid() });
  }
  s.owesAckEpoch = false;
  s.owesAck = false;
}

export function owesAcks(s: FollowingState): boolean {
  return (s.owesAckEpoch && s.phase !== "discovery") || (s.owesAck && s.phase === "broadcast");
}

function onNotification(z: ZabState, s: FollowingState, m: Notification): Handled {
  if (m.state !== "looking") return false;
  if (s.phase !== "discovery") {
    if (m.from !== s.leader) return false;
    // Our leader gave up: look too, starting from its vote.
    stepLooking(z, z.becomeLooking(), m);
    return true;
  }
  // Still deciding, perhaps for want of our vote: tell it (or anyone looking) whom we wait for.
  // Nothing a notification says makes us give up on the leader we chose: only the election
  // timeout does, as in ZooKeeper, where reacting to each notification kept elections from ending.
  z.send(z.notification(m.from, "following", s.vote));
  return true;
}

function onNewEpoch(z: ZabState, s: FollowingState, m: NewEpoch): Handled {
  if (s.phase !== "discovery" && m.epoch === s.epoch) {
    // A repeat: the leader lost our ACKEPOCH, or took a duplicate FOLLOWERINFO for a rejoin.
    heardFromLeader(z);
    s.owesAckEpoch = true;
    return true;
  }
  if (s.phase === "broadcast" || (s.phase === "synchronization" && m.epoch < s.epoch)) return false;
  // In discovery, or a later epoch from the same leader (ours came from its earlier leadership).
  if (m.epoch < z.acceptedEpoch) {
    // We promised a later epoch to someone else: this leader is stale.
    z.becomeLooking();
    return true;
  }
  heardFromLeader(z);
  if (m.epoch > z.acceptedEpoch) {
    z.acceptedEpoch = m.epoch;
    z.promisedTo = s.leader;
  }
  // Equal: a promise made to this leader earlier in this incarnation still stands; any other
  // (another leader, or one forgotten in a restart) must not be counted twice.
  s.promised = z.promisedTo === s.leader;
  s.epoch = m.epoch;
  s.phase = "synchronization";
  s.owesAckEpoch = true;
  return true;
}

function onNewLeader(z: ZabState, s: FollowingState, m: NewLeader): Handled {
  if (s.phase === "discovery" || m.epoch !== s.epoch) return false;
  heardFromLeader(z);
  const merged = z.history.merge({ prevZxid: m.prevZxid, txns: m.txns, leaderEpoch: s.epoch, committed: z.committed });
  if (!merged) {
    // Built from an ACKEPOCH of an earlier session; a fresh one lets the leader start over.
    s.owesAckEpoch = true;
    return false;
  }
  // Durable in the same write as the history it vouches for; the Ack leaves after both.
  z.currentEpoch = s.epoch;
  s.phase = "broadcast";
  s.owesAck = true;
  return true;
}

function onProposal(z: ZabState, s: FollowingState, m: Proposal): Handled {
  if (!inBroadcast(s, m.epoch)) return false;
  heardFromLeader(z);
  // A gap (a lost proposal) leaves the history as it is; the leader resends on our next pong.
  if (!z.history.merge({ prevZxid: m.prevZxid, txns: m.txns, leaderEpoch: s.epoch, committed: z.committed })) {
    return false;
  }
  s.owesAck = true;
  return true;
}

function onPing(z: ZabState, s: FollowingState, m: Ping): Handled {
  if (s.phase === "discovery" || m.epoch !== s.epoch) return false;
  heardFromLeader(z);
  if (s.phase === "synchronization") {
    // The leader believes us synchronized (an Ack from an earlier session): ask for NEWLEADER again.
    s.owesAckEpoch = true;
    return true;
  }
  z.commitTo(z.history.indexAtOrBefore(m.committedZxid));
  z.send({
    type: "pong",
    from: z.id,
    to: s.leader,
    epoch: s.epoch,
    round: m.round,
    lastZxid: z.history.lastZxid(),
    durableZxid: z.history.zxidAt(z.history.durableLength),
  });
  return true;
}

function inBroadcast(s: FollowingState, e: number): boolean {
  return s.phase === "broadcast" && e === s.epoch;
}

function heardFromLeader(z: ZabState): void {
  z.electionElapsed = 0;
}
