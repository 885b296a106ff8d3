import type { NodeId } from "../../util/ids.js";
import { emptyRecord, recordKey, type InstanceRecord } from "./acceptor.js";
import type { Ballot } from "./ballot.js";
import type { AcceptedValue, Instance, Message, RegisterName } from "./messages.js";
import type { ResolvedOptions } from "./options.js";

/** Chosen by the caller and echoed in the request's result; unique among the caller's pending requests. */
export type RequestId = number;

/**
 * A read asks for the register's latest version; a compare-and-set asks for `value` to become version
 * `expected` + 1. `serial` orders requests by arrival on this member (see Attempt's `startedAt`).
 */
export type Request =
  | { readonly kind: "read"; readonly id: RequestId; readonly serial: number }
  | {
      readonly kind: "cas";
      readonly id: RequestId;
      readonly serial: number;
      readonly expected: Instance;
      readonly value: Uint8Array;
    };

/**
 * Version 0 is the register before its first write (value undefined).
 * "value": a read's answer, the latest version at a moment between the read's call and its answer.
 * "written": the compare-and-set's bytes are version `version` (= expected + 1).
 * "conflict": the compare-and-set failed because the register was not at the expected version: either
 * `version` = expected + 1 and `value` is what won that instance, or `version` < expected is the
 * latest version at a moment during the call (the expected version did not exist yet).
 */
export type Outcome =
  | { readonly type: "value"; readonly version: Instance; readonly value: Uint8Array | undefined }
  | { readonly type: "written"; readonly version: Instance }
  | { readonly type: "conflict"; readonly version: Instance; readonly value: Uint8Array | undefined };

export interface RequestResult {
  readonly request: RequestId;
  readonly register: RegisterName;
  readonly outcome: Outcome;
}

/**
 * One proposer round on one instance of a register. `startedAt` is the request serial when phase 1
 * began: only requests older than it may take what the round finds about "the latest version", since
 * a request that arrived later could follow a decision made after the quorum promised. `own` is set
 * when no promise reported an accepted value, so the round carries a request's value of its own.
 */
export type Attempt =
  | {
      readonly phase: "prepare";
      readonly instance: Instance;
      readonly ballot: Ballot;
      readonly startedAt: number;
      readonly promises: Map<NodeId, AcceptedValue | undefined>;
      ticksLeft: number;
    }
  | {
      readonly phase: "accept";
      readonly instance: Instance;
      readonly ballot: Ballot;
      readonly startedAt: number;
      readonly value: Uint8Array;
      readonly own: boolean;
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
 * `latest` is, per register, the highest instance whose decision this member has learned (its record
 * holds the value); every lower instance is decided too, though not necessarily learned here.
 */
export interface PaxosState {
  readonly id: NodeId;
  readonly options: ResolvedOptions;
  readonly acceptors: ReadonlySet<NodeId>;
  readonly quorum: number;
  round: number;
  roundSeen: number;
  /** recordKey → record; absent means the empty record. */
  readonly records: Map<string, InstanceRecord>;
  readonly latest: Map<RegisterName, Instance>;
  /** Records changed since the last Ready, by recordKey. */
  readonly recordsChanged: Map<string, InstanceRecord>;
  /**
   * Records changed by the input being handled, which invariants.ts checks once it is handled.
   * Checking all of recordsChanged after every input instead cost the size of the Ready being built
   * per input: quadratic while a slow fdatasync holds a member's next Ready back, until under load
   * an acceptor fell behind for good (compare:engines, real processes, 64 clients).
   */
  readonly recordsUnchecked: Map<string, InstanceRecord>;
  readonly proposals: Map<RegisterName, Proposal>;
  requestsPending: number;
  /** The serial the next request gets. */
  requestSerial: number;
  readonly outbox: Message[];
  readonly results: RequestResult[];
}

export function recordOf(s: PaxosState, register: RegisterName, instance: Instance): InstanceRecord {
  return s.records.get(recordKey(register, instance)) ?? emptyRecord(register, instance);
}

export function putRecord(s: PaxosState, record: InstanceRecord): void {
  const key = recordKey(record.register, record.instance);
  if (s.records.get(key) === record) return;
  s.records.set(key, record);
  s.recordsChanged.set(key, record);
  s.recordsUnchecked.set(key, record);
}

export function latestOf(s: PaxosState, register: RegisterName): Instance {
  return s.latest.get(register) ?? 0;
}

/** The value decided in `instance` as learned here; version 0 has none. */
export function chosenAt(s: PaxosState, register: RegisterName, instance: Instance): Uint8Array | undefined {
  return instance === 0 ? undefined : s.records.get(recordKey(register, instance))?.chosen;
}
