/**
 * etcd's Watch service: one bidirectional stream carries any number of watches, each a watch of
 * raftkv's watch hub (src/coord) under the id the client chose or etcd's next free one. The hub's
 * rules hold (docs/coordination.md, "Watch"): backpressure pauses a watch, and a watch whose
 * backlog passes the hub's buffer is cancelled as slow, with the revision to resume from.
 */
import type { WatchHandle, WatchMessage, WatchSink } from "../coord/index.js";
import type { StreamWriter } from "../grpc/call.js";
import { GrpcError, Status } from "../grpc/status.js";
import type { ServerContext } from "../server/context.js";
import { mayRead } from "../server/auth_gate.js";
import type { EtcdCall } from "./auth_identity.js";
import { header } from "./header.js";
import {
  WatchCreateRequestFilterType,
  type WatchCreateRequest,
  type WatchRequest,
  type WatchResponse,
} from "./messages/watch.js";
import { etcdEvents, watchRangeOf, type EventOptions } from "./watch_events.js";

/** etcd's errors for a watch it will not create (its mvcc package's texts). */
const emptyRangeReason = "mvcc: watcher range is empty";
const duplicateIdReason = "mvcc: duplicate watch ID provided on the WatchStream";
/** etcd's watch server puts the whole gRPC error's text in the reason. */
const permissionDeniedReason = "rpc error: code = PermissionDenied desc = etcdserver: permission denied";
const fragmentReason = "raftkv does not fragment watch responses (each holds about 1 MiB at most)";
/** etcd answers a progress request for the whole stream under this id. */
const streamWideId = -1;

interface Watch {
  readonly id: number;
  readonly options: EventOptions;
  handle: WatchHandle | undefined;
  /** A progress request of the stream waits for this watch's progress. */
  awaitingProgress: boolean;
}

export async function watch(
  ctx: ServerContext,
  requests: AsyncIterable<WatchRequest>,
  out: StreamWriter<WatchResponse>,
  call: EtcdCall,
): Promise<void> {
  const stream = new EtcdWatchStream(ctx, out, call.principal);
  try {
    for await (const request of requests) {
      // Answers the client does not read hold back its requests: the answers' buffer stays small.
      await out.drained();
      stream.handle(request);
    }
    // As etcd, a client that stops sending keeps its watches until it leaves; a stream left with
    // no watch can do nothing more, and ends.
    await new Promise<void>((resolve) => {
      if (call.signal.aborted) resolve();
      else call.signal.addEventListener("abort", () => resolve(), { once: true });
      stream.whenEmpty(resolve);
    });
  } finally {
    stream.close();
  }
}

class EtcdWatchStream {
  readonly #ctx: ServerContext;
  readonly #out: StreamWriter<WatchResponse>;
  readonly #watches = new Map<number, Watch>();
  /** etcd's next automatic watch id: the lowest never taken since, as etcd's watch stream counts. */
  #nextId = 0;
  /** Progress requests waiting for every watch's progress, and the lowest revision heard so far. */
  #progressRequests = 0;
  #progressRevision = Number.POSITIVE_INFINITY;
  #awaitingDrain = false;
  #onEmpty: (() => void) | undefined;
  #closed = false;
  /** Who opened the stream: every watch on it needs read permission on its range, as etcd checks at creation. */
  readonly #principal: string;

  constructor(ctx: ServerContext, out: StreamWriter<WatchResponse>, principal: string) {
    this.#ctx = ctx;
    this.#out = out;
    this.#principal = principal;
  }

  handle(request: WatchRequest): void {
    if (request.createRequest !== undefined) this.#create(request.createRequest);
    else if (request.cancelRequest !== undefined) this.#cancel(request.cancelRequest.watchId);
    else if (request.progressRequest !== undefined) this.#requestProgress();
    // etcd ignores a request with none of the three.
  }

  /** Calls `done` once the stream holds no watch (at once if it holds none now). */
  whenEmpty(done: () => void): void {
    if (this.#watches.size === 0) done();
    else this.#onEmpty = done;
  }

  /** The client left: its watches end with no message. */
  close(): void {
    this.#closed = true;
    for (const watch of this.#watches.values()) watch.handle?.remove();
    this.#watches.clear();
  }

  #create(create: WatchCreateRequest): void {
    if (create.startRevision < 0)
      throw new GrpcError(Status.INVALID_ARGUMENT, "a watch's start_revision must not be negative");
    if (create.watchId < 0) throw new GrpcError(Status.INVALID_ARGUMENT, "a watch_id must not be negative");
    const watched = watchRangeOf(create.key, create.rangeEnd);
    if (watched === undefined) {
      this.#refuse(-1, emptyRangeReason);
      return;
    }
    if (!mayRead(this.#ctx, this.#principal, watched.span)) {
      this.#refuse(-1, permissionDeniedReason);
      return;
    }
    if (create.watchId !== 0 && this.#watches.has(create.watchId)) {
      this.#refuse(-1, duplicateIdReason);
      return;
    }
    const id = create.watchId !== 0 ? create.watchId : this.#takeAutoId();
    if (create.fragment) {
      this.#refuse(id, fragmentReason);
      return;
    }
    const watch: Watch = {
      id,
      options: {
        prevKv: create.prevKv,
        noPut: create.filters.includes(WatchCreateRequestFilterType.Noput),
        noDelete: create.filters.includes(WatchCreateRequestFilterType.Nodelete),
      },
      handle: undefined,
      awaitingProgress: false,
    };
    this.#watches.set(id, watch);
    const sink: WatchSink = {
      send: (message) => this.#deliver(watch, message),
      close: () => this.#forget(watch),
    };
    const request = { range: watched.range, progressNotify: create.progressNotify };
    const handle = this.#ctx.watchHub.watch(
      create.startRevision === 0 ? request : { ...request, fromRevision: create.startRevision },
      sink,
    );
    // The hub may have ended the watch already (a compacted start revision).
    if (this.#watches.get(id) === watch) watch.handle = handle;
  }

  #takeAutoId(): number {
    while (this.#watches.has(this.#nextId)) this.#nextId++;
    return this.#nextId++;
  }

  /** etcd's answer to a watch it will not create: created and canceled at once, with the reason. */
  #refuse(id: number, reason: string): void {
    this.#send({ ...this.#response(id), created: true, canceled: true, cancelReason: reason });
  }

  /** etcd answers only the cancel of a watch the stream has. */
  #cancel(id: number): void {
    const watch = this.#watches.get(id);
    if (watch?.handle === undefined) return;
    this.#ctx.watchHub.cancel(watch.handle.watchId);
  }

  /**
   * etcd 3.4's progress request: one answer for the whole stream, with only a header. Its revision
   * is one every watch on the stream has sent all its events up to (the hub's progress for each),
   * so no event at or below it is still to come.
   */
  #requestProgress(): void {
    this.#progressRequests++;
    for (const watch of this.#watches.values()) {
      if (watch.handle === undefined || watch.awaitingProgress) continue;
      watch.awaitingProgress = true;
      this.#ctx.watchHub.requestProgress(watch.handle.watchId);
    }
    this.#answerProgressIfHeard();
  }

  #answerProgressIfHeard(): void {
    if (this.#progressRequests === 0) return;
    for (const watch of this.#watches.values()) if (watch.awaitingProgress) return;
    const revision = Math.min(this.#progressRevision, this.#ctx.kv.revision());
    for (; this.#progressRequests > 0; this.#progressRequests--)
      this.#send({ ...this.#response(streamWideId), header: header(this.#ctx, revision) });
    this.#progressRevision = Number.POSITIVE_INFINITY;
  }

  #deliver(watch: Watch, message: WatchMessage): boolean {
    switch (message.type) {
      case "created":
        return this.#send({ ...this.#response(watch.id, message.revision), created: true });
      case "events": {
        const events = etcdEvents(message.events, watch.options);
        // etcd sends nothing when the filters took every event.
        if (events.length === 0) return this.#out.open;
        return this.#send({ ...this.#response(watch.id, message.revision), events });
      }
      case "progress":
        if (watch.awaitingProgress) {
          watch.awaitingProgress = false;
          this.#progressRevision = Math.min(this.#progressRevision, message.revision);
          this.#answerProgressIfHeard();
          return this.#out.open;
        }
        return this.#send(this.#response(watch.id, message.revision));
      case "canceled":
        return this.#send(this.#canceled(watch.id, message));
    }
  }

  /**
   * A compaction cancels as etcd does (compact_revision set, no reason); raftkv's own reasons
   * (slow reader, member history or shutdown) say what happened and where to resume.
   */
  #canceled(id: number, message: Extract<WatchMessage, { type: "canceled" }>): WatchResponse {
    const response = { ...this.#response(id), canceled: true };
    if (message.reason === "client") return response;
    if (message.reason === "compacted") return { ...response, compactRevision: message.compactRevision ?? 0 };
    return { ...response, cancelReason: `raftkv: ${message.reason}: ${message.message}` };
  }

  #forget(watch: Watch): void {
    if (this.#watches.get(watch.id) === watch) this.#watches.delete(watch.id);
    if (this.#watches.size === 0) this.#onEmpty?.();
    if (watch.awaitingProgress) {
      watch.awaitingProgress = false;
      this.#answerProgressIfHeard();
    }
  }

  #response(watchId: number, revision?: number): WatchResponse {
    return {
      header: header(this.#ctx, revision),
      watchId,
      created: false,
      canceled: false,
      compactRevision: 0,
      cancelReason: "",
      fragment: false,
      events: [],
    };
  }

  /** False when the stream's buffer is full: the hub pauses the watch until the drain resumes it. */
  #send(response: WatchResponse): boolean {
    if (this.#closed) return true;
    if (this.#out.send(response)) return true;
    if (!this.#awaitingDrain) {
      this.#awaitingDrain = true;
      void this.#out.drained().then(() => this.#resumeAll());
    }
    return false;
  }

  #resumeAll(): void {
    this.#awaitingDrain = false;
    if (this.#closed) return;
    for (const watch of this.#watches.values()) watch.handle?.resume();
  }
}
