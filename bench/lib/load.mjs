// A cheap closed-loop HTTP/1.1 load generator on node:net: one keep-alive connection per client,
// one request in flight per connection, requests pre-encoded as bytes. It parses only what it needs
// (status line, Content-Length or chunked framing, Connection: close), so one process can drive
// hundreds of connections without starving the servers it measures on a small machine.
import { connect } from "node:net";
import { performance } from "node:perf_hooks";
import { connect as connectTls } from "node:tls";

const CRLF = Buffer.from("\r\n");
const CRLFCRLF = Buffer.from("\r\n\r\n");

/** One keep-alive connection; `send(bytes, done)` calls `done(status)` (0 = connection failed). */
export class Conn {
  #host;
  #port;
  #socket = undefined;
  #buf = undefined;
  #done = undefined;
  #headerBytes = -1;
  #bodyBytes = 0;
  #chunked = false;
  #closeAfter = false;
  #status = 0;
  #tls;

  /** `tls`: node:tls connect options (e.g. `{ ca }`) to speak https; plain TCP without. */
  constructor(host, port, tls = undefined) {
    this.#host = host;
    this.#port = port;
    this.#tls = tls;
  }

  get address() {
    return `${this.#host}:${this.#port}`;
  }

  /** Opens the socket (resolves once connected). */
  open() {
    return new Promise((resolve, reject) => {
      const options = { host: this.#host, port: this.#port, noDelay: true };
      const socket = this.#tls === undefined ? connect(options) : connectTls({ ...options, ...this.#tls });
      const onError = (err) => reject(err);
      socket.once("error", onError);
      socket.once(this.#tls === undefined ? "connect" : "secureConnect", () => {
        socket.off("error", onError);
        socket.on("error", () => this.#fail(socket));
        socket.on("close", () => this.#fail(socket));
        socket.on("data", (chunk) => this.#onData(chunk));
        this.#socket = socket;
        resolve(this);
      });
    });
  }

  send(request, done) {
    this.#done = done;
    if (this.#socket === undefined) {
      // Reconnect after a close or error, then send.
      this.open().then(
        () => this.#socket.write(request),
        () => this.#finish(0),
      );
      return;
    }
    this.#socket.write(request);
  }

  close() {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #fail(socket) {
    socket.destroy();
    if (socket !== this.#socket) return; // an old socket, already replaced
    this.#socket.destroy();
    this.#socket = undefined;
    this.#buf = undefined;
    this.#headerBytes = -1;
    if (this.#done !== undefined) this.#finish(0);
  }

  #finish(status) {
    const done = this.#done;
    this.#done = undefined;
    done?.(status);
  }

  #onData(chunk) {
    this.#buf = this.#buf === undefined ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf !== undefined && this.#parse());
  }

  /** Consumes one whole response from the buffer if it is there; returns whether it did. */
  #parse() {
    const buf = this.#buf;
    if (this.#headerBytes < 0) {
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) return false;
      const head = buf.toString("latin1", 0, end);
      this.#status = Number(head.slice(9, 12));
      const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
      this.#chunked = length === null && /\r\ntransfer-encoding:[^\r]*chunked/i.test(head);
      this.#closeAfter = /\r\nconnection:[ \t]*close/i.test(head);
      this.#bodyBytes = length === null ? 0 : Number(length[1]);
      this.#headerBytes = end + 4;
    }
    let total;
    if (this.#chunked) {
      total = chunkedEnd(buf, this.#headerBytes);
      if (total < 0) return false;
    } else {
      total = this.#headerBytes + this.#bodyBytes;
      if (buf.length < total) return false;
    }
    this.#buf = buf.length === total ? undefined : buf.subarray(total);
    this.#headerBytes = -1;
    const status = this.#status;
    if (this.#closeAfter) {
      this.#socket?.destroy();
      this.#socket = undefined;
      this.#buf = undefined;
    }
    this.#finish(status);
    return true;
  }
}

/** The offset just past a chunked body that starts at `pos`, or -1 when it is not all here yet. */
function chunkedEnd(buf, pos) {
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, pos);
    if (lineEnd < 0) return -1;
    const size = parseInt(buf.toString("latin1", pos, lineEnd), 16);
    if (size === 0) {
      // Optional trailers, then an empty line: "0\r\n" + trailers + "\r\n".
      const end = buf.indexOf(CRLFCRLF, lineEnd);
      return end < 0 ? -1 : end + 4;
    }
    pos = lineEnd + 2 + size + 2;
    if (pos > buf.length) return -1;
  }
}

/** A growable array of latency samples (milliseconds). */
class Samples {
  #data = new Float64Array(1 << 16);
  #length = 0;
  push(v) {
    if (this.#length === this.#data.length) {
      const next = new Float64Array(this.#data.length * 2);
      next.set(this.#data);
      this.#data = next;
    }
    this.#data[this.#length++] = v;
  }
  sorted() {
    return this.#data.slice(0, this.#length).sort();
  }
}

/** Nearest-rank percentile of sorted samples. */
/** "500ms", "5s", "1m" (a bare number is seconds) → milliseconds. */
export function parseDuration(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (m === null) throw new Error(`bad duration ${text} (use e.g. 500ms, 5s, 1m)`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] ?? "s"];
}

/** xorshift32 from a fixed seed: cheap and reproducible; the key order matters, not its quality. */
export function seededRandom(seed = 0x9e3779b9) {
  return () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const fmtOps = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
export const fmtMs = (x) =>
  !Number.isFinite(x) ? "–" : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** Opens one connection per address (addresses[i] is client i's server), over TLS when `tls` is given. */
export async function openConns(addresses, tls = undefined) {
  const conns = addresses.map(({ host, port }) => new Conn(host, port, tls));
  await Promise.all(conns.map((c) => c.open()));
  return conns;
}

/**
 * Closed loop: each connection sends `nextRequest(client)` as soon as its previous answer arrives.
 * Only requests that start after the warm-up and finish before the end count. `hooks.warm()` and
 * `hooks.end()` run at those two instants (e.g. to sample CPU counters).
 */
export async function closedLoop({ conns, nextRequest, warmupMs, durationMs, hooks = {} }) {
  const samples = new Samples();
  const statuses = new Map();
  let errors = 0;
  let measuring = false;
  let stopping = false;
  let measureFrom = Infinity;
  let measureTo = Infinity;
  let active = conns.length;
  let finished;
  const allDone = new Promise((resolve) => (finished = resolve));

  const loop = (conn, client) => {
    if (stopping) {
      if (--active === 0) finished();
      return;
    }
    const started = performance.now();
    conn.send(nextRequest(client), (status) => {
      const ended = performance.now();
      if (measuring && started >= measureFrom && ended <= measureTo) {
        if (status >= 200 && status < 300) samples.push(ended - started);
        else {
          errors++;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
        }
      }
      if (status === 0) setTimeout(() => loop(conn, client), 10);
      else loop(conn, client);
    });
  };

  const started = performance.now();
  conns.forEach((conn, i) => loop(conn, i));
  await sleep(warmupMs);
  measureFrom = performance.now();
  measuring = true;
  hooks.warm?.();
  await sleep(durationMs);
  measureTo = performance.now();
  stopping = true;
  hooks.end?.();
  // In-flight requests no longer count; give them a moment so the connections end cleanly.
  await Promise.race([allDone, sleep(10_000)]);
  const seconds = (measureTo - measureFrom) / 1000;
  const sorted = samples.sorted();
  return {
    ops: sorted.length,
    seconds,
    opsPerSecond: sorted.length / seconds,
    errors,
    statuses: Object.fromEntries(statuses),
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/** Sends each request once, over all connections concurrently; returns the failed ones' indexes and statuses. */
export async function sendAll(conns, requests) {
  let next = 0;
  const failed = [];
  const statuses = {};
  await Promise.all(
    conns.map(
      (conn) =>
        new Promise((resolve) => {
          const step = () => {
            if (next >= requests.length) return resolve();
            const index = next++;
            conn.send(requests[index], (status) => {
              if (status < 200 || status >= 300) {
                failed.push(index);
                statuses[status] = (statuses[status] ?? 0) + 1;
              }
              step();
            });
          };
          step();
        }),
    ),
  );
  return { failed, statuses };
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
