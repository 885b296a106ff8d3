import type { NodeId } from "../util/ids.js";
import type { Epoch, EpochExtent, Txn, Vote, Zxid } from "./types.js";

/**
 * Every message between ZAB members, named as in the Zab paper and ZooKeeper. ZooKeeper runs each
 * follower over one TCP connection; here any message may be lost, duplicated or reordered, so each
 * one carries the epoch it belongs to, a follower acknowledges cumulatively, and the leader's
 * heartbeat resends whatever a follower still lacks.
 */
export type ZabMessage =
  | Notification
  | FollowerInfo
  | NewEpoch
  | AckEpoch
  | NewLeader
  | Ack
  | Proposal
  | Commit
  | Ping
  | Pong
  | SyncRequest
  | SyncResponse
  | Forward;

export type ZabMessageType = ZabMessage["type"];

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
}

/**
 * Fast leader election. A looking member sends its vote in its election `round`. A member that
 * decided to follow and waits for its leader to take the lead answers with `state: "following"`
 * and the vote it decided on, which the prospective leader counts in that round. A leader answers
 * with `state: "leading"` and a vote for itself, so a restarted member joins it.
 */
export interface Notification extends Envelope {
  readonly type: "notification";
  readonly round: number;
  readonly state: "looking" | "following" | "leading";
  readonly vote: Vote;
}

/** Discovery, follower → prospective leader (the paper's CEPOCH): the follower's acceptedEpoch. */
export interface FollowerInfo extends Envelope {
  readonly type: "followerInfo";
  readonly acceptedEpoch: Epoch;
}

/** Discovery, leader → follower (NEWEPOCH): the epoch the leader proposes, above every acceptedEpoch it heard. */
export interface NewEpoch extends Envelope {
  readonly type: "newEpoch";
  readonly epoch: Epoch;
}

/**
 * Discovery, follower → leader (ACK-E), sent once `acceptedEpoch = epoch` is durable. `promised`
 * says this member raised its acceptedEpoch to `epoch` for this leader; only such answers count
 * toward the quorum that establishes the epoch (a member that had already accepted `epoch` before,
 * perhaps for another leader, may still be synchronized). `extents` summarize its history so the
 * leader can find where their histories part.
 */
export interface AckEpoch extends Envelope {
  readonly type: "ackEpoch";
  readonly epoch: Epoch;
  readonly promised: boolean;
  readonly currentEpoch: Epoch;
  readonly lastZxid: Zxid;
  /** Highest epoch first. */
  readonly extents: readonly EpochExtent[];
}

/**
 * Synchronization, leader → follower (NEWLEADER with a DIFF/TRUNC): keep your history through
 * `prevZxid`, then hold `txns`, the leader's whole history after it, and take `epoch` as currentEpoch.
 */
export interface NewLeader extends Envelope {
  readonly type: "newLeader";
  readonly epoch: Epoch;
  readonly prevZxid: Zxid;
  readonly txns: readonly Txn[];
}

/**
 * Follower → leader, once durable: "my history holds the leader's through `zxid`". It answers
 * NEWLEADER (ACK-LD) and proposals alike.
 */
export interface Ack extends Envelope {
  readonly type: "ack";
  readonly epoch: Epoch;
  readonly zxid: Zxid;
}

/** Broadcast, leader → follower: `txns` follow `prevZxid` in the leader's history. */
export interface Proposal extends Envelope {
  readonly type: "proposal";
  readonly epoch: Epoch;
  readonly prevZxid: Zxid;
  readonly txns: readonly Txn[];
}

/** Broadcast, leader → follower: everything through `zxid` is committed. */
export interface Commit extends Envelope {
  readonly type: "commit";
  readonly epoch: Epoch;
  readonly zxid: Zxid;
}

/** The leader's heartbeat; it repeats the commit point and numbers a round that `sync` may wait on. */
export interface Ping extends Envelope {
  readonly type: "ping";
  readonly epoch: Epoch;
  readonly committedZxid: Zxid;
  readonly round: number;
}

/**
 * A synchronized follower's answer to a ping: it still follows this leader in this epoch. It also
 * tells the leader what it holds (`lastZxid`, to resend what is missing) and what of that is durable
 * (`durableZxid`, which counts like an Ack whose original was lost).
 */
export interface Pong extends Envelope {
  readonly type: "pong";
  readonly epoch: Epoch;
  readonly round: number;
  readonly lastZxid: Zxid;
  readonly durableZxid: Zxid;
}

/** Follower → leader: a client asked this follower for a linearizable read. */
export interface SyncRequest extends Envelope {
  readonly type: "syncRequest";
  readonly context: Uint8Array;
}

/** Leader → follower: serve the read for `context` once applied through `index`. */
export interface SyncResponse extends Envelope {
  readonly type: "syncResponse";
  readonly epoch: Epoch;
  readonly context: Uint8Array;
  readonly index: number;
}

/**
 * Follower → leader: a client gave this follower a transaction (ZooKeeper's REQUEST packet). A
 * leader in broadcast proposes `data` as its own; anyone else drops it. The follower learns the
 * outcome only by delivering it.
 */
export interface Forward extends Envelope {
  readonly type: "forward";
  readonly data: Uint8Array;
}
