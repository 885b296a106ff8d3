/**
 * A keep-alive HTTP/1.1 connection that sends bytes exactly as given, so a fuzzer can send what
 * node's own client refuses to (bad header names and values, odd methods, raw paths), and reads
 * just enough of each answer to find its status and its end. An answer whose body has not ended
 * shortly after its head (a watch stream) counts with its status, and the connection is replaced.
 */
import { connect, type Socket } from "node:net";

/** Status 0: no answer (the connection closed or timed out first). */
export interface RawAnswer {
  readonly status: number;
  /** The body when it ended; undefined for a stream cut short. */
  readonly body: Buffer | undefined;
}

const headEnd = Buffer.from("\r\n\r\n");

export class RawHttpConnection {
  readonly #host: string;
  readonly #port: number;
  #socket: Socket | undefined;
  #buffer = Buffer.alloc(0);
  #pending: ((answer: RawAnswer) => void) | undefined;
  #headOnly = false;
  #timers: NodeJS.Timeout[] = [];

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  /** Sends one request; `headOnly` for HEAD, whose answer has no body whatever its headers say. */
  send(request: Uint8Array, options: { headOnly?: boolean; timeoutMs?: number } = {}): Promise<RawAnswer> {
    return new Promise((resolve) => {
      this.#pending = resolve;
      this.#headOnly = options.headOnly === true;
      this.#buffer = Buffer.alloc(0);
      const socket = this.#socket ?? this.#open();
      this.#timers.push(
        setTimeout(() => this.#finish({ status: 0, body: undefined }, true), options.timeoutMs ?? 10_000),
      );
      socket.write(request);
    });
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #open(): Socket {
    const socket = connect({ host: this.#host, port: this.#port, noDelay: true });
    socket.on("data", (chunk: Buffer) => {
      if (socket !== this.#socket) return;
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
    const lost = (): void => {
      if (socket !== this.#socket) return;
      this.#socket = undefined;
      // An answer delimited by the connection's end is complete now.
      const status = this.#status();
      this.#finish({ status, body: status === 0 ? undefined : this.#bodyAfterHead() }, false);
    };
    socket.on("error", lost);
    socket.on("close", lost);
    this.#socket = socket;
    return socket;
  }

  #status(): number {
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(this.#buffer.subarray(0, 16).toString("latin1"));
    return match === null ? 0 : Number(match[1]);
  }

  #bodyAfterHead(): Buffer {
    const end = this.#buffer.indexOf(headEnd);
    return end < 0 ? Buffer.alloc(0) : this.#buffer.subarray(end + 4);
  }

  #parse(): void {
    const end = this.#buffer.indexOf(headEnd);
    if (end < 0) return;
    const head = this.#buffer.toString("latin1", 0, end);
    const status = this.#status();
    if (status >= 100 && status < 200) {
      // An interim answer (100 Continue): the real one follows.
      this.#buffer = this.#buffer.subarray(end + 4);
      this.#parse();
      return;
    }
    const body = this.#buffer.subarray(end + 4);
    const closes = /\r\nconnection:[ \t]*close/i.test(head);
    if (this.#headOnly || status === 204 || status === 304) {
      this.#finish({ status, body: Buffer.alloc(0) }, closes);
      return;
    }
    const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
    if (length !== null) {
      if (body.length >= Number(length[1])) this.#finish({ status, body: body.subarray(0, Number(length[1])) }, closes);
      else this.#cutStreamsShort(status);
      return;
    }
    if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
      const whole = dechunk(body);
      if (whole !== undefined) this.#finish({ status, body: whole }, closes);
      else this.#cutStreamsShort(status);
      return;
    }
    // Delimited by the end of the connection (lost() finishes it).
    this.#cutStreamsShort(status);
  }

  /** A body that goes on after its head arrived is a stream: count its status, drop the connection. */
  #cutStreamsShort(status: number): void {
    if (this.#timers.length > 1) return;
    this.#timers.push(setTimeout(() => this.#finish({ status, body: undefined }, true), 300));
  }

  #finish(answer: RawAnswer, dropConnection: boolean): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
    const pending = this.#pending;
    this.#pending = undefined;
    if (dropConnection) this.close();
    pending?.(answer);
  }
}

/** The body of a complete chunked encoding, or undefined while it has not ended. */
function dechunk(bytes: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf("\r\n", at, "latin1");
    if (lineEnd < 0) return undefined;
    const size = parseInt(bytes.toString("latin1", at, lineEnd), 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0)
      return bytes.indexOf(headEnd, lineEnd) >= 0 || bytes.length >= lineEnd + 4 ? Buffer.concat(parts) : undefined;
    if (bytes.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
