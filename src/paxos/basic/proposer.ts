import { bytesEqual } from "../../util/bytes.js";
import { assert } from "../../util/assert.js";
import { ballotsEqual, compareBallots } from "./ballot.js";
import type { Ballot } from "./ballot.js";
import { learnChosen } from "./acceptor.js";
import type { AcceptedReply, AcceptedValue, Instance, Nack, PromiseReply, RegisterName } from "./messages.js";
import {
  chosenAt,
  latestOf,
  putRecord,
  recordOf,
  type Attempt,
  type Outcome,
  type PaxosState,
  type Proposal,
  type Request,
} from "./state.js";

/*
 * The proposer. A register is a sequence of single-decree instances; version n is the value chosen
 * in instance n. Compare-and-set from version k proposes in instance k + 1 and succeeds only if its
 * own value is chosen there; write-once is compare-and-set from version 0.
 *
 * Decided instances always form a prefix 1..V of a register: a proposer carries a value of its own
 * into instance n + 1 only once it has learned that n is decided, every other value it carries is
 * one a promise reported (so some proposer carried it there first under the same rule), and a
 * decision needs an accepted value. Hence "n decided" implies "every m < n decided", and the
 * latest version is the highest decided instance.
 *
 * A read must answer that latest version linearizably. It runs rounds on instance L + 1, L being the
 * highest instance this member knows decided, and proposes nothing of its own (no no-op: that would
 * use up a version). When a quorum's promises report an accepted value, the round completes it (it
 * may already be decided) and moves on to L + 2. When they report none, L is the answer, true at the
 * moment the first of those acceptors promised: L was decided before the Prepare left, and had
 * L + 1 been decided by then, the quorum that accepted it would share an acceptor with ours, which
 * would have reported that acceptance. That moment follows every request that arrived before the
 * Prepare left, so only those take the answer (`startedAt`). A round that carried a value of its own
 * (no promise reported one) gives the same kind of answer when it succeeds: at the moment its value
 * was decided in n, n was the latest version, and that moment came after the round began.
 *
 * Every request waiting on a register shares its rounds: a round on L + 1 carries the oldest
 * compare-and-set from L, if any, and answers reads and compare-and-sets from versions above L.
 */

/** Queues a request and answers at once what this member's decisions already answer. */
export function submit(s: PaxosState, register: RegisterName, request: Request): void {
  s.requestsPending++;
  const proposal = s.proposals.get(register);
  if (proposal !== undefined) {
    proposal.waiting.push(request);
    settle(s, proposal, false);
    return;
  }
  // Born as an ended backoff: settle starts its first round unless decisions known here answer it.
  const fresh: Proposal = { register, waiting: [request], attempt: { phase: "backoff", ticksLeft: 0 } };
  s.proposals.set(register, fresh);
  settle(s, fresh, true);
}

/** Answers what the decisions learned so far answer; then either drops the proposal or (re)starts its round. */
function settle(s: PaxosState, proposal: Proposal, restart: boolean): void {
  answerDecided(s, proposal);
  if (proposal.waiting.length === 0) s.proposals.delete(proposal.register);
  else if (restart) proposal.attempt = prepare(s, proposal);
}

/** Phase 1a, with a ballot above every round this member has used or heard of. */
function prepare(s: PaxosState, proposal: Proposal): Attempt {
  const { register } = proposal;
  const instance = targetOf(s, proposal);
  s.round = Math.max(s.round, s.roundSeen) + 1;
  const ballot: Ballot = { round: s.round, proposer: s.id };
  for (const to of s.acceptors) s.outbox.push({ type: "prepare", from: s.id, to, register, instance, ballot });
  const { phaseTicks } = s.options;
  return { phase: "prepare", instance, ballot, startedAt: s.requestSerial, promises: new Map(), ticksLeft: phaseTicks };
}

/**
 * The instance the next round works on: one decided instance whose value a compare-and-set needs to
 * be answered and this member has not learned, or else the one after the latest it knows.
 */
function targetOf(s: PaxosState, proposal: Proposal): Instance {
  const { register } = proposal;
  const latest = latestOf(s, register);
  for (const r of proposal.waiting) {
    if (r.kind === "cas" && r.expected < latest && chosenAt(s, register, r.expected + 1) === undefined) {
      return r.expected + 1;
    }
  }
  return latest + 1;
}

/**
 * Phase 2a once a quorum has promised: the value must be the one accepted in the highest ballot any of
 * them reports (it may already be decided); only when none reports one may the round carry its own,
 * the oldest compare-and-set from the version before this instance. With none of those, the round
 * has found the latest version.
 */
export function receivePromise(s: PaxosState, m: PromiseReply): void {
  const proposal = s.proposals.get(m.register);
  const attempt = proposal?.attempt;
  if (proposal === undefined || attempt?.phase !== "prepare" || attempt.instance !== m.instance) return;
  if (!ballotsEqual(attempt.ballot, m.ballot) || !s.acceptors.has(m.from)) return;
  attempt.promises.set(m.from, m.accepted);
  if (attempt.promises.size < s.quorum) return;
  const reported = highestAccepted(attempt.promises.values());
  const value = reported?.value ?? ownValue(s, proposal, attempt.instance);
  if (value === undefined) {
    foundLatest(s, proposal, attempt.instance - 1, attempt.startedAt);
    return;
  }
  const { instance, ballot, startedAt } = attempt;
  const own = reported === undefined;
  const ticksLeft = s.options.phaseTicks;
  proposal.attempt = { phase: "accept", instance, ballot, startedAt, value, own, accepts: new Set(), ticksLeft };
  for (const to of s.acceptors) {
    s.outbox.push({ type: "accept", from: s.id, to, register: m.register, instance, ballot, value });
  }
}

function ownValue(s: PaxosState, proposal: Proposal, instance: Instance): Uint8Array | undefined {
  if (instance !== latestOf(s, proposal.register) + 1) return undefined;
  const cas = proposal.waiting.find((r) => r.kind === "cas" && r.expected === instance - 1);
  return cas?.kind === "cas" ? cas.value : undefined;
}

/** A quorum promised and reported nothing accepted: `version` was the latest one (see the top comment). */
function foundLatest(s: PaxosState, proposal: Proposal, version: Instance, startedAt: number): void {
  const value = chosenAt(s, proposal.register, version);
  assert(version === 0 || value !== undefined, `nothing accepted after version ${version}, unknown here`);
  answerAsOf(s, proposal, startedAt, version, value);
  settle(s, proposal, true);
}

/** A quorum accepting one ballot decides its value: tell every acceptor, so all of them learn it. */
export function receiveAccepted(s: PaxosState, m: AcceptedReply): void {
  const attempt = s.proposals.get(m.register)?.attempt;
  if (attempt?.phase !== "accept" || attempt.instance !== m.instance || !ballotsEqual(attempt.ballot, m.ballot)) return;
  if (!s.acceptors.has(m.from)) return;
  attempt.accepts.add(m.from);
  if (attempt.accepts.size < s.quorum) return;
  const { instance, value } = attempt;
  for (const to of s.acceptors) {
    if (to !== s.id) s.outbox.push({ type: "chosen", from: s.id, to, register: m.register, instance, value });
  }
  learn(s, m.register, instance, value, attempt.own ? attempt.startedAt : undefined);
}

/** A beaten round backs off; a nack for an older round of ours says nothing about the current one. */
export function receiveNack(s: PaxosState, m: Nack): void {
  const proposal = s.proposals.get(m.register);
  const attempt = proposal?.attempt;
  if (proposal === undefined || attempt === undefined || attempt.phase === "backoff") return;
  if (attempt.instance !== m.instance || !ballotsEqual(attempt.ballot, m.ballot)) return;
  if (compareBallots(m.promised, m.ballot) > 0) backOff(s, proposal);
}

/**
 * Records a decided value and answers whoever it answers. `ownSince` is the `startedAt` of this
 * member's round that decided its own value, whose requests learn the latest version from it.
 */
export function learn(
  s: PaxosState,
  register: RegisterName,
  instance: Instance,
  value: Uint8Array,
  ownSince?: number,
): void {
  putRecord(s, learnChosen(recordOf(s, register, instance), value));
  if (instance > latestOf(s, register)) s.latest.set(register, instance);
  const proposal = s.proposals.get(register);
  if (proposal === undefined) return;
  if (ownSince !== undefined) answerAsOf(s, proposal, ownSince, instance, value);
  const { attempt } = proposal;
  settle(s, proposal, attempt.phase !== "backoff" && attempt.instance === instance);
}

/** Times out phases that heard from no quorum, and ends backoffs with a fresh ballot. */
export function tickProposals(s: PaxosState): void {
  for (const proposal of s.proposals.values()) {
    const { attempt } = proposal;
    attempt.ticksLeft--;
    if (attempt.ticksLeft > 0) continue;
    if (attempt.phase === "backoff") proposal.attempt = prepare(s, proposal);
    else backOff(s, proposal);
  }
}

/**
 * A random wait in [backoffTicksMin, 2 × backoffTicksMin) before the next ballot ends duels between
 * proposers (duel.test.ts measures it); a minimum of 0 retries at once, which lets them duel.
 */
function backOff(s: PaxosState, proposal: Proposal): void {
  const min = s.options.backoffTicksMin;
  if (min === 0) proposal.attempt = prepare(s, proposal);
  else proposal.attempt = { phase: "backoff", ticksLeft: s.options.random.int(min, 2 * min) };
}

/** Compare-and-sets whose instance is decided and learned here: theirs if the bytes are theirs. */
function answerDecided(s: PaxosState, proposal: Proposal): void {
  const latest = latestOf(s, proposal.register);
  resolve(s, proposal, (r) => {
    if (r.kind !== "cas" || r.expected >= latest) return undefined;
    const version = r.expected + 1;
    const value = chosenAt(s, proposal.register, version);
    if (value === undefined) return undefined;
    return bytesEqual(value, r.value) ? { type: "written", version } : { type: "conflict", version, value };
  });
}

/** `version` was the latest at a moment after every request older than `startedAt` arrived. */
function answerAsOf(
  s: PaxosState,
  proposal: Proposal,
  startedAt: number,
  version: Instance,
  value: Uint8Array | undefined,
): void {
  resolve(s, proposal, (r) => {
    if (r.serial >= startedAt) return undefined;
    if (r.kind === "read") return { type: "value", version, value };
    return r.expected > version ? { type: "conflict", version, value } : undefined;
  });
}

/** Answers and removes the waiting requests `outcomeOf` has an outcome for, keeping the others in order. */
function resolve(s: PaxosState, proposal: Proposal, outcomeOf: (r: Request) => Outcome | undefined): void {
  const { waiting, register } = proposal;
  let kept = 0;
  for (const request of waiting) {
    const outcome = outcomeOf(request);
    if (outcome === undefined) waiting[kept++] = request;
    else s.results.push({ request: request.id, register, outcome });
  }
  s.requestsPending -= waiting.length - kept;
  waiting.length = kept;
}

function highestAccepted(reports: Iterable<AcceptedValue | undefined>): AcceptedValue | undefined {
  let highest: AcceptedValue | undefined;
  for (const report of reports) {
    if (report !== undefined && (highest === undefined || compareBallots(report.ballot, highest.ballot) > 0)) {
      highest = report;
    }
  }
  return highest;
}
