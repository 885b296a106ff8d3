/**
 * Where a watch resumes, so that across reconnections the application sees each revision once, in
 * order: the revision after the last one delivered (or announced by a progress notification or a
 * cancellation's `resumeRevision`). Pure bookkeeping, apart from the streams it is told about.
 */
import { WatchCompactedError } from "./errors.js";
import type { CanceledFrame } from "./watch_codec.js";
import type { WatchEvent, WatchMessage } from "./types.js";

/** After a cancellation: open the next stream on the same member, or on the next one. */
export type Reconnect = "same" | "next";

export class ResumePoint {
  /** The revision the next stream starts at; undefined until the first stream says where it began. */
  #next: number | undefined;
  /** Each member that said it no longer holds the history, with its oldest revision; reset by progress. */
  readonly #unavailable = new Map<string, number>();
  readonly #endpointCount: number;

  constructor(fromRevision: number | undefined, endpointCount: number) {
    this.#next = fromRevision;
    this.#endpointCount = endpointCount;
  }

  /** The `fromRevision` of the next stream (undefined: only changes after it starts). */
  get next(): number | undefined {
    return this.#next;
  }

  /** A stream opened; without a start revision, the watch starts after the member's revision then. */
  created(revision: number): void {
    this.#next ??= revision + 1;
  }

  /**
   * An events message: what the application has not seen yet, or undefined when it has seen it all.
   * A stream starts at `next`, so nothing older should come; it is dropped all the same rather than
   * trusted, since delivering a revision twice is what this class exists to prevent.
   */
  events(frame: { revision: number; events: readonly WatchEvent[] }): WatchMessage | undefined {
    const next = this.#next ?? 0;
    const fresh = frame.events.filter((event) => event.kv.modRevision >= next);
    this.#advance(frame.revision + 1);
    if (fresh.length === 0) return undefined;
    const revision = Math.max(frame.revision, ...fresh.map((event) => event.kv.modRevision));
    return { type: "events", revision, events: fresh };
  }

  /**
   * A progress notification. A member behind the ones before it may report a revision older than
   * what was delivered already; everything up to that was delivered too, so the notification says so.
   */
  progress(revision: number): WatchMessage {
    this.#advance(revision + 1);
    return { type: "progress", revision: (this.#next ?? revision + 1) - 1 };
  }

  /** A cancellation: where to reconnect, or the WatchCompactedError that ends the watch. */
  canceled(frame: CanceledFrame, endpoint: string): Reconnect {
    const from = this.#next ?? 0;
    switch (frame.reason) {
      case "compacted":
        throw new WatchCompactedError({
          reason: "compacted",
          compactRevision: frame.compactRevision ?? from,
          fromRevision: from,
          endpoint,
        });
      case "unavailable": {
        // A snapshot installed under a running watch says where it got to.
        if (frame.resumeRevision !== undefined) this.#advance(frame.resumeRevision);
        this.#unavailable.set(endpoint, frame.compactRevision ?? from);
        if (this.#unavailable.size < this.#endpointCount) return "next";
        throw new WatchCompactedError({
          reason: "unavailable",
          compactRevision: Math.min(...this.#unavailable.values()),
          fromRevision: this.#next ?? from,
        });
      }
      case "slow":
        if (frame.resumeRevision !== undefined) this.#advance(frame.resumeRevision);
        return "same";
      default:
        // `stopping`, or a reason this client does not know: another member can go on.
        if (frame.resumeRevision !== undefined) this.#advance(frame.resumeRevision);
        return "next";
    }
  }

  #advance(next: number): void {
    if (this.#next === undefined || next > this.#next) {
      this.#next = next;
      this.#unavailable.clear();
    }
  }
}
