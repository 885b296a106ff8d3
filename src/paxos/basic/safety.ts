import { bytesEqual } from "../../util/bytes.js";
import type { NodeId } from "../../util/ids.js";
import { recordKey, type InstanceRecord } from "./acceptor.js";
import { compareBallots, formatBallot, ZERO_BALLOT, type Ballot } from "./ballot.js";
import type { Instance, Message, RegisterName } from "./messages.js";
import type { DurableState } from "./node.js";

/*
 * The Basic Paxos safety properties, as pure checks over what members made durable. The simulator
 * (and the tests' cluster) call them after every step: checkAcceptorStep on each member's durable
 * state before and after the step (or before a crash and after the restart), and
 * ChosenLedger.observe on every record a Ready persisted, once it is on disk.
 */

export type BasicPaxosViolationKind =
  /** A member's durable round went down: it could reuse a ballot. */
  | "roundLowered"
  /** An acceptor's promise went down (a record that vanished counts as promising nothing). */
  | "promiseLowered"
  /** An acceptor accepted a ballot below the promise it had made, or answered a Prepare at or below it. */
  | "promiseBroken"
  /** An acceptor forgot the value it had accepted. */
  | "acceptanceLost"
  /** One ballot carried two values in one instance. */
  | "twoValuesOneBallot"
  /** Two values were chosen in one instance. */
  | "twoValuesChosen"
  /** A member learned a decision that no quorum accepted, or changed one it had learned. */
  | "learntUnchosen"
  /** An instance was chosen before the one below it: a register version with a hole under it. */
  | "versionGap";

export interface BasicPaxosViolation {
  readonly kind: BasicPaxosViolationKind;
  readonly message: string;
}

/**
 * An acceptor never breaks a promise, checked from two successive durable states of one member: its
 * round and its promises never go down, and whatever it newly accepted is at or above the promise it
 * had before; it never forgets an acceptance or a decision.
 */
export function checkAcceptorStep(member: NodeId, before: DurableState, after: DurableState): BasicPaxosViolation[] {
  const out: BasicPaxosViolation[] = [];
  if (after.round < before.round) {
    out.push({ kind: "roundLowered", message: `member ${member} lowered its round ${before.round} to ${after.round}` });
  }
  const next = new Map(after.records.map((r) => [recordKey(r.register, r.instance), r]));
  for (const old of before.records) {
    const key = recordKey(old.register, old.instance);
    out.push(...checkRecordStep(member, old, next.get(key)));
    next.delete(key);
  }
  for (const fresh of next.values()) out.push(...checkRecordStep(member, undefined, fresh));
  return out;
}

/** checkAcceptorStep for one instance's record (undefined: no record, the empty one). */
export function checkRecordStep(
  member: NodeId,
  before: InstanceRecord | undefined,
  after: InstanceRecord | undefined,
): BasicPaxosViolation[] {
  const out: BasicPaxosViolation[] = [];
  const some = after ?? before;
  if (some === undefined) return out;
  const where = `acceptor ${member}, ${JSON.stringify(some.register)} instance ${some.instance}`;
  const [promisedBefore, promisedAfter] = [before?.promised ?? ZERO_BALLOT, after?.promised ?? ZERO_BALLOT];
  if (compareBallots(promisedAfter, promisedBefore) < 0) {
    const message = `${where}: promise lowered from ${formatBallot(promisedBefore)} to ${formatBallot(promisedAfter)}`;
    out.push({ kind: "promiseLowered", message });
  }
  const [was, now] = [before?.accepted, after?.accepted];
  if (was !== undefined && now === undefined) {
    out.push({ kind: "acceptanceLost", message: `${where}: forgot its acceptance of ${formatBallot(was.ballot)}` });
  } else if (was !== undefined && now !== undefined && compareBallots(was.ballot, now.ballot) === 0) {
    if (!bytesEqual(was.value, now.value)) {
      out.push({ kind: "twoValuesOneBallot", message: `${where}: two values accepted in ${formatBallot(now.ballot)}` });
    }
  } else if (now !== undefined && compareBallots(now.ballot, promisedBefore) < 0) {
    const message = `${where}: accepted ${formatBallot(now.ballot)} after promising ${formatBallot(promisedBefore)}`;
    out.push({ kind: "promiseBroken", message });
  }
  if (before?.chosen !== undefined && (after?.chosen === undefined || !bytesEqual(before.chosen, after.chosen))) {
    out.push({ kind: "learntUnchosen", message: `${where}: changed or forgot the decision it had learned` });
  }
  return out;
}

/**
 * The promises as an acceptor's replies show them, in the order one Ready sends them: a Promise only
 * for a ballot above every ballot promised or accepted before it (`promisedBefore` gives the durable
 * promise before the Ready), an Accepted only for a ballot at or above that.
 */
export function checkAcceptorReplies(
  member: NodeId,
  promisedBefore: (register: RegisterName, instance: Instance) => Ballot,
  messages: readonly Message[],
): BasicPaxosViolation[] {
  const out: BasicPaxosViolation[] = [];
  const promised = new Map<string, Ballot>();
  for (const m of messages) {
    if (m.type !== "promise" && m.type !== "accepted") continue;
    const key = recordKey(m.register, m.instance);
    const before = promised.get(key) ?? promisedBefore(m.register, m.instance);
    const order = compareBallots(m.ballot, before);
    if (order < 0 || (order === 0 && m.type === "promise")) {
      const where = `acceptor ${member}, ${JSON.stringify(m.register)} instance ${m.instance}`;
      const message = `${where}: answered ${m.type === "promise" ? "a Prepare" : "an Accept"} ${formatBallot(m.ballot)} having promised ${formatBallot(before)}`;
      out.push({ kind: "promiseBroken", message });
    }
    if (order > 0) promised.set(key, m.ballot);
  }
  return out;
}

/**
 * At most one value is chosen per instance, across all members and all time. A value is chosen when
 * a majority of the acceptors has durably accepted it in one ballot (an acceptance counts from then
 * on, even once the acceptor has moved to a higher ballot). Whatever a member learns must be the
 * value chosen there, and instances are chosen in order (versions have no holes).
 */
export class ChosenLedger {
  readonly #quorum: number;
  /** recordKey → ballot → the value and the acceptors that accepted it. */
  readonly #votes = new Map<string, Map<string, { readonly value: Uint8Array; readonly by: Set<NodeId> }>>();
  readonly #chosen = new Map<string, Uint8Array>();
  readonly #latest = new Map<RegisterName, Instance>();

  constructor(acceptorCount: number) {
    this.#quorum = Math.floor(acceptorCount / 2) + 1;
  }

  /** Feeds records `member` made durable; returns what they break. */
  observe(member: NodeId, records: Iterable<InstanceRecord>): BasicPaxosViolation[] {
    const out: BasicPaxosViolation[] = [];
    const learned: InstanceRecord[] = [];
    for (const record of records) {
      if (record.accepted !== undefined) this.#vote(member, record, out);
      if (record.chosen !== undefined) learned.push(record);
    }
    // After the votes: a Ready may persist an acceptance together with the decision it completes.
    for (const record of learned) {
      const chosen = this.chosen(record.register, record.instance);
      if (chosen === undefined || !bytesEqual(chosen, record.chosen!)) {
        const where = `${JSON.stringify(record.register)} instance ${record.instance}`;
        out.push({ kind: "learntUnchosen", message: `member ${member} learned a value never chosen in ${where}` });
      }
    }
    return out;
  }

  chosen(register: RegisterName, instance: Instance): Uint8Array | undefined {
    return this.#chosen.get(recordKey(register, instance));
  }

  /** The register's highest chosen instance (0 if none): its latest version. */
  latest(register: RegisterName): Instance {
    return this.#latest.get(register) ?? 0;
  }

  #vote(member: NodeId, record: InstanceRecord, out: BasicPaxosViolation[]): void {
    const accepted = record.accepted!;
    const key = recordKey(record.register, record.instance);
    const where = `${JSON.stringify(record.register)} instance ${record.instance}`;
    const ballots = this.#votes.get(key) ?? new Map<string, { value: Uint8Array; by: Set<NodeId> }>();
    this.#votes.set(key, ballots);
    const ballot = formatBallot(accepted.ballot);
    const entry = ballots.get(ballot) ?? { value: accepted.value, by: new Set<NodeId>() };
    ballots.set(ballot, entry);
    if (!bytesEqual(entry.value, accepted.value)) {
      out.push({ kind: "twoValuesOneBallot", message: `ballot ${ballot} carried two values in ${where}` });
      return;
    }
    entry.by.add(member);
    if (entry.by.size < this.#quorum) return;
    const chosen = this.#chosen.get(key);
    if (chosen !== undefined) {
      if (!bytesEqual(chosen, entry.value)) {
        out.push({ kind: "twoValuesChosen", message: `${where}: a second value chosen in ballot ${ballot}` });
      }
      return;
    }
    if (record.instance > 1 && !this.#chosen.has(recordKey(record.register, record.instance - 1))) {
      out.push({ kind: "versionGap", message: `${where} chosen before instance ${record.instance - 1}` });
    }
    this.#chosen.set(key, entry.value);
    this.#latest.set(record.register, Math.max(this.latest(record.register), record.instance));
  }
}
