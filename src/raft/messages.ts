import { assertNever } from "../util/assert.js";
import type { LogIndex, NodeId, Term } from "../util/ids.js";
import type { Entry, Snapshot } from "./types.js";

/**
 * Every message between Raft peers. Each variant carries only its own fields, named as in the
 * paper; `term` is the sender's current term (for a pre-vote request, the term it would campaign in).
 */
export type Message =
  | VoteRequest
  | VoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | TimeoutNow
  | Propose
  | ReadIndexRequest
  | ReadIndexResponse;

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
}

/** RequestVote, or its pre-vote rehearsal, which changes no one's term. */
export interface VoteRequest extends Envelope {
  readonly type: "voteRequest";
  readonly preVote: boolean;
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
  /** Set by a campaign that leadership transfer started: it may cut through leader stickiness. */
  readonly transfer: boolean;
}

interface VoteResponse extends Envelope {
  readonly type: "voteResponse";
  readonly preVote: boolean;
  readonly granted: boolean;
}

export interface AppendEntries extends Envelope {
  readonly type: "appendEntries";
  readonly prevLogIndex: LogIndex;
  readonly prevLogTerm: Term;
  readonly entries: readonly Entry[];
  readonly commit: LogIndex;
}

/**
 * On success, `matchIndex` is the last index the follower now holds that matches the leader.
 * On rejection, `rejectedIndex` echoes the request's prevLogIndex, and the hint names the last
 * index whose term is ≤ the request's prevLogTerm, so the leader can skip a whole term per round trip.
 */
export type AppendEntriesResponse =
  | (Envelope & { readonly type: "appendEntriesResponse"; readonly success: true; readonly matchIndex: LogIndex })
  | (Envelope & {
      readonly type: "appendEntriesResponse";
      readonly success: false;
      readonly rejectedIndex: LogIndex;
      readonly hintIndex: LogIndex;
      readonly hintTerm: Term;
    });

/**
 * A leader's liveness signal. `commit` is capped at what the follower is known to hold, so it never
 * learns a commit index beyond its own matching log. `context` ties it to a pending ReadIndex round.
 */
export interface Heartbeat extends Envelope {
  readonly type: "heartbeat";
  readonly commit: LogIndex;
  readonly context: number;
}

export interface HeartbeatResponse extends Envelope {
  readonly type: "heartbeatResponse";
  readonly context: number;
}

/**
 * Sent instead of AppendEntries when the follower needs entries the leader has compacted away.
 * The follower answers with an AppendEntriesResponse.
 */
export interface InstallSnapshot extends Envelope {
  readonly type: "installSnapshot";
  readonly snapshot: Snapshot;
}

/**
 * Leadership transfer: the leader tells an up-to-date follower to campaign at once. `commit` is the
 * leader's commit index (within the target's matching log), so the target campaigns in the
 * configuration that committed even if the message carrying that commit index is lost or late.
 */
interface TimeoutNow extends Envelope {
  readonly type: "timeoutNow";
  readonly commit: LogIndex;
}

/** A proposal a follower forwards to the leader it knows. */
interface Propose extends Envelope {
  readonly type: "propose";
  readonly data: readonly Uint8Array[];
}

/** A follower asks the leader for a read index on behalf of its own readers. */
export interface ReadIndexRequest extends Envelope {
  readonly type: "readIndexRequest";
  readonly context: Uint8Array;
}

interface ReadIndexResponse extends Envelope {
  readonly type: "readIndexResponse";
  readonly context: Uint8Array;
  readonly index: LogIndex;
}

export type MessageType = Message["type"];

/**
 * Whether `m` may leave before the Ready it came with is durable: it promises nothing about this
 * node's disk. Votes and append acknowledgements do, and wait (Ready.messagesAfterPersist). A slow
 * disk then delays neither heartbeats nor their answers, which keep leadership and ReadIndex rounds
 * going, nor forwarded requests.
 */
export function sendsBeforePersist(m: Message): boolean {
  switch (m.type) {
    case "voteRequest":
    case "voteResponse":
    case "appendEntriesResponse":
      return false;
    case "appendEntries":
    case "heartbeat":
    case "heartbeatResponse":
    case "installSnapshot":
    case "timeoutNow":
    case "propose":
    case "readIndexRequest":
    case "readIndexResponse":
      return true;
    default:
      return assertNever(m, "message");
  }
}

/**
 * Messages that tell a follower the commit index, or must not overtake one that does. While a
 * configuration entry's commit is not yet durable on the leader they wait for it (see
 * RaftLog.configCommitUnsynced): a member that learns of its own removal stops campaigning for
 * good, so no restart of the leader may forget the change. A TimeoutNow waits too, so that a
 * successor chosen by a removed leader campaigns in the configuration that committed.
 */
export function waitsForConfigCommit(m: Message): boolean {
  return m.type === "appendEntries" || m.type === "heartbeat" || m.type === "timeoutNow";
}

/** Messages only a leader of `term` sends. */
export function isFromLeader(m: Message): m is AppendEntries | Heartbeat | InstallSnapshot {
  return m.type === "appendEntries" || m.type === "heartbeat" || m.type === "installSnapshot";
}
