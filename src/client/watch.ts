/**
 * `client.watch()`: a change stream that survives its member. Each stream is one `GET /v1/watch`
 * read line by line; when it breaks (the member died, stopped, or cancelled it) the next one opens
 * at the revision after the last delivered, on the next endpoint, so the application sees each
 * revision once, in order, whichever members served it (ResumePoint keeps that account).
 */
import { backoffMs, errorOf, type Caller } from "./caller.js";
import { DecodeError, percentEncode } from "./codec.js";
import type { Endpoint } from "./endpoints.js";
import { badResponse, RaftkvError, unavailable } from "./errors.js";
import { ndjsonLines } from "./ndjson.js";
import type { WatchMessage, Watch, WatchOptions, WatchSelector } from "./types.js";
import { decodeWatchFrame, type WatchFrame } from "./watch_codec.js";
import { ResumePoint, type Reconnect } from "./watch_resume.js";

/** Where a stream is open: requestProgress goes to that member, for that watch id. */
interface Serving {
  readonly endpoint: Endpoint;
  readonly watchId: number;
}

function watchQuery(selector: WatchSelector, options: WatchOptions, fromRevision: number | undefined): string {
  let query = "encoding=base64";
  if ("key" in selector) query += `&key=${percentEncode(selector.key)}`;
  else if ("prefix" in selector) query += `&prefix=${percentEncode(selector.prefix)}`;
  else {
    query += `&from=${percentEncode(selector.from)}`;
    if (selector.to !== undefined) query += `&to=${percentEncode(selector.to)}`;
  }
  if (fromRevision !== undefined) query += `&fromRevision=${fromRevision}`;
  if (options.prevKv === true) query += "&prevKv=true";
  if (options.progressNotify === true) query += "&progressNotify=true";
  return query;
}

export class WatchStream implements Watch {
  readonly ready: Promise<number>;
  readonly #caller: Caller;
  readonly #selector: WatchSelector;
  readonly #options: WatchOptions;
  readonly #resume: ResumePoint;
  readonly #abort = new AbortController();
  readonly #messages: AsyncGenerator<WatchMessage, void, undefined>;
  /** The first step runs at once, so the watch is open before the caller first asks for a message. */
  #first: Promise<IteratorResult<WatchMessage, void>> | undefined;
  #serving: Serving | undefined;
  #markReady: (revision: number) => void = () => undefined;
  #failReady: (error: unknown) => void = () => undefined;
  #detach: () => void = () => undefined;

  constructor(caller: Caller, selector: WatchSelector, options: WatchOptions) {
    if (options.fromRevision !== undefined && !(Number.isSafeInteger(options.fromRevision) && options.fromRevision > 0))
      throw new RangeError(`fromRevision must be a positive integer, got ${options.fromRevision}`);
    this.#caller = caller;
    this.#selector = selector;
    this.#options = options;
    this.#resume = new ResumePoint(options.fromRevision, caller.endpoints.length);
    this.ready = new Promise<number>((resolve, reject) => {
      this.#markReady = resolve;
      this.#failReady = reject;
    });
    // Nobody has to wait for `ready`: its failure is the iteration's to report.
    this.ready.catch(() => undefined);
    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = (): void => this.close();
      if (signal.aborted) this.close();
      else signal.addEventListener("abort", onAbort, { once: true });
      // A signal may outlive many watches (observe() opens one per leader): each takes its listener back.
      this.#detach = () => signal.removeEventListener("abort", onAbort);
    }
    this.#messages = this.#run();
    this.#first = this.#messages.next();
    // Its failure is the iteration's to report, when someone iterates.
    this.#first.catch(() => undefined);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<WatchMessage, void>> {
    const first = this.#first;
    this.#first = undefined;
    return first ?? this.#messages.next();
  }

  async return(): Promise<IteratorResult<WatchMessage, void>> {
    this.close();
    await this.#first?.catch(() => undefined);
    return this.#messages.return();
  }

  close(): void {
    this.#abort.abort();
  }

  async requestProgress(): Promise<void> {
    const serving = this.#serving;
    if (serving === undefined) {
      throw new RaftkvError({
        code: unavailable,
        message: "the watch has no open stream right now (it is reconnecting)",
      });
    }
    await this.#caller
      .send({
        method: "POST",
        path: `/v1/watch/${serving.watchId}/progress`,
        write: false,
        endpoint: serving.endpoint,
      })
      .then((answer) => this.#caller.ok(answer));
  }

  /** Streams one after the other until the watch is closed or cannot go on. */
  async *#run(): AsyncGenerator<WatchMessage, void, undefined> {
    // Either settles nothing if the watch had started; otherwise nobody waits for ever on `ready`.
    try {
      yield* this.#streams();
    } catch (error) {
      this.#failReady(error);
      throw error;
    } finally {
      this.#detach();
      this.#failReady(new DOMException("the watch was closed before it started", "AbortError"));
    }
  }

  async *#streams(): AsyncGenerator<WatchMessage, void, undefined> {
    const endpoints = this.#caller.endpoints;
    let index = this.#caller.preferred;
    let failures = 0;
    let outageSince = performance.now();
    let last = "";
    while (!this.#abort.signal.aborted) {
      const endpoint = endpoints[index % endpoints.length] as Endpoint;
      const stream = await this.#open(endpoint);
      if (typeof stream === "string") {
        last = `${endpoint.label}: ${stream}`;
        failures++;
        index++;
        if (performance.now() - outageSince > this.#caller.timeoutMs) throw this.#outage(last);
        if (failures % endpoints.length === 0)
          await abortableSleep(backoffMs(failures / endpoints.length), this.#abort.signal);
        continue;
      }
      let reconnect: Reconnect = "next";
      try {
        for await (const frame of stream) {
          if (frame.kind === "canceled") {
            reconnect = this.#resume.canceled(frame, endpoint.label);
            last = `${endpoint.label}: canceled (${frame.reason})`;
            break;
          }
          if (frame.kind === "created") {
            this.#serving = { endpoint, watchId: frame.watchId };
            this.#resume.created(frame.revision);
            this.#markReady((this.#resume.next ?? frame.revision + 1) - 1);
            failures = 0;
            continue;
          }
          const message = frame.kind === "events" ? this.#resume.events(frame) : this.#resume.progress(frame.revision);
          if (message !== undefined) yield message;
        }
      } finally {
        this.#serving = undefined;
        stream.close();
      }
      outageSince = performance.now();
      if (reconnect === "next") index++;
    }
  }

  /** Opens a stream; a failure is described as a string (the next endpoint may do better). */
  async #open(endpoint: Endpoint): Promise<FrameStream | string> {
    const abort = new AbortController();
    const onClose = (): void => abort.abort();
    this.#abort.signal.addEventListener("abort", onClose, { once: true });
    const close = (): void => {
      this.#abort.signal.removeEventListener("abort", onClose);
      abort.abort();
    };
    const outcome = await this.#caller.transport.stream(endpoint, {
      method: "GET",
      path: `/v1/watch?${watchQuery(this.#selector, this.#options, this.#resume.next)}`,
      headers: { accept: "application/x-ndjson" },
      timeoutMs: this.#caller.attemptTimeoutMs,
      signal: abort.signal,
    });
    if (outcome.type !== "response") {
      close();
      return outcome.reason;
    }
    if (outcome.status !== 200) {
      const body = await readBody(outcome.body).catch(() => new Uint8Array());
      close();
      const answer = { status: outcome.status, body, endpoint: endpoint.label };
      // 503 (no leader yet, stopping) and other 5xx: another member may serve; a 4xx will not change.
      if (outcome.status >= 500) return `HTTP ${outcome.status} ${errorOf(answer).code}`;
      throw errorOf(answer);
    }
    return Object.assign(frames(outcome.body, endpoint.label), { close });
  }

  #outage(last: string): RaftkvError {
    const from = this.#resume.next;
    return new RaftkvError({
      code: unavailable,
      message:
        `the watch could not (re)connect to any member within ${this.#caller.timeoutMs} ms (last: ${last})` +
        (from === undefined ? "" : `; resume with fromRevision ${from}`),
    });
  }
}

type FrameStream = AsyncGenerator<WatchFrame, void, undefined> & { close(): void };

/** A stream's messages until it ends or breaks (both mean: reconnect); a malformed one is an error. */
async function* frames(body: AsyncIterable<Uint8Array>, endpoint: string): AsyncGenerator<WatchFrame, void, undefined> {
  const lines = ndjsonLines(body);
  for (;;) {
    let line: IteratorResult<string, void>;
    try {
      line = await lines.next();
    } catch {
      return;
    }
    if (line.done === true) return;
    try {
      yield decodeWatchFrame(parseLine(line.value));
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      throw new RaftkvError({
        code: badResponse,
        message: `${endpoint} sent a watch message docs/coordination.md does not allow: ${error.message}`,
        endpoint,
        cause: error,
      });
    }
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw new DecodeError("a line is not JSON");
  }
}

async function readBody(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
