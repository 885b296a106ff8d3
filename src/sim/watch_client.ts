import type { WatchEvent, WatchMessage as Recorded, WatchRange } from "../check/index.js";
import type { WatchCancelReason, WatchHandle, WatchMessage, WatchRequest, WatchSink } from "../coord/index.js";
import type { KvEvent } from "../kv/index.js";
import type { NodeId } from "../raft/index.js";
import type { Prng } from "../util/prng.js";
import type { SimCluster } from "./cluster.js";
import type { CoordMembers } from "./coord_members.js";
import type { CoordinationCounts } from "./coordination_counts.js";

/** One connection of a watch: the member life it reached, and what it received there, with when. */
interface Segment {
  /** 0 until `created` says where a watch without fromRevision starts. */
  startRevision: number;
  readonly messages: Recorded[];
  readonly member: NodeId;
  readonly life: number;
  watchId: number | undefined;
  handle: WatchHandle | undefined;
  canceled: { readonly reason: WatchCancelReason; readonly compactRevision: number | undefined } | undefined;
  /** The sink refused a message: the hub sends nothing more until `resume`. */
  full: boolean;
}

/**
 * A watch as the application sees it: the messages of its connections in order, as one stream,
 * until `compacted` (or no member holding the history) ends it. `times` holds each message's
 * virtual time.
 */
export interface LogicalStream {
  readonly name: string;
  readonly range: WatchRange;
  startRevision: number;
  readonly messages: Recorded[];
  readonly times: number[];
  readonly segments: Segment[];
}

/** What a watch client shares with the others of its run. */
export interface WatchEnv {
  readonly cluster: SimCluster;
  readonly coord: CoordMembers;
  readonly counts: CoordinationCounts;
  /** The run is over: clients stop reconnecting and asking for progress. */
  readonly stopped: () => boolean;
  /** Whether the application would connect to member `id` (after the heal, only members of the cluster). */
  readonly serves: (id: NodeId) => boolean;
}

interface WatchSpec {
  readonly name: string;
  readonly range: WatchRange;
  readonly home: NodeId;
  readonly fromRevision: number | undefined;
  readonly progressNotify: boolean;
  /** The chance that the reader is full after a message, for a while (backpressure, and `slow`). */
  readonly refuseRate: number;
}

/**
 * One application watch over the simulated cluster, reconnecting as raftkv's client does
 * (src/client's resume point): from the revision after the last one delivered or vouched for by a
 * progress notification or a cancellation's resumeRevision; on the same member after `slow`, on
 * another after `stopping`, `unavailable` or a lost connection (its member crashed); `compacted`
 * ends the stream, and a new one starts at the compaction revision. Unlike the client it drops
 * nothing a member sends twice: the streams are checked as the members sent them.
 */
export class WatchClient {
  readonly streams: LogicalStream[] = [];
  readonly #env: WatchEnv;
  readonly #spec: WatchSpec;
  readonly #prng: Prng;
  /** Where the next connection starts (undefined: after the member's revision, until a stream says). */
  #next: number | undefined;
  #stream: LogicalStream;
  #segment: Segment | undefined;
  /** The members that said `unavailable` since the resume point last moved, with their oldest revision. */
  readonly #unavailable = new Map<NodeId, number>();

  constructor(env: WatchEnv, spec: WatchSpec, prng: Prng) {
    this.#env = env;
    this.#spec = spec;
    this.#prng = prng;
    this.#next = spec.fromRevision;
    this.#stream = this.#newStream();
  }

  /** The member this watch is connected to, if it is. */
  get member(): NodeId | undefined {
    return this.#segment?.member;
  }

  /** The highest revision the watch has been told about: everything in range up to it was delivered. */
  get vouched(): number {
    return (this.#next ?? 1) - 1;
  }

  get name(): string {
    return this.#spec.name;
  }

  start(): void {
    this.#connect(this.#spec.home, 0);
    this.#askProgress();
  }

  /** The application moves the watch off member `id` (it left the cluster): on to another from where it got to. */
  leave(id: NodeId): void {
    const segment = this.#segment;
    if (segment?.member !== id) return;
    this.#segment = undefined;
    void this.#env.cluster.request(id, () => Promise.resolve(segment.handle?.remove()));
    this.#resume(this.#otherMember(id), 0);
  }

  #newStream(): LogicalStream {
    const stream: LogicalStream = {
      name: `${this.#spec.name}${this.streams.length === 0 ? "" : `.${this.streams.length}`}`,
      range: this.#spec.range,
      startRevision: this.#next ?? 0,
      messages: [],
      times: [],
      segments: [],
    };
    this.streams.push(stream);
    return stream;
  }

  #connect(member: NodeId, delayMs: number): void {
    const { cluster } = this.#env;
    cluster.at(cluster.now + delayMs, () => {
      if (this.#env.stopped()) return;
      void cluster
        .request(member, () => Promise.resolve(this.#open(member)))
        .then((opened) => {
          // Refused: the member is down, or not serving yet.
          if (opened !== true) this.#connect(this.#otherMember(member), this.#prng.int(10, 60));
        });
    });
  }

  /** In member `member`'s process: opens the watch there. */
  #open(member: NodeId): boolean {
    const { cluster, coord } = this.#env;
    const hub = coord.hub(member);
    const kv = cluster.kv(member);
    if (hub === undefined || kv === undefined) return false;
    const segment: Segment = {
      startRevision: this.#next ?? 0,
      messages: [],
      member,
      life: cluster.member(member).life,
      watchId: undefined,
      handle: undefined,
      canceled: undefined,
      full: false,
    };
    this.#segment = segment;
    this.#stream.segments.push(segment);
    const from = this.#next;
    const request: WatchRequest = { range: this.#spec.range, progressNotify: this.#spec.progressNotify };
    const compactRevision = kv.compactRevision();
    segment.handle = hub.watch(from === undefined ? request : { ...request, fromRevision: from }, this.#sink(segment));
    if (from !== undefined && from < compactRevision) {
      const canceled = segment.canceled;
      if (canceled?.reason !== "compacted" || canceled.compactRevision !== compactRevision)
        cluster.checker.fail(
          "watch",
          `${this.#stream.name} on ${cluster.nameOf(member)}: a watch from revision ${from}, below the compaction revision ${compactRevision}, was ${canceled === undefined ? "accepted" : `cancelled as ${canceled.reason} at ${canceled.compactRevision}`} (it must be cancelled as compacted at ${compactRevision})`,
        );
    }
    return true;
  }

  #sink(segment: Segment): WatchSink {
    return {
      send: (message) => {
        // A crashed process sends nothing: its hub's `stopping` never reaches the client.
        if (!this.#connected(segment)) return true;
        this.#receive(segment, message);
        return !this.#refuse(segment);
      },
      close: () => this.#closed(segment),
    };
  }

  #connected(segment: Segment): boolean {
    return this.#env.cluster.member(segment.member).life === segment.life;
  }

  #receive(segment: Segment, message: WatchMessage): void {
    const { cluster, counts } = this.#env;
    if (cluster.options.tracer !== undefined) this.#trace(segment, message);
    if (message.type === "created") {
      segment.watchId = message.watchId;
      this.#next ??= message.revision + 1;
      if (segment.startRevision === 0) segment.startRevision = this.#next;
      if (this.#stream.startRevision === 0) this.#stream.startRevision = this.#next;
      return;
    }
    // Whatever follows a cancellation is recorded on its connection only: the application never sees it.
    const current = segment.canceled === undefined;
    const record = (recorded: Recorded): void => {
      segment.messages.push(recorded);
      if (!current || recorded.kind === "canceled") return;
      this.#stream.messages.push(recorded);
      this.#stream.times.push(cluster.now);
    };
    counts.watchMessages++;
    switch (message.type) {
      case "events":
        record({ kind: "events", events: message.events.map(recordedEvent) });
        if (current) this.#advance(message.revision + 1);
        return;
      case "progress":
        record({ kind: "progress", revision: message.revision });
        if (current) this.#advance(message.revision + 1);
        return;
      case "canceled":
        // A resume revision vouches for everything before it, as a progress notification would, up
        // to the member's revision: a watch from a revision still ahead resumes from there.
        if (message.resumeRevision !== undefined) {
          const revision = cluster.kv(segment.member)?.revision() ?? 0;
          record({ kind: "progress", revision: Math.min(message.resumeRevision - 1, revision) });
          if (current) this.#advance(message.resumeRevision);
        }
        record({ kind: "canceled", reason: message.reason, ...optional("compactRevision", message.compactRevision) });
        if (message.reason === "slow") counts.slowCancels++;
        segment.canceled ??= { reason: message.reason, compactRevision: message.compactRevision };
        return;
    }
  }

  /** Whether the reader is full after this message: then it takes the rest only once drained, a while later. */
  #refuse(segment: Segment): boolean {
    if (segment.full || !this.#prng.chance(this.#spec.refuseRate)) return false;
    segment.full = true;
    const { cluster } = this.#env;
    cluster.at(cluster.now + this.#prng.int(5, 300), () => {
      void cluster.request(segment.member, () => {
        if (this.#connected(segment) && segment.canceled === undefined) {
          segment.full = false;
          segment.handle?.resume();
        }
        return Promise.resolve();
      });
    });
    return true;
  }

  /** The hub ended the connection, or the member's process died under it. */
  #closed(segment: Segment): void {
    if (segment !== this.#segment) return;
    this.#segment = undefined;
    const canceled = segment.canceled;
    if (!this.#connected(segment) || canceled === undefined) {
      this.#resume(this.#otherMember(segment.member), this.#prng.int(10, 100));
      return;
    }
    switch (canceled.reason) {
      case "compacted":
        this.#endStream(canceled.reason, canceled.compactRevision!);
        this.#connect(segment.member, this.#prng.int(0, 20));
        return;
      case "unavailable": {
        this.#unavailable.set(segment.member, canceled.compactRevision ?? this.#next ?? 1);
        const others = this.#candidates().filter((id) => !this.#unavailable.has(id));
        if (others.length > 0) {
          this.#resume(this.#prng.pick(others), this.#prng.int(0, 20));
          return;
        }
        // No member holds the history from there: the client gives up, as it does on a compaction.
        this.#endStream(canceled.reason, Math.min(...this.#unavailable.values()));
        this.#connect(segment.member, this.#prng.int(0, 20));
        return;
      }
      case "slow":
        this.#resume(segment.member, this.#prng.int(0, 20));
        return;
      case "stopping":
        this.#resume(this.#otherMember(segment.member), this.#prng.int(10, 50));
        return;
      case "client":
        // This client never cancels a watch: a hub that says it did broke the stream.
        this.#env.cluster.checker.fail(
          "watch",
          `${this.#spec.name}: cancelled as asked by the client, which never asked`,
        );
        return;
    }
  }

  #resume(member: NodeId, delayMs: number): void {
    this.#env.counts.resumes++;
    this.#connect(member, delayMs);
  }

  /** Ends the logical stream as cancelled and starts the next at `from`, knowing it missed what came before. */
  #endStream(reason: WatchCancelReason, from: number): void {
    this.#stream.messages.push({ kind: "canceled", reason, compactRevision: from });
    this.#stream.times.push(this.#env.cluster.now);
    this.#next = from;
    this.#unavailable.clear();
    this.#stream = this.#newStream();
  }

  #advance(next: number): void {
    if (this.#next !== undefined && next <= this.#next) return;
    this.#next = next;
    this.#unavailable.clear();
  }

  /** Members that are up and have applied something (a spare that never joined has not). */
  #candidates(): NodeId[] {
    const { cluster } = this.#env;
    return cluster.liveIds().filter((id) => cluster.appliedIndex(id) > 0 && this.#env.serves(id));
  }

  #otherMember(current: NodeId): NodeId {
    const others = this.#candidates().filter((id) => id !== current);
    return others.length === 0 ? current : this.#prng.pick(others);
  }

  /** Asks for a progress notification every so often, as an application checking that it is caught up. */
  #askProgress(): void {
    const { cluster, coord } = this.#env;
    cluster.at(cluster.now + this.#prng.int(50, 800), () => {
      if (this.#env.stopped()) return;
      const segment = this.#segment;
      const watchId = segment?.watchId;
      if (segment !== undefined && watchId !== undefined && segment.canceled === undefined) {
        void cluster.request(segment.member, () => {
          if (this.#connected(segment)) coord.hub(segment.member)?.requestProgress(watchId);
          return Promise.resolve();
        });
      }
      this.#askProgress();
    });
  }

  #trace(segment: Segment, message: WatchMessage): void {
    const where = `watch ${this.#stream.name}#${segment.watchId ?? "?"}`;
    const text =
      message.type === "created"
        ? `opened from revision ${this.#next ?? message.revision + 1} (${JSON.stringify(this.#spec.range)})`
        : message.type === "events"
          ? `events through ${message.revision} (${message.events.length})`
          : message.type === "progress"
            ? `progress ${message.revision}`
            : `cancelled: ${message.reason}${message.resumeRevision === undefined ? "" : `, resume at ${message.resumeRevision}`}${message.compactRevision === undefined ? "" : `, compaction ${message.compactRevision}`}`;
    this.#env.cluster.trace(segment.member, `${where} ${text}`);
  }
}

/** An event as the checker records it: keys and values stay binary strings (one char per byte, reversible, byte-ordered). */
export function recordedEvent(event: KvEvent): WatchEvent {
  return { type: event.type, key: event.key, value: event.kv.value, revision: event.kv.modRevision };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
