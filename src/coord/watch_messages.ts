import type { KvEvent } from "../kv/index.js";
import type { WatchRange } from "./watch_range.js";

/** What a watch asks for (docs/coordination.md, "Watch"). */
export interface WatchRequest {
  readonly range: WatchRange;
  /** Deliver every change at this revision or later; default: only changes after the member's current revision. */
  readonly fromRevision?: number;
  /** The sink shows each event's previous key-value (events always carry it: see WatchEventsMessage). */
  readonly prevKv?: boolean;
  /** A progress notification every progress interval in which nothing else was sent. */
  readonly progressNotify?: boolean;
}

/**
 * Why a watch ended; docs/coordination.md says what the reader should do about each. `client`: its
 * reader asked for the end (WatchHub.cancel), so the reader owes nothing more.
 */
export type WatchCancelReason = "compacted" | "unavailable" | "slow" | "stopping" | "client";

interface WatchCreatedMessage {
  readonly type: "created";
  readonly watchId: number;
  /** The member's revision when the watch was created. */
  readonly revision: number;
}

/**
 * One or more whole revisions' events in this watch's range. `revision` is the highest revision
 * whose events the stream has now sent. The events are the store's own objects, shared by every
 * watcher: `prev` is there whatever the request said, and a sink shows it only when asked (prevKv).
 */
interface WatchEventsMessage {
  readonly type: "events";
  readonly watchId: number;
  readonly revision: number;
  readonly events: readonly KvEvent[];
}

/** Every event at or below `revision` in the watch's range has been sent on this stream. */
interface WatchProgressMessage {
  readonly type: "progress";
  readonly watchId: number;
  readonly revision: number;
}

/** The last message of a stream. */
interface WatchCanceledMessage {
  readonly type: "canceled";
  readonly watchId: number;
  readonly reason: WatchCancelReason;
  readonly message: string;
  /** compacted: the cluster's compaction revision; unavailable: this member's oldest revision held. */
  readonly compactRevision?: number;
  /** The first revision this stream has not sent: reconnect with fromRevision set to it to lose nothing. */
  readonly resumeRevision?: number;
}

export type WatchMessage = WatchCreatedMessage | WatchEventsMessage | WatchProgressMessage | WatchCanceledMessage;

/** Where a watch's messages go: an HTTP stream, or a recording in the simulator and tests. */
export interface WatchSink {
  /**
   * Takes the message (always). False: the reader is full, and the hub sends nothing more (but a
   * final `canceled`) until the watch handle's `resume()`.
   */
  send(message: WatchMessage): boolean;
  /** The hub ended the watch: the last message was `canceled`. */
  close(): void;
}

/** The watch's owner's side: its id, and what the owner tells the hub about the reader. */
export interface WatchHandle {
  readonly watchId: number;
  /** The sink drained after a send returned false: the hub goes on sending. */
  resume(): void;
  /** The reader went away: the watch ends with no further message. Does nothing once it has ended. */
  remove(): void;
}
