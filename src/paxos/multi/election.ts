import { logIndex, NO_NODE } from "../../util/ids.js";
import { promiseReply } from "./acceptor.js";
import { establish } from "./leader.js";
import type { Nack, PromiseReply } from "./messages.js";
import type { PaxosState } from "./state.js";
import { OK, type StepResult } from "./step_result.js";
import { compareBallots, sameBallot, type Ballot } from "./types.js";

/** A follower or candidate counts toward its election timeout; at the timeout it runs phase 1. */
export function tickElection(s: PaxosState): void {
  s.electionElapsed++;
  s.leaderSilence++;
  if (s.electionElapsed >= s.randomizedTimeout) startCampaign(s);
}

/**
 * Phase 1a for every slot after what this node knows chosen, in a ballot above every ballot it has
 * seen. Its own promise is made now; the Prepares and its own Promise count once that is durable.
 */
export function startCampaign(s: PaxosState): void {
  const counter = Math.max(s.promised.counter, s.highestSeen.counter) + 1;
  const ballot: Ballot = { counter, node: s.id };
  s.becomeFollower(NO_NODE);
  s.role = "candidate";
  s.campaign = { ballot, promises: new Map() };
  s.stats.campaigns++;
  s.promise(ballot);
  const fromSlot = logIndex(s.log.chosenThrough + 1);
  for (const to of s.peers) s.send({ type: "prepare", from: s.id, to, ballot, fromSlot });
  s.selfReplies.push(promiseReply(s, { to: s.id, ballot, fromSlot }));
}

export function onPromise(s: PaxosState, m: PromiseReply): StepResult {
  const campaign = s.campaign;
  if (campaign === undefined || !sameBallot(m.ballot, campaign.ballot)) return { ok: false, reason: "stale" };
  campaign.promises.set(m.from, m);
  if (campaign.promises.size >= s.quorum) establish(s, campaign.ballot, [...campaign.promises.values()]);
  return OK;
}

/**
 * A higher ballot beat ours. A leader runs phase 1 again at once above it (it is likely still the
 * one the others follow); a candidate backs off for a random timeout, which ends duels.
 */
export function onNack(s: PaxosState, m: Nack): StepResult {
  s.observe(m.promised);
  const own = s.lead?.ballot ?? s.campaign?.ballot;
  if (own === undefined || !sameBallot(m.ballot, own) || compareBallots(m.promised, own) <= 0) {
    return { ok: false, reason: "stale" };
  }
  if (s.role === "leader") startCampaign(s);
  else s.becomeFollower(NO_NODE);
  return OK;
}
