import { assertNever } from "../../util/assert.js";
import type { NodeId } from "../../util/ids.js";
import type { Ballot } from "./ballot.js";

/**
 * A register's name. Nothing orders two registers, so they never wait on each other. Names are binary
 * strings (every code unit ≤ 0xFF): a driver serving byte keys names a register by the key's bytes,
 * one code unit per byte, and the wire carries them as those bytes.
 */
export type RegisterName = string;

/**
 * One single-decree Paxos instance of a register, counted from 1. The value chosen in instance n is
 * the register's version n: a register is the sequence of its instances, and compare-and-set from
 * version n proposes in instance n + 1 (see proposer.ts).
 */
export type Instance = number;

/** The longest register name, in bytes (code units), a member takes and the wire carries. */
export const REGISTER_NAME_BYTES_MAX = 1024;
/** The largest value the wire carries; a member's valueBytesMax may be lower, never higher. */
export const VALUE_BYTES_MAX = 2 * 1024 * 1024;

/** A binary string of at most REGISTER_NAME_BYTES_MAX code units: a name the wire can carry. */
export function isRegisterName(name: string): boolean {
  if (name.length > REGISTER_NAME_BYTES_MAX) return false;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) > 0xff) return false;
  return true;
}

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

/** Every message is about one instance of one register. */
interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly register: RegisterName;
  readonly instance: Instance;
}

export interface Prepare extends Envelope {
  readonly type: "prepare";
  readonly ballot: Ballot;
}

/**
 * The acceptor will take no ballot below `ballot`; `accepted` is the highest-numbered proposal it
 * has accepted in this instance (its number and value), if any.
 */
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

/** `value` is the instance's decided value: once chosen it never changes. */
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
