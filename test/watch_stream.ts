/**
 * A GET /v1/watch stream read message by message, as NDJSON or as Server-Sent Events: one watch's,
 * or a multiplexed stream's, whose messages `of` and `events` sort by watch.
 */
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { until } from "./harness.js";

export type WatchJson = Record<string, unknown>;

export class WatchStream {
  readonly messages: WatchJson[] = [];
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  ended = false;
  readonly #request: ClientRequest;
  readonly #response: IncomingMessage;

  private constructor(request: ClientRequest, response: IncomingMessage) {
    this.#request = request;
    this.#response = response;
    this.status = response.statusCode ?? 0;
    this.headers = response.headers;
  }

  /** Opens `GET /v1/watch?query`; resolves once the answer's headers are in. */
  static open(addr: string, query: string, sse = false): Promise<WatchStream> {
    const colon = addr.lastIndexOf(":");
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: addr.slice(0, colon),
          port: Number(addr.slice(colon + 1)),
          path: `/v1/watch?${query}`,
          agent: false,
          headers: sse ? { accept: "text/event-stream" } : {},
        },
        (res) => {
          const stream = new WatchStream(req, res);
          let text = "";
          const separator = sse ? "\n\n" : "\n";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
            for (let end = text.indexOf(separator); end !== -1; end = text.indexOf(separator)) {
              stream.#parse(text.slice(0, end), sse);
              text = text.slice(end + separator.length);
            }
          });
          res.on("end", () => (stream.ended = true));
          res.on("error", () => (stream.ended = true));
          resolve(stream);
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  /** The first message (from `after` on) that `matches`, waiting for it. */
  next(what: string, matches: (message: WatchJson) => boolean, after = 0): Promise<WatchJson> {
    return until(what, () => this.messages.slice(after).find(matches), 20_000);
  }

  /** Waits for the stream to end. */
  async end(what: string): Promise<void> {
    await until(what, () => (this.ended ? true : undefined), 20_000);
  }

  /** The messages of one watch so far, in order. */
  of(watchId: number): WatchJson[] {
    return this.messages.filter((m) => m.watchId === watchId);
  }

  /** The events of every events message so far (of one watch, when given), in order. */
  events(watchId?: number): WatchJson[] {
    const messages = watchId === undefined ? this.messages : this.of(watchId);
    return messages.flatMap((m) => (Array.isArray(m.events) ? (m.events as WatchJson[]) : []));
  }

  /** Stops reading: the server's writes back up until `resume`. */
  pause(): void {
    this.#response.pause();
  }

  resume(): void {
    this.#response.resume();
  }

  /** Goes away without a word, as a reader that disconnects does. */
  close(): void {
    this.#request.destroy();
  }

  #parse(frame: string, sse: boolean): void {
    if (sse) {
      if (!frame.startsWith("data: ")) throw new Error(`not an SSE data line: ${JSON.stringify(frame)}`);
      frame = frame.slice("data: ".length);
    }
    this.messages.push(JSON.parse(frame) as WatchJson);
  }
}
