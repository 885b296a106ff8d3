import { assert } from "../../util/assert.js";
import { bytesEqual } from "../../util/bytes.js";
import type { NodeId } from "../../util/ids.js";
import { compareBallots, formatBallot, ZERO_BALLOT } from "./ballot.js";
import type { Ballot } from "./ballot.js";
import type { Accept, AcceptedValue, Instance, Message, Prepare, RegisterName } from "./messages.js";

/**
 * What one member keeps durably about one instance of a register: its acceptor's promise and last
 * accepted value, and the decided value once it has learned it. A record is never mutated: a change
 * makes a new one, so a record handed to the driver for persisting stays as it was.
 * Invariants: accepted.ballot ≤ promised; chosen, once set, never changes.
 */
export interface InstanceRecord {
  readonly register: RegisterName;
  readonly instance: Instance;
  readonly promised: Ballot;
  readonly accepted: AcceptedValue | undefined;
  readonly chosen: Uint8Array | undefined;
}

export function emptyRecord(register: RegisterName, instance: Instance): InstanceRecord {
  return { register, instance, promised: ZERO_BALLOT, accepted: undefined, chosen: undefined };
}

/** Names a record in maps: the instance first, so no register name can make two keys collide. */
export function recordKey(register: RegisterName, instance: Instance): string {
  return `${instance} ${register}`;
}

/** The acceptor's answer to a message (none for a repeated Prepare), and its record afterwards (the same object when unchanged). */
interface AcceptorStep {
  readonly record: InstanceRecord;
  readonly reply: Message | undefined;
}

/**
 * Phase 1b, the acceptor's two promises as the articles state them: having answered a Prepare
 * numbered n it answers no Prepare numbered n or below and accepts no Accept numbered below n; the
 * reply carries its highest-numbered accepted proposal. A Prepare numbered exactly n can only be the
 * same proposer's Prepare again (a proposer never reuses a round: it starts a new one on a timeout),
 * a duplicate the network made; it gets no answer, and since a nack must name a higher promise
 * (codec.ts) it gets no nack either.
 */
export function receivePrepare(record: InstanceRecord, m: Prepare): AcceptorStep {
  const known = chosenReply(record, m.from, m.to);
  if (known !== undefined) return { record, reply: known };
  const order = compareBallots(m.ballot, record.promised);
  if (order < 0) return { record, reply: nack(record, m) };
  if (order === 0) return { record, reply: undefined };
  const reply: Message = {
    ...address(record, m.from, m.to),
    type: "promise",
    ballot: m.ballot,
    accepted: record.accepted,
  };
  return { record: { ...record, promised: m.ballot }, reply };
}

/** Phase 2b: accepting a ballot also promises it, so no lower Accept is taken afterwards. */
export function receiveAccept(record: InstanceRecord, m: Accept): AcceptorStep {
  const known = chosenReply(record, m.from, m.to);
  if (known !== undefined) return { record, reply: known };
  if (compareBallots(m.ballot, record.promised) < 0) return { record, reply: nack(record, m) };
  const next: InstanceRecord = { ...record, promised: m.ballot, accepted: { ballot: m.ballot, value: m.value } };
  return { record: next, reply: { ...address(record, m.from, m.to), type: "accepted", ballot: m.ballot } };
}

/** Records the decided value. Two different decided values for one instance would mean Paxos is broken. */
export function learnChosen(record: InstanceRecord, value: Uint8Array): InstanceRecord {
  if (record.chosen !== undefined) {
    const where = `${JSON.stringify(record.register)} instance ${record.instance}`;
    assert(bytesEqual(record.chosen, value), `${where} decided twice`);
    return record;
  }
  return { ...record, chosen: value };
}

export function checkRecord(record: InstanceRecord): void {
  const { accepted, promised } = record;
  assert(Number.isSafeInteger(record.instance) && record.instance >= 1, `instance ${record.instance}`);
  // The message is built only on failure: this runs after every input on every member.
  if (accepted === undefined || compareBallots(accepted.ballot, promised) <= 0) return;
  assert(false, `accepted ballot ${formatBallot(accepted.ballot)} above promise ${formatBallot(promised)}`);
}

/** A member that already knows the decision says so instead of taking part in another round. */
function chosenReply(record: InstanceRecord, to: NodeId, from: NodeId): Message | undefined {
  if (record.chosen === undefined) return undefined;
  return { ...address(record, to, from), type: "chosen", value: record.chosen };
}

function nack(record: InstanceRecord, m: Prepare | Accept): Message {
  return { ...address(record, m.from, m.to), type: "nack", ballot: m.ballot, promised: record.promised };
}

interface Address {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly register: RegisterName;
  readonly instance: Instance;
}

function address(record: InstanceRecord, to: NodeId, from: NodeId): Address {
  return { from, to, register: record.register, instance: record.instance };
}
