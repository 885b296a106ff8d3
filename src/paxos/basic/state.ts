import type { NodeId } from "../../util/ids.js";
import { emptyRecord, type RegisterRecord } from "./acceptor.js";
import type { Ballot } from "./ballot.js";
import type { AcceptedValue, Message, RegisterName } from "./messages.js";
import type { ResolvedOptions } from "./options.js";

/** Chosen by the caller and echoed in the request's result; unique among the caller's pending requests. */
export type RequestId = number;

/** A write carries a value; a read (value undefined) asks what the register holds. */
export interface Request {
  readonly id: RequestId;
  readonly value: Uint8Array | undefined;
}

/**
 * "chosen": the register's decided value (for a write, its own value won only if the bytes are equal).
 * "empty": a read found nothing decided; a later write may still decide the register.
 */
export type Outcome = { readonly type: "chosen"; readonly value: Uint8Array } | { readonly type: "empty" };

export interface RequestResult {
  readonly request: RequestId;
  readonly register: RegisterName;
  readonly outcome: Outcome;
}

/**
 * One proposer round for a register. `value` is the write it carries (undefined for a read-only round);
 * `covered` counts the waiting requests that were there when phase 1 began: only those may take an
 * "empty" answer, since a read that arrived later could follow a decision made after that quorum promised.
 */
export type Attempt =
  | {
      readonly phase: "prepare";
      readonly ballot: Ballot;
      readonly value: Uint8Array | undefined;
      readonly covered: number;
      readonly promises: Map<NodeId, AcceptedValue | undefined>;
      ticksLeft: number;
    }
  | {
      readonly phase: "accept";
      readonly ballot: Ballot;
      readonly value: Uint8Array;
      readonly accepts: Set<NodeId>;
      ticksLeft: number;
    }
  | { readonly phase: "backoff"; ticksLeft: number };

/** A register this member is proposing to: the requests waiting on it, oldest first, and the round in flight. */
export interface Proposal {
  readonly register: RegisterName;
  readonly waiting: Request[];
  attempt: Attempt;
}

/**
 * One member's whole state; the functions in acceptor.ts and proposer.ts change it, node.ts hands out
 * the work. `round` is durable (the highest round this member has used or is about to use; it reaches
 * disk before any message that uses it leaves), `roundSeen` is the highest round heard of from anyone.
 */
export interface PaxosState {
  readonly id: NodeId;
  readonly options: ResolvedOptions;
  readonly acceptors: ReadonlySet<NodeId>;
  readonly quorum: number;
  round: number;
  roundSeen: number;
  readonly records: Map<RegisterName, RegisterRecord>;
  /** Registers whose record changed since the last Ready. */
  readonly recordsChanged: Set<RegisterName>;
  readonly proposals: Map<RegisterName, Proposal>;
  requestsPending: number;
  readonly outbox: Message[];
  readonly results: RequestResult[];
}

export function recordOf(s: PaxosState, register: RegisterName): RegisterRecord {
  return s.records.get(register) ?? emptyRecord(register);
}

export function putRecord(s: PaxosState, record: RegisterRecord): void {
  if (s.records.get(record.register) === record) return;
  s.records.set(record.register, record);
  s.recordsChanged.add(record.register);
}
