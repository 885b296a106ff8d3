import { assert } from "../../util/assert.js";
import { ballotsEqual, compareBallots } from "./ballot.js";
import type { Ballot } from "./ballot.js";
import { learnChosen } from "./acceptor.js";
import type { AcceptedReply, AcceptedValue, Nack, PromiseReply, RegisterName } from "./messages.js";
import { putRecord, recordOf, type Attempt, type Outcome, type PaxosState, type Request } from "./state.js";

/*
 * The proposer: one round at a time per register, for the oldest waiting write (or, with none, a
 * read-only round). Every waiting request shares the round's outcome: once a value is decided it is
 * every request's answer, whichever write it came from.
 */

/** Queues a request; a register already decided here answers at once, since a decision never changes. */
export function submit(s: PaxosState, register: RegisterName, request: Request): void {
  const chosen = s.records.get(register)?.chosen;
  if (chosen !== undefined) {
    s.results.push({ request: request.id, register, outcome: { type: "chosen", value: chosen } });
    return;
  }
  s.requestsPending++;
  const proposal = s.proposals.get(register);
  if (proposal !== undefined) {
    proposal.waiting.push(request);
    return;
  }
  const waiting = [request];
  s.proposals.set(register, { register, waiting, attempt: prepare(s, register, waiting) });
}

/** Phase 1a with a ballot above every round this member has used or heard of. */
function prepare(s: PaxosState, register: RegisterName, waiting: readonly Request[]): Attempt {
  s.round = Math.max(s.round, s.roundSeen) + 1;
  const ballot: Ballot = { round: s.round, proposer: s.id };
  for (const to of s.acceptors) s.outbox.push({ type: "prepare", from: s.id, to, register, ballot });
  return {
    phase: "prepare",
    ballot,
    value: waiting.find((r) => r.value !== undefined)?.value,
    covered: waiting.length,
    promises: new Map(),
    ticksLeft: s.options.phaseTicks,
  };
}

/**
 * Phase 2a once a quorum has promised: the value must be the one accepted in the highest ballot any of
 * them reports (it may already be decided), and only when none reports one may the round carry its own.
 */
export function receivePromise(s: PaxosState, m: PromiseReply): void {
  const proposal = s.proposals.get(m.register);
  const attempt = proposal?.attempt;
  if (proposal === undefined || attempt?.phase !== "prepare" || !ballotsEqual(attempt.ballot, m.ballot)) return;
  if (!s.acceptors.has(m.from)) return;
  attempt.promises.set(m.from, m.accepted);
  if (attempt.promises.size < s.quorum) return;
  const value = highestAccepted(attempt.promises.values())?.value ?? attempt.value;
  if (value === undefined) {
    answerCoveredReads(s, m.register, attempt.covered);
    return;
  }
  const { ballot } = attempt;
  proposal.attempt = { phase: "accept", ballot, value, accepts: new Set(), ticksLeft: s.options.phaseTicks };
  for (const to of s.acceptors) s.outbox.push({ type: "accept", from: s.id, to, register: m.register, ballot, value });
}

/** A quorum accepting one ballot decides its value: tell every acceptor, so all of them learn it. */
export function receiveAccepted(s: PaxosState, m: AcceptedReply): void {
  const attempt = s.proposals.get(m.register)?.attempt;
  if (attempt?.phase !== "accept" || !ballotsEqual(attempt.ballot, m.ballot) || !s.acceptors.has(m.from)) return;
  attempt.accepts.add(m.from);
  if (attempt.accepts.size < s.quorum) return;
  for (const to of s.acceptors) {
    if (to !== s.id) s.outbox.push({ type: "chosen", from: s.id, to, register: m.register, value: attempt.value });
  }
  learn(s, m.register, attempt.value);
}

/** A beaten round backs off; a nack for an older round of ours says nothing about the current one. */
export function receiveNack(s: PaxosState, m: Nack): void {
  const proposal = s.proposals.get(m.register);
  const attempt = proposal?.attempt;
  if (proposal === undefined || attempt === undefined || attempt.phase === "backoff") return;
  if (!ballotsEqual(attempt.ballot, m.ballot) || compareBallots(m.promised, m.ballot) <= 0) return;
  backOff(s, proposal.register);
}

/** Records the decided value and answers everyone waiting on the register. */
export function learn(s: PaxosState, register: RegisterName, value: Uint8Array): void {
  putRecord(s, learnChosen(recordOf(s, register), value));
  const proposal = s.proposals.get(register);
  if (proposal === undefined) return;
  s.proposals.delete(register);
  answer(s, register, proposal.waiting, { type: "chosen", value });
}

/** Times out phases that heard from no quorum, and ends backoffs with a fresh ballot. */
export function tickProposals(s: PaxosState): void {
  for (const proposal of s.proposals.values()) {
    const { attempt } = proposal;
    attempt.ticksLeft--;
    if (attempt.ticksLeft > 0) continue;
    if (attempt.phase === "backoff") proposal.attempt = prepare(s, proposal.register, proposal.waiting);
    else backOff(s, proposal.register);
  }
}

function backOff(s: PaxosState, register: RegisterName): void {
  const proposal = s.proposals.get(register);
  if (proposal === undefined) return;
  const min = s.options.backoffTicksMin;
  proposal.attempt = { phase: "backoff", ticksLeft: s.options.random.int(min, 2 * min) };
}

/** A read-only round found nothing accepted: the reads it covered see an undecided register. */
function answerCoveredReads(s: PaxosState, register: RegisterName, covered: number): void {
  const proposal = s.proposals.get(register);
  if (proposal === undefined) return;
  const reads = proposal.waiting.splice(0, covered);
  assert(
    reads.every((r) => r.value === undefined),
    "a round that covered a write carried its value",
  );
  answer(s, register, reads, { type: "empty" });
  if (proposal.waiting.length === 0) s.proposals.delete(register);
  else proposal.attempt = prepare(s, register, proposal.waiting);
}

function answer(s: PaxosState, register: RegisterName, requests: readonly Request[], outcome: Outcome): void {
  s.requestsPending -= requests.length;
  for (const request of requests) s.results.push({ request: request.id, register, outcome });
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
