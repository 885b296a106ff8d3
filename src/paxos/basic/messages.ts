import { assertNever } from "../../util/assert.js";
import type { NodeId } from "../../util/ids.js";
import type { Ballot } from "./ballot.js";

/**
 * A register's name. Every register is its own single-decree Paxos instance: nothing orders two
 * registers, so they never wait on each other. A driver serving byte keys names a register by the
 * key's binary string (one code unit per byte).
 */
export type RegisterName = string;

/** A value an acceptor has accepted, with the ballot it accepted it in. */
export interface AcceptedValue {
  readonly ballot: Ballot;
  readonly value: Uint8Array;
}

/**
 * Every message between Basic Paxos members, named after Lamport's phases: prepare (1a), promise (1b),
 * accept (2a), accepted (2b); nack tells a proposer that its ballot is beaten, and chosen carries a
 * decided value to learners (and answers any proposer that asks a member already knowing the decision).
 */
export type Message = Prepare | PromiseReply | Accept | AcceptedReply | Nack | Chosen;

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly register: RegisterName;
}

export interface Prepare extends Envelope {
  readonly type: "prepare";
  readonly ballot: Ballot;
}

/** The acceptor will take no ballot below `ballot`; `accepted` is the last value it accepted, if any. */
export interface PromiseReply extends Envelope {
  readonly type: "promise";
  readonly ballot: Ballot;
  readonly accepted: AcceptedValue | undefined;
}

export interface Accept extends Envelope {
  readonly type: "accept";
  readonly ballot: Ballot;
  readonly value: Uint8Array;
}

export interface AcceptedReply extends Envelope {
  readonly type: "accepted";
  readonly ballot: Ballot;
}

/** `ballot` (a Prepare's or an Accept's) lost to `promised`, the acceptor's promise, which is higher. */
export interface Nack extends Envelope {
  readonly type: "nack";
  readonly ballot: Ballot;
  readonly promised: Ballot;
}

/** `value` is the register's decided value: once chosen it never changes. */
export interface Chosen extends Envelope {
  readonly type: "chosen";
  readonly value: Uint8Array;
}

/** The highest ballot a message names, so a proposer that hears of it can start above it. */
export function ballotOf(m: Message): Ballot | undefined {
  switch (m.type) {
    case "prepare":
    case "promise":
    case "accept":
    case "accepted":
      return m.ballot;
    case "nack":
      return m.promised;
    case "chosen":
      return undefined;
    default:
      return assertNever(m, "message");
  }
}
