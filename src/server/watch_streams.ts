import type { WatchHub } from "../coord/index.js";
import { HttpError } from "./http_util.js";
import { WatchStream, type StreamResponse, type WatchStreamOptions } from "./watch_stream.js";

/** The watch streams open on this member, by id, so that short requests can add watches to them. */
export class WatchStreams {
  readonly #hub: WatchHub;
  readonly #open = new Map<number, WatchStream>();
  #lastId = 0;
  #closed = false;

  constructor(hub: WatchHub) {
    this.#hub = hub;
  }

  /** How many streams are open. */
  get size(): number {
    return this.#open.size;
  }

  /** A new stream on `res`, listed until it ends or its reader leaves; 503 once the member is stopping. */
  open(res: StreamResponse, options: WatchStreamOptions): WatchStream {
    if (this.#closed) throw new HttpError(503, "stopping", "the member is shutting down");
    const id = ++this.#lastId;
    const stream = new WatchStream(id, this.#hub, res, options, () => this.#open.delete(id));
    this.#open.set(id, stream);
    return stream;
  }

  /** The open stream `id`; 404 unknown_stream when it is not open on this member. */
  get(id: number): WatchStream {
    const stream = this.#open.get(id);
    if (stream !== undefined) return stream;
    if (this.#closed) throw new HttpError(503, "stopping", "the member is shutting down");
    throw new HttpError(404, "unknown_stream", `no watch stream ${id} on this member`);
  }

  /**
   * Ends every stream, and refuses new ones: the member is stopping. Close the hub first, so that
   * each watch's last message is its `stopping` cancellation.
   */
  close(): void {
    this.#closed = true;
    for (const stream of [...this.#open.values()]) stream.end();
  }
}
