import { assert } from "../../util/assert.js";
import { bytesEqual } from "../../util/bytes.js";
import type { NodeId } from "../../util/ids.js";
import { compareBallots, formatBallot, ZERO_BALLOT } from "./ballot.js";
import type { Ballot } from "./ballot.js";
import type { Accept, AcceptedValue, Message, Prepare, RegisterName } from "./messages.js";

/**
 * What one member keeps durably about one register: its acceptor's promise and last accepted value,
 * and the decided value once it has learned it. A record is never mutated: a change makes a new one,
 * so a record handed to the driver for persisting stays as it was.
 * Invariants: accepted.ballot ≤ promised; chosen, once set, never changes.
 */
export interface RegisterRecord {
  readonly register: RegisterName;
  readonly promised: Ballot;
  readonly accepted: AcceptedValue | undefined;
  readonly chosen: Uint8Array | undefined;
}

export function emptyRecord(register: RegisterName): RegisterRecord {
  return { register, promised: ZERO_BALLOT, accepted: undefined, chosen: undefined };
}

/** The acceptor's answer to a message, and its record afterwards (the same object when unchanged). */
export interface AcceptorStep {
  readonly record: RegisterRecord;
  readonly reply: Message;
}

/**
 * Phase 1b. A ballot equal to the promise is promised again: that is the same proposer's Prepare
 * arriving twice, and answering it keeps the proposer from waiting out a lost Promise.
 */
export function receivePrepare(record: RegisterRecord, m: Prepare): AcceptorStep {
  const to = m.from;
  const known = chosenReply(record, to, m.to);
  if (known !== undefined) return { record, reply: known };
  if (compareBallots(m.ballot, record.promised) < 0) return { record, reply: nack(record, m) };
  const next = compareBallots(m.ballot, record.promised) === 0 ? record : { ...record, promised: m.ballot };
  const reply: Message = {
    type: "promise",
    from: m.to,
    to,
    register: record.register,
    ballot: m.ballot,
    accepted: record.accepted,
  };
  return { record: next, reply };
}

/** Phase 2b: accepting a ballot also promises it, so no lower Accept is taken afterwards. */
export function receiveAccept(record: RegisterRecord, m: Accept): AcceptorStep {
  const known = chosenReply(record, m.from, m.to);
  if (known !== undefined) return { record, reply: known };
  if (compareBallots(m.ballot, record.promised) < 0) return { record, reply: nack(record, m) };
  const next: RegisterRecord = { ...record, promised: m.ballot, accepted: { ballot: m.ballot, value: m.value } };
  return {
    record: next,
    reply: { type: "accepted", from: m.to, to: m.from, register: record.register, ballot: m.ballot },
  };
}

/** Records the decided value. Two different decided values for one register would mean Paxos is broken. */
export function learnChosen(record: RegisterRecord, value: Uint8Array): RegisterRecord {
  if (record.chosen !== undefined) {
    assert(bytesEqual(record.chosen, value), `register ${JSON.stringify(record.register)} decided twice`);
    return record;
  }
  return { ...record, chosen: value };
}

export function checkRecord(record: RegisterRecord): void {
  const { accepted, promised } = record;
  if (accepted === undefined) return;
  assert(
    compareBallots(accepted.ballot, promised) <= 0,
    `accepted ballot ${formatBallot(accepted.ballot)} above promise ${formatBallot(promised)}`,
  );
}

/** A member that already knows the decision says so instead of taking part in another round. */
function chosenReply(record: RegisterRecord, to: NodeId, from: NodeId): Message | undefined {
  if (record.chosen === undefined) return undefined;
  return { type: "chosen", from, to, register: record.register, value: record.chosen };
}

function nack(record: RegisterRecord, m: Prepare | Accept): Message {
  return {
    type: "nack",
    from: m.to,
    to: m.from,
    register: record.register,
    ballot: m.ballot,
    promised: record.promised,
  };
}
