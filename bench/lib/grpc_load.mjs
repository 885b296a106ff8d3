// Closed-loop clients for etcd's v3 gRPC API that share ONE HTTP/2 connection, as etcd's own clients
// do (clientv3 opens one connection per endpoint and multiplexes every call over it). Built on the
// repo's small gRPC client (src/grpc/client.ts, on node:http2) and the repo's etcd codecs, so a call
// costs the load generator tens of microseconds rather than the ~0.5–1 ms of the common pure-JS gRPC
// library, which would understate the server. Each client object has the `send(request, done)` /
// `close()` shape of bench/lib/load.mjs's Conn, so closedLoop and sendAll drive it unchanged.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const repo = new URL("../..", import.meta.url).pathname;
const { GrpcClient, GrpcError, Status, codecOf } = await import(pathToFileURL(join(repo, "dist/etcd/client.js")).href);

const calls = {
  put: {
    path: "/etcdserverpb.KV/Put",
    request: codecOf("PutRequest"),
    response: codecOf("PutResponse"),
  },
  get: {
    path: "/etcdserverpb.KV/Range",
    request: codecOf("RangeRequest"),
    response: codecOf("RangeResponse"),
  },
};

const noBytes = new Uint8Array(0);

/** A Put of `value` at `key` (strings), as etcd's clients send it. */
export function grpcPut(key, value) {
  return {
    call: calls.put,
    message: {
      key: Buffer.from(key),
      value: Buffer.from(value),
      lease: 0,
      prevKv: false,
      ignoreValue: false,
      ignoreLease: false,
    },
  };
}

/** A linearizable Range of one key (serializable false: etcd's default, a ReadIndex on both systems). */
export function grpcGet(key) {
  return {
    call: calls.get,
    message: {
      key: Buffer.from(key),
      rangeEnd: noBytes,
      limit: 0,
      revision: 0,
      sortOrder: 0,
      sortTarget: 0,
      serializable: false,
      keysOnly: false,
      countOnly: false,
      minModRevision: 0,
      maxModRevision: 0,
      minCreateRevision: 0,
      maxCreateRevision: 0,
    },
  };
}

/**
 * One HTTP/2 session to `host:port`, made again if it breaks, shared by every client of a run.
 * `done(status)` receives 200 for an OK call, 0 when the connection failed (closedLoop retries those
 * after a pause) and "grpc:CODE" for any other gRPC status.
 */
class SharedSession {
  #url;
  #client = undefined;

  constructor(host, port) {
    this.#url = `http://${host}:${port}`;
  }

  get client() {
    const session = this.#client?.session;
    if (session === undefined || session.destroyed || session.closed) this.#client = new GrpcClient(this.#url);
    return this.#client;
  }

  /** Resolves once the HTTP/2 connection is up, so a run does not time the handshake. */
  open() {
    const { session } = this.client;
    if (session.connecting === false) return Promise.resolve();
    return new Promise((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
    });
  }

  close() {
    const client = this.#client;
    this.#client = undefined;
    return client?.close();
  }
}

class SharedSessionClient {
  #shared;

  constructor(shared) {
    this.#shared = shared;
  }

  send({ call, message }, done) {
    this.#shared.client.unary(call.path, call.request, call.response, message).then(
      () => done(200),
      (error) => done(statusOfFailure(error)),
    );
  }

  /** Closing any client closes the shared session (a run closes all of its clients together). */
  close() {
    void this.#shared.close();
  }
}

function statusOfFailure(error) {
  if (!(error instanceof GrpcError)) return 0;
  if (error.code === Status.UNAVAILABLE && /stream closed without a status/.test(error.message)) return 0;
  return `grpc:${error.code}`;
}

/**
 * One closed-loop client per address (addresses[i] is client i's server, { host, port }); clients
 * of the same server share one HTTP/2 connection to it.
 */
export async function openSharedGrpc(addresses) {
  const sessions = new Map();
  for (const { host, port } of addresses) {
    const key = `${host}:${port}`;
    if (!sessions.has(key)) sessions.set(key, new SharedSession(host, port));
  }
  await Promise.all([...sessions.values()].map((s) => s.open()));
  return addresses.map(({ host, port }) => new SharedSessionClient(sessions.get(`${host}:${port}`)));
}
