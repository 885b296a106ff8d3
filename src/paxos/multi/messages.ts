import { assertNever } from "../../util/assert.js";
import type { NodeId } from "../../util/ids.js";
import type { AcceptedRecord, Ballot, ChosenEntry, Slot, Snapshot, Value } from "./types.js";

/** Every message between Multi-Paxos members; each variant carries only its own fields. */
export type Message =
  | Prepare
  | PromiseReply
  | Accept
  | AcceptedReply
  | Nack
  | LearnRequest
  | Learn
  | InstallSnapshot
  | ReadIndexRequest
  | ReadIndexResponse
  | ForwardedProposal;

export type MessageType = Message["type"];

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
}

/** Phase 1a for every slot from `fromSlot` on: the proposer knows all slots before it chosen. */
export interface Prepare extends Envelope {
  readonly type: "prepare";
  readonly ballot: Ballot;
  readonly fromSlot: Slot;
}

/**
 * Phase 1b. `accepted` holds, for every slot from the Prepare's `fromSlot` on, the highest-ballot
 * value this acceptor accepted there — except the slots through `snapshotIndex`, which its durable
 * snapshot holds (chosen, and obtainable from it). It also knows every slot through `chosenThrough`
 * chosen, and `chosen` holds those values from `fromSlot` on (possibly fewer, bounded): a leader takes
 * them rather than proposing those slots again. What a learner knows is volatile, so a leader relies
 * on the records and the snapshot, never on `chosenThrough` alone.
 */
export interface PromiseReply extends Envelope {
  readonly type: "promise";
  readonly ballot: Ballot;
  readonly snapshotIndex: Slot;
  readonly chosenThrough: Slot;
  readonly chosen: readonly ChosenEntry[];
  readonly accepted: readonly AcceptedRecord[];
}

/** One proposal of phase 2a. */
export interface SlotValue {
  readonly slot: Slot;
  readonly value: Value;
}

/**
 * Which ballot names the chosen value of each slot after `from − 1` through `through`: the slots
 * (previous run's last, last] were chosen as the value proposed in `ballot` there. Runs ascend.
 */
export interface CommitNotice {
  readonly from: Slot;
  readonly runs: readonly { readonly last: Slot; readonly ballot: Ballot }[];
}

/**
 * Phase 2a for `entries` (slots strictly ascending), and the leader's heartbeat when empty. It
 * carries what is chosen (`commit`) and, when `round` > 0, asks for an echo confirming leadership.
 */
export interface Accept extends Envelope {
  readonly type: "accept";
  readonly ballot: Ballot;
  readonly round: number;
  readonly entries: readonly SlotValue[];
  readonly commit: CommitNotice;
}

/**
 * Phase 2b for `slots` (accepted in `ballot`, durable), and the answer to a heartbeat. The learner
 * reports how far it knows the chosen values; `stuck` says it lacks the value of the next chosen slot.
 */
export interface AcceptedReply extends Envelope {
  readonly type: "accepted";
  readonly ballot: Ballot;
  readonly round: number;
  readonly slots: readonly Slot[];
  readonly learnedThrough: Slot;
  readonly stuck: boolean;
}

/** The acceptor refuses `ballot` because it promised `promised`, which is at least as high. */
export interface Nack extends Envelope {
  readonly type: "nack";
  readonly ballot: Ballot;
  readonly promised: Ballot;
}

/** Asks a member that knows more for the chosen values from `fromSlot` on. */
export interface LearnRequest extends Envelope {
  readonly type: "learnRequest";
  readonly fromSlot: Slot;
}

/** Chosen values, consecutive slots ascending. */
export interface Learn extends Envelope {
  readonly type: "learn";
  readonly entries: readonly ChosenEntry[];
}

/** Everything through `snapshot.index`, for a member that needs compacted slots. */
export interface InstallSnapshot extends Envelope {
  readonly type: "snapshot";
  readonly snapshot: Snapshot;
}

/** A follower asks its leader for a read point on behalf of its readers. */
export interface ReadIndexRequest extends Envelope {
  readonly type: "readIndexRequest";
  readonly context: Uint8Array;
}

export interface ReadIndexResponse extends Envelope {
  readonly type: "readIndexResponse";
  readonly ballot: Ballot;
  readonly context: Uint8Array;
  readonly index: Slot;
}

/**
 * A follower passes a proposal to the leader it knows (as Raft's MsgProp): the leader proposes
 * `data` in its next slot, or drops it; the follower learns the outcome only by applying it.
 */
export interface ForwardedProposal extends Envelope {
  readonly type: "propose";
  readonly data: Uint8Array;
}

/**
 * Whether `m` may leave before the Ready it came with is durable. A Promise and an Accepted reply
 * promise what the acceptor wrote; a Prepare carries a ballot the proposer must never draw again
 * after a restart, so it waits for the proposer's own promise of that ballot to be durable.
 */
export function sendsBeforePersist(m: Message): boolean {
  switch (m.type) {
    case "prepare":
    case "promise":
      return false;
    case "accepted":
      return m.slots.length === 0;
    case "accept":
    case "nack":
    case "learnRequest":
    case "learn":
    case "snapshot":
    case "readIndexRequest":
    case "readIndexResponse":
    case "propose":
      return true;
    default:
      return assertNever(m, "message");
  }
}

/**
 * Whether the ballot a message names belongs to whom it must: a proposer's own (Prepare, Accept,
 * a leader's read answer), or, in a reply, the ballot of the proposer it answers. Anything else is
 * forged or corrupt: two proposers never share a ballot.
 */
export function ballotOwnerMatches(m: Message): boolean {
  switch (m.type) {
    case "prepare":
    case "accept":
    case "readIndexResponse":
      return m.ballot.node === m.from;
    case "promise":
    case "accepted":
    case "nack":
      return m.ballot.node === m.to;
    case "learnRequest":
    case "learn":
    case "snapshot":
    case "readIndexRequest":
    case "propose":
      return true;
    default:
      return assertNever(m, "message");
  }
}
