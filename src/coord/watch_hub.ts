import type { KvEvent, KvListener, KvStore, RangeRequest } from "../kv/index.js";
import { rangeAt, type RangeAtAnswer } from "./history_range.js";
import type { Clock, Timer } from "../node/index.js";
import { assert } from "../util/assert.js";
import type { WatchCancelReason, WatchHandle, WatchMessage, WatchRequest, WatchSink } from "./watch_messages.js";
import { WatchHistory, type HistoryBounds } from "./watch_history.js";
import { WatcherIndex } from "./watch_range.js";
import { Watcher } from "./watcher.js";

interface WatchHubOptions {
  readonly kv: KvStore;
  readonly clock: Clock;
  /** A watcher whose unsent backlog exceeds this many events is cancelled as slow. */
  readonly bufferEventsMax?: number;
  /** How often a progressNotify watch hears of progress when nothing else was sent. */
  readonly progressIntervalMs?: number;
}

/** What the compactor reads of the history. */
export interface HistoryView {
  firstRevision(): number;
  revisionCount(): number;
  bytes(): number;
  compactionTarget(bounds: HistoryBounds): number | undefined;
}

/** How many history revisions one watcher's catch-up reads per turn of the event loop, at most. */
const scanRevisionsPerTurn = 10_000;

/**
 * A member's watches (docs/coordination.md, "Watch"): its event history, and each watcher's stream
 * from it. The store tells the hub each revision as it applies it; the hub then does work only for
 * the watchers whose range holds one of the revision's keys (WatcherIndex), queueing references to
 * the events and sending them on the next turn of the event loop, so a write never waits for a
 * reader. A reader that stops reading is cut off once its backlog exceeds bufferEventsMax.
 */
export class WatchHub {
  readonly #kv: KvStore;
  readonly #clock: Clock;
  readonly #bufferEventsMax: number;
  readonly #progressIntervalMs: number;
  readonly #history: WatchHistory;
  /** The revision the hub has seen the store reach. */
  #revision: number;
  readonly #watchers = new Map<number, Watcher>();
  readonly #index = new WatcherIndex<Watcher>();
  /** Watchers reading the history: a compaction or a snapshot may cut them off. */
  readonly #catchingUp = new Set<Watcher>();
  readonly #progressWatchers = new Set<Watcher>();
  #progressTimer: Timer | undefined;
  /** Watchers with something to send on the next flush. */
  #due: Watcher[] = [];
  #flushScheduled = false;
  #lastWatchId = 0;
  #closed = false;

  constructor(options: WatchHubOptions) {
    this.#kv = options.kv;
    this.#clock = options.clock;
    this.#bufferEventsMax = options.bufferEventsMax ?? 10_000;
    this.#progressIntervalMs = options.progressIntervalMs ?? 10_000;
    this.#revision = options.kv.revision();
    this.#history = new WatchHistory(this.#revision);
    const listener: KvListener = {
      revision: (revision, events) => this.#onRevision(revision, events),
      compacted: (compactRevision) => this.#onCompacted(compactRevision),
      restored: (revision) => this.#onRestored(revision),
    };
    options.kv.listen(listener);
  }

  /** The member's event history, for the compactor. */
  get history(): HistoryView {
    return this.#history;
  }

  /** etcd's Range at `request.revision` (0: now), from this member's history (history_range.ts). */
  rangeAt(request: RangeRequest): RangeAtAnswer {
    return rangeAt(this.#kv, this.#history, request);
  }

  /** How many watches are open. */
  get size(): number {
    return this.#watchers.size;
  }

  /**
   * Opens a watch: `created` is sent at once, then the events from `fromRevision` (or from the next
   * revision) on, unless the history no longer reaches back that far, which cancels the watch.
   */
  watch(request: WatchRequest, sink: WatchSink): WatchHandle {
    const from = request.fromRevision ?? this.#revision + 1;
    assert(Number.isSafeInteger(from) && from >= 1, `watch: fromRevision ${from} is not a positive integer`);
    const id = ++this.#lastWatchId;
    const watcher = new Watcher({
      id,
      range: request.range,
      sink,
      progressNotify: request.progressNotify === true,
      scanNext: from,
      queueFrom: Math.max(from, this.#revision + 1),
    });
    this.#send(watcher, { type: "created", watchId: id, revision: this.#revision });
    const handle: WatchHandle = {
      watchId: id,
      resume: () => {
        watcher.paused = false;
        this.#schedule(watcher);
      },
      remove: () => this.#forget(watcher),
    };
    const compactRevision = this.#kv.compactRevision();
    const oldest = this.#history.firstRevision();
    if (this.#closed) this.#cancelStopping(watcher);
    else if (from < compactRevision) this.#cancelCompacted(watcher, compactRevision);
    else if (watcher.catchingUp() && from < oldest) {
      const why = `this member holds history from revision ${oldest} on; another member may hold revision ${from}`;
      this.#cancel(watcher, "unavailable", why, { compactRevision: oldest });
    } else this.#register(watcher);
    return handle;
  }

  /**
   * Asks for a progress notification on a watch; false when there is no such watch. It goes out
   * once everything the watch has pending is sent, so its revision is never ahead of an event.
   */
  requestProgress(watchId: number): boolean {
    const watcher = this.#watchers.get(watchId);
    if (watcher === undefined) return false;
    watcher.progressWanted = true;
    this.#schedule(watcher);
    return true;
  }

  /**
   * Ends a watch because its reader asked: `canceled` with reason `client` is its last message,
   * after whatever was already sent (what was queued is dropped). False when there is no such watch.
   */
  cancel(watchId: number): boolean {
    const watcher = this.#watchers.get(watchId);
    if (watcher === undefined) return false;
    this.#cancel(watcher, "client", `watch ${watchId} was canceled by its reader`, {});
    return true;
  }

  /** Ends every watch with `stopping` and the revision to resume from; later watches are refused the same way. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const watcher of [...this.#watchers.values()]) this.#cancelStopping(watcher);
    this.#history.restart(this.#revision);
  }

  #register(watcher: Watcher): void {
    this.#watchers.set(watcher.id, watcher);
    this.#index.add(watcher);
    if (watcher.catchingUp()) {
      this.#catchingUp.add(watcher);
      this.#schedule(watcher);
    }
    if (watcher.progressNotify) {
      this.#progressWatchers.add(watcher);
      this.#progressTimer ??= this.#clock.every(this.#progressIntervalMs, () => this.#progressTick());
    }
  }

  /** Takes the watcher out of the hub, silently (the callers that owe the reader a message send it). */
  #forget(watcher: Watcher): void {
    if (watcher.ended) return;
    watcher.ended = true;
    this.#watchers.delete(watcher.id);
    this.#index.remove(watcher);
    this.#catchingUp.delete(watcher);
    if (this.#progressWatchers.delete(watcher) && this.#progressWatchers.size === 0) {
      this.#progressTimer?.cancel();
      this.#progressTimer = undefined;
    }
  }

  #onRevision(revision: number, events: readonly KvEvent[]): void {
    if (this.#closed) return;
    this.#history.append(revision, events);
    this.#revision = revision;
    // Usually one event, and then each covering watcher takes the store's array as it is.
    if (events.length === 1) {
      this.#index.forEachCovering(events[0]!.key, (watcher) => this.#arrive(watcher, revision, events));
      return;
    }
    const matched = new Map<Watcher, KvEvent[]>();
    for (const event of events) {
      this.#index.forEachCovering(event.key, (watcher) => {
        const list = matched.get(watcher);
        if (list === undefined) matched.set(watcher, [event]);
        else list.push(event);
      });
    }
    for (const [watcher, list] of matched)
      this.#arrive(watcher, revision, list.length === events.length ? events : list);
  }

  #arrive(watcher: Watcher, revision: number, events: readonly KvEvent[]): void {
    // A watch that starts at a later revision ignores the earlier ones.
    if (watcher.ended || revision < watcher.queueFrom) return;
    watcher.enqueue(revision, events);
    // A reader that keeps up is not cut off because the store applied a large batch in one turn.
    if (watcher.queuedEvents > this.#bufferEventsMax && !watcher.paused && !watcher.catchingUp()) this.#pump(watcher);
    if (watcher.queuedEvents > this.#bufferEventsMax) {
      const resumeRevision = watcher.firstUnsent(this.#revision);
      this.#cancel(
        watcher,
        "slow",
        `the watcher fell ${watcher.queuedEvents} events behind (the buffer holds ${this.#bufferEventsMax}); resume with fromRevision=${resumeRevision}`,
        { resumeRevision },
      );
      return;
    }
    this.#schedule(watcher);
  }

  #onCompacted(compactRevision: number): void {
    if (this.#closed) return;
    this.#history.compact(compactRevision);
    for (const watcher of [...this.#catchingUp])
      if (watcher.catchingUp() && watcher.scanNext < compactRevision) this.#cancelCompacted(watcher, compactRevision);
  }

  #onRestored(revision: number): void {
    if (this.#closed) return;
    const before = this.#revision;
    this.#history.restart(revision);
    this.#revision = revision;
    for (const watcher of [...this.#watchers.values()]) {
      const resumeRevision = watcher.firstUnsent(before);
      if (resumeRevision > revision) continue;
      this.#cancel(
        watcher,
        "unavailable",
        `this member was brought up to date by a snapshot at revision ${revision}; another member may hold revision ${resumeRevision}`,
        { compactRevision: this.#history.firstRevision(), resumeRevision },
      );
    }
  }

  #schedule(watcher: Watcher): void {
    if (watcher.ended || watcher.paused || watcher.due) return;
    if (!watcher.hasUnsent() && !watcher.progressWanted) return;
    watcher.due = true;
    this.#due.push(watcher);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    this.#clock.soon(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    const due = this.#due;
    this.#due = [];
    for (const watcher of due) {
      watcher.due = false;
      this.#pump(watcher);
    }
  }

  /** Sends what the watcher has pending until the sink is full, then the progress asked for, if any. */
  #pump(watcher: Watcher): void {
    const budget = { revisions: scanRevisionsPerTurn };
    while (!watcher.paused && !watcher.ended) {
      const batch = watcher.takeBatch(this.#history, budget);
      if (batch === undefined) break;
      this.#send(watcher, { type: "events", watchId: watcher.id, revision: batch.revision, events: batch.events });
    }
    if (!watcher.catchingUp()) this.#catchingUp.delete(watcher);
    if (watcher.ended || watcher.paused) return;
    if (watcher.catchingUp()) {
      // The turn's scan budget is spent: go on next turn, letting writes and other readers in.
      this.#schedule(watcher);
      return;
    }
    if (watcher.progressWanted && !watcher.hasUnsent()) {
      watcher.progressWanted = false;
      this.#sendProgress(watcher);
    }
  }

  #progressTick(): void {
    for (const watcher of this.#progressWatchers) {
      if (!watcher.sentSinceTick && !watcher.paused && !watcher.hasUnsent()) this.#sendProgress(watcher);
      watcher.sentSinceTick = false;
    }
  }

  /** Never ahead of an unsent event: computed from what this stream has sent, not from the store. */
  #sendProgress(watcher: Watcher): void {
    const revision = Math.min(watcher.firstUnsent(this.#revision) - 1, this.#revision);
    this.#send(watcher, { type: "progress", watchId: watcher.id, revision });
  }

  #send(watcher: Watcher, message: WatchMessage): void {
    watcher.sentSinceTick = true;
    if (!watcher.sink.send(message)) watcher.paused = true;
  }

  #cancelCompacted(watcher: Watcher, compactRevision: number): void {
    this.#cancel(
      watcher,
      "compacted",
      `the history before revision ${compactRevision} is compacted: a watch can restart at ${compactRevision} or later, missing the changes before it`,
      { compactRevision },
    );
  }

  #cancelStopping(watcher: Watcher): void {
    const resumeRevision = watcher.firstUnsent(this.#revision);
    this.#cancel(watcher, "stopping", `the member is shutting down; resume with fromRevision=${resumeRevision}`, {
      resumeRevision,
    });
  }

  #cancel(
    watcher: Watcher,
    reason: WatchCancelReason,
    message: string,
    revisions: { compactRevision?: number; resumeRevision?: number },
  ): void {
    if (watcher.ended) return;
    this.#forget(watcher);
    watcher.sink.send({ type: "canceled", watchId: watcher.id, reason, message, ...revisions });
    watcher.sink.close();
  }
}
