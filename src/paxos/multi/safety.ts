import { bytesEqual } from "../../util/bytes.js";
import type { NodeId } from "../../util/ids.js";
import type { AcceptorView } from "./node.js";
import {
  compareBallots,
  formatBallot,
  sameBallot,
  type AcceptedRecord,
  type CommittedEntry,
  type Slot,
  type Value,
} from "./types.js";

/** The Paxos properties the simulator checks, each named for what broke. */
export type PaxosViolationKind =
  | "promiseLowered"
  | "promiseBroken"
  | "twoValuesOneBallot"
  | "twoValuesChosen"
  | "learntUnchosen"
  | "appliedDiverged"
  | "appliedOutOfOrder";

export interface PaxosViolation {
  readonly kind: PaxosViolationKind;
  readonly message: string;
}

/** A copy of an acceptor's view to compare the next one with (records are immutable, so shallow). */
export function copyAcceptorView(view: AcceptorView): AcceptorView {
  return { promised: view.promised, accepted: new Map(view.accepted) };
}

export function sameValue(a: Value, b: Value): boolean {
  return a.kind === b.kind && bytesEqual(a.data, b.data);
}

/**
 * An acceptor never breaks a promise: from one observation to the next (one input apart, or from
 * its durable state to what it recovered after a crash) its promise never goes down, and every
 * record it newly accepted is in a ballot at least the promise it had before; it never accepts two
 * values in one ballot at one slot.
 */
export function checkAcceptorStep(node: NodeId, before: AcceptorView, after: AcceptorView): PaxosViolation[] {
  const out: PaxosViolation[] = [];
  if (compareBallots(after.promised, before.promised) < 0) {
    const what = `${formatBallot(before.promised)} to ${formatBallot(after.promised)}`;
    out.push({ kind: "promiseLowered", message: `acceptor ${node} lowered its promise from ${what}` });
  }
  for (const [slot, record] of after.accepted) {
    const previous = before.accepted.get(slot);
    if (previous === record) continue;
    if (previous !== undefined && sameBallot(previous.ballot, record.ballot)) {
      if (!sameValue(previous.value, record.value)) {
        const message = `acceptor ${node} accepted two values at slot ${slot} in ${formatBallot(record.ballot)}`;
        out.push({ kind: "twoValuesOneBallot", message });
      }
      continue;
    }
    if (compareBallots(record.ballot, before.promised) < 0) {
      const message = `acceptor ${node} accepted slot ${slot} in ${formatBallot(record.ballot)} after promising ${formatBallot(before.promised)}`;
      out.push({ kind: "promiseBroken", message });
    }
  }
  return out;
}

interface BallotVotes {
  readonly value: Value;
  readonly acceptors: Set<NodeId>;
}

/**
 * At most one value is chosen per slot, across all members and all time. A value is chosen when a
 * quorum of acceptors has durably accepted it in one ballot; feed every record a Ready made durable,
 * once its persist is done. Whatever a member learns or applies must be the value chosen there.
 */
export class ChosenRegistry {
  readonly #quorum: number;
  /** slot → ballot → the value and who accepted it. */
  readonly #votes = new Map<Slot, Map<string, BallotVotes>>();
  readonly #chosen = new Map<Slot, Value>();

  constructor(quorum: number) {
    this.#quorum = quorum;
  }

  chosenAt(slot: Slot): Value | undefined {
    return this.#chosen.get(slot);
  }

  recordDurable(node: NodeId, records: readonly AcceptedRecord[]): PaxosViolation[] {
    const out: PaxosViolation[] = [];
    for (const record of records) {
      const bySlot = this.#votes.get(record.slot) ?? new Map<string, BallotVotes>();
      this.#votes.set(record.slot, bySlot);
      const key = formatBallot(record.ballot);
      const votes = bySlot.get(key) ?? { value: record.value, acceptors: new Set<NodeId>() };
      bySlot.set(key, votes);
      if (!sameValue(votes.value, record.value)) {
        const message = `slot ${record.slot} ballot ${key}: acceptor ${node} holds another value than its peers`;
        out.push({ kind: "twoValuesOneBallot", message });
        continue;
      }
      votes.acceptors.add(node);
      if (votes.acceptors.size < this.#quorum) continue;
      const chosen = this.#chosen.get(record.slot);
      if (chosen === undefined) this.#chosen.set(record.slot, votes.value);
      else if (!sameValue(chosen, votes.value)) {
        out.push({ kind: "twoValuesChosen", message: `slot ${record.slot}: a second value chosen in ballot ${key}` });
      }
    }
    return out;
  }

  /** A member learnt or applied `value` at `slot`. */
  checkLearnt(node: NodeId, slot: Slot, value: Value): PaxosViolation[] {
    const chosen = this.#chosen.get(slot);
    if (chosen !== undefined && sameValue(chosen, value)) return [];
    const why = chosen === undefined ? "which no quorum accepted" : "which is not the value chosen there";
    return [{ kind: "learntUnchosen", message: `member ${node} learnt a value at slot ${slot} ${why}` }];
  }
}

/**
 * Applied sequences are prefixes of one another: every member applies consecutive slots (from its
 * snapshot on), and every member applies the same value at a slot.
 */
export class AppliedHistory {
  readonly #first = new Map<Slot, CommittedEntry>();
  readonly #next = new Map<NodeId, number>();

  /** `node` (re)started from, or installed, a state machine holding every slot through `index`. */
  restored(node: NodeId, index: Slot): void {
    this.#next.set(node, index + 1);
  }

  observe(node: NodeId, entries: readonly CommittedEntry[]): PaxosViolation[] {
    const out: PaxosViolation[] = [];
    for (const entry of entries) {
      const expected = this.#next.get(node) ?? 1;
      if (entry.index !== expected) {
        const message = `member ${node} applied slot ${entry.index} when slot ${expected} was next`;
        out.push({ kind: "appliedOutOfOrder", message });
      }
      this.#next.set(node, entry.index + 1);
      const first = this.#first.get(entry.index);
      if (first === undefined) this.#first.set(entry.index, entry);
      else if (first.kind !== entry.kind || !bytesEqual(first.data, entry.data)) {
        out.push({ kind: "appliedDiverged", message: `member ${node} applied another value at slot ${entry.index}` });
      }
    }
    return out;
  }
}

/** The pure form for two whole sequences: is the shorter a prefix of the longer? */
export function isPrefixOf(a: readonly CommittedEntry[], b: readonly CommittedEntry[]): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.every((entry, i) => {
    const other = long[i]!;
    return entry.index === other.index && entry.kind === other.kind && bytesEqual(entry.data, other.data);
  });
}
