import { NO_NODE } from "../../util/ids.js";
import { learnFromNotice } from "./learner.js";
import type { Accept, Prepare, PromiseReply } from "./messages.js";
import type { PaxosState } from "./state.js";
import { OK, type StepResult } from "./step_result.js";
import { compareBallots, sameBallot, type AcceptedRecord, type Ballot, type Slot, type Value } from "./types.js";

/**
 * Phase 1b. After promising ballot b an acceptor answers no Prepare numbered ≤ b (it says why,
 * so the proposer can go higher). While it hears a live leader it answers no other proposer at all:
 * that leader's lease counts on it.
 */
export function onPrepare(s: PaxosState, m: Prepare): StepResult {
  s.observe(m.ballot);
  if (s.isSticky() && m.from !== s.leader) return { ok: false, reason: "leaderAlive" };
  if (compareBallots(m.ballot, s.promised) <= 0) {
    s.send({ type: "nack", from: s.id, to: m.from, ballot: m.ballot, promised: s.promised });
    return { ok: false, reason: "stale" };
  }
  // Any campaign or leadership of ours is in a lower ballot: it could not win now.
  s.becomeFollower(NO_NODE);
  s.promise(m.ballot);
  s.send(promiseReply(s, { to: m.from, ballot: m.ballot, fromSlot: m.fromSlot }));
  return OK;
}

/**
 * The reply to a Prepare this acceptor has promised: for every slot from `fromSlot` on its
 * highest-ballot accepted value (a record keeps only the latest, which is it), and what it knows chosen.
 */
export function promiseReply(
  s: PaxosState,
  { to, ballot, fromSlot }: { to: PromiseReply["to"]; ballot: Ballot; fromSlot: Slot },
): PromiseReply {
  const chosenThrough = s.log.chosenThrough;
  const chosen =
    fromSlot > s.log.offset && fromSlot <= chosenThrough
      ? s.log.slice(fromSlot, s.options.learnEntriesMax, s.options.messageBytesMax)
      : [];
  const accepted: AcceptedRecord[] = [];
  for (const record of s.accepted.values()) if (record.slot >= fromSlot) accepted.push(record);
  accepted.sort((a, b) => a.slot - b.slot);
  const snapshotIndex = s.acceptorFloor;
  return { type: "promise", from: s.id, to, ballot, snapshotIndex, chosenThrough, chosen, accepted };
}

/**
 * Phase 2b, and the leader's heartbeat. An Accept below the promise is refused; otherwise the
 * acceptor follows its sender, accepts every value (raising its promise to the ballot), learns
 * what the commit notice names, and answers — after the records are durable when it accepted any.
 */
export function onAccept(s: PaxosState, m: Accept): StepResult {
  s.observe(m.ballot);
  if (compareBallots(m.ballot, s.promised) < 0) {
    s.send({ type: "nack", from: s.id, to: m.from, ballot: m.ballot, promised: s.promised });
    return { ok: false, reason: "stale" };
  }
  if (s.role !== "follower" || s.leader !== m.from) s.becomeFollower(m.from);
  s.leaderSilence = 0;
  s.electionElapsed = 0;
  s.promise(m.ballot);
  const slots: Slot[] = [];
  for (const { slot, value } of m.entries) {
    if (slot <= s.acceptorFloor) continue;
    s.accept({ slot, ballot: m.ballot, value });
    slots.push(slot);
  }
  const stuck = learnFromNotice(s, m.commit);
  s.send({
    type: "accepted",
    from: s.id,
    to: m.from,
    ballot: m.ballot,
    round: m.round,
    slots,
    learnedThrough: s.log.chosenThrough,
    stuck,
  });
  return OK;
}

/** The leader's own acceptor takes its proposal; the answer counts once it is durable. */
export function acceptLocally(s: PaxosState, slot: Slot, value: Value): void {
  const ballot = s.lead!.ballot;
  s.accept({ slot, ballot, value });
  const last = s.selfReplies.at(-1);
  if (last?.type === "accepted" && sameBallot(last.ballot, ballot)) {
    s.selfReplies[s.selfReplies.length - 1] = { ...last, slots: [...last.slots, slot] };
    return;
  }
  s.selfReplies.push({
    type: "accepted",
    from: s.id,
    to: s.id,
    ballot,
    round: 0,
    slots: [slot],
    learnedThrough: s.log.chosenThrough,
    stuck: false,
  });
}
