import type { WatchHandle, WatchHub, WatchRequest, WatchSink } from "../coord/index.js";
import { watchMessageJson } from "./watch_json.js";
import type { Encoding } from "./wire.js";

/** What a stream uses of its HTTP response (a ServerResponse whose head is sent). */
export interface StreamResponse {
  write(chunk: string): boolean;
  end(): void;
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  on(event: "drain" | "close", listener: () => void): unknown;
}

export interface WatchStreamOptions {
  /** Server-Sent Events (each message a `data:` line) rather than NDJSON. */
  readonly sse: boolean;
  /** How keys and values appear in every message on the stream. */
  readonly encoding: Encoding;
  /**
   * End the response when its last watch ends: a stream opened with a range behaves as a one-watch
   * stream always has. A stream opened empty stays open until its reader or the member goes.
   */
  readonly endsWhenEmpty: boolean;
}

/**
 * One long-lived response carrying any number of watches' messages (docs/coordination.md, "Watch"):
 * what makes an idle watch cost a few hundred bytes instead of an HTTP connection. Every watch on
 * it sees the shared socket's backpressure through its own sink (a write the socket cannot take
 * pauses the watch that made it), so a drain resumes them all; each watch's backlog is still
 * bounded on its own by the hub. The reader leaving removes every watch of the stream from the hub.
 */
export class WatchStream {
  readonly id: number;
  readonly #hub: WatchHub;
  readonly #res: StreamResponse;
  readonly #options: WatchStreamOptions;
  readonly #watches = new Set<WatchHandle>();
  /** Takes the stream out of its member's list: no watch may join it any more. */
  readonly #unlist: () => void;

  constructor(id: number, hub: WatchHub, res: StreamResponse, options: WatchStreamOptions, unlist: () => void) {
    this.id = id;
    this.#hub = hub;
    this.#res = res;
    this.#options = options;
    this.#unlist = unlist;
    res.on("drain", () => {
      for (const handle of this.#watches) handle.resume();
    });
    res.on("close", () => {
      for (const handle of this.#watches) handle.remove();
      this.#watches.clear();
      this.#unlist();
    });
  }

  /** How many watches are open on the stream. */
  get size(): number {
    return this.#watches.size;
  }

  /** The first message of a stream opened empty: its id, and the member's revision. */
  announce(revision: number): void {
    this.#write({ stream: this.id, revision });
  }

  /**
   * Opens a watch on this stream; its messages (`created` first, at once) go out on it. A watch the
   * hub refuses (compacted, unavailable, stopping) is cancelled on the stream right after `created`.
   */
  add(request: WatchRequest): number {
    const prevKv = request.prevKv === true;
    const watch: { handle: WatchHandle | undefined; ended: boolean } = { handle: undefined, ended: false };
    const sink: WatchSink = {
      send: (message) => this.#write(watchMessageJson(message, this.id, this.#options.encoding, prevKv)),
      close: () => {
        watch.ended = true;
        if (watch.handle !== undefined) this.#watches.delete(watch.handle);
        if (this.#options.endsWhenEmpty && this.#watches.size === 0) this.end();
      },
    };
    // The hub may end the watch before it returns (a refusal): close has run by then.
    watch.handle = this.#hub.watch(request, sink);
    if (!watch.ended) this.#watches.add(watch.handle);
    return watch.handle.watchId;
  }

  /** Ends the response: after its last watch, or when the member stops (having cancelled its watches). */
  end(): void {
    this.#unlist();
    if (!this.#res.writableEnded) this.#res.end();
  }

  /** False when the socket is full: the watch that wrote pauses until the drain. */
  #write(json: Record<string, unknown>): boolean {
    // A reader that is gone: its "close" removes the watches.
    if (this.#res.writableEnded || this.#res.destroyed) return true;
    const text = JSON.stringify(json);
    return this.#res.write(this.#options.sse ? `data: ${text}\n\n` : `${text}\n`);
  }
}
