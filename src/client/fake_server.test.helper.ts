/**
 * A test double of a raftkv node's HTTP API (docs/api.md), just enough to exercise the real client:
 * an in-memory KV with revisions, the exactly-once session table, txn, status and members, lease
 * keepalives (single and batch) of the leases in `leases`, plus scripted faults (answer 503/504,
 * drop the connection, apply and then drop or 504). Not the server.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { percentDecode } from "./codec.js";

export type Fault = "503" | "504" | "drop" | "apply-then-drop" | "apply-then-504" | "garbage";

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly clientId: string | undefined;
  readonly seq: string | undefined;
  readonly body: Buffer;
}

interface Entry {
  key: Buffer;
  value: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
}

interface Reply {
  status: number;
  body: unknown;
}

export interface FakeServer {
  readonly label: string;
  readonly requests: RecordedRequest[];
  /** Faults to apply to the next requests, one each, in order. */
  readonly faults: Fault[];
  /** When set, every request gets 503 with this code ("no_leader", "not_ready"). */
  unavailable: string | undefined;
  readonly kv: Map<string, Entry>;
  revision: number;
  /** Writes actually applied (a replayed retry does not count). */
  applied: number;
  /** Lease id -> TTL in seconds: the leases keepalives renew (any other is lease_not_found). */
  readonly leases: Map<number, number>;
  close(): Promise<void>;
}

type Query = Map<string, Buffer>;

/** GET /v1/status's answer, but for its members. */
const statusFields = {
  id: "n1",
  role: "leader",
  term: 3,
  leader: "n1",
  commitIndex: 10,
  appliedIndex: 10,
  lastIndex: 10,
  snapshotIndex: 0,
};

export async function startFakeServer(): Promise<FakeServer> {
  const sessions = new Map<string, { seq: number; reply: Reply }>();
  const members = [{ id: "n1", peerAddr: "127.0.0.1:7001", learner: false }];
  const state: Omit<FakeServer, "label" | "close"> = {
    requests: [],
    faults: [],
    unavailable: undefined,
    kv: new Map(),
    revision: 0,
    applied: 0,
    leases: new Map(),
  };

  const handle = (req: http.IncomingMessage, body: Buffer): Reply | "drop" => {
    const url = req.url ?? "/";
    const [path = "", queryText = ""] = url.split("?", 2);
    const query: Query = new Map();
    for (const part of queryText.split("&").filter((p) => p !== "")) {
      const [name = "", value = ""] = part.split("=", 2);
      query.set(name, Buffer.from(percentDecode(value) ?? new Uint8Array()));
    }
    const clientId = header(req, "raftkv-client-id");
    const seq = header(req, "raftkv-seq");
    state.requests.push({ method: req.method ?? "", url, clientId, seq, body });
    if (state.unavailable !== undefined)
      return { status: 503, body: { error: state.unavailable, message: "try another node" } };
    const fault = state.faults.shift();
    if (fault === "503") return { status: 503, body: { error: "no_leader", message: "no leader" } };
    if (fault === "504") return { status: 504, body: { error: "timeout", message: "not committed in time" } };
    if (fault === "drop") return "drop";
    if (fault === "garbage") return { status: 200, body: { kvs: "not a list", revision: -1 } };
    const b64 = query.get("encoding")?.toString() === "base64";
    const route = (): Reply =>
      leaseRoute(state.leases, req.method ?? "", path, body) ??
      routeRequest({ method: req.method ?? "", path, query, body, b64 });
    let reply: Reply;
    if (clientId !== undefined && seq !== undefined && req.method !== "GET") {
      const session = sessions.get(clientId);
      const n = Number(seq);
      if (session !== undefined && n === session.seq) reply = session.reply;
      else if (session !== undefined && n < session.seq)
        reply = { status: 400, body: { error: "stale_seq", message: "superseded" } };
      else {
        reply = route();
        sessions.set(clientId, { seq: n, reply });
      }
    } else reply = route();
    if (fault === "apply-then-drop") return "drop";
    if (fault === "apply-then-504") return { status: 504, body: { error: "timeout", message: "unknown" } };
    return reply;
  };

  const enc = (bytes: Buffer, b64: boolean): string => (b64 ? bytes.toString("base64") : bytes.toString("utf8"));
  const dec = (text: unknown, b64: boolean): Buffer => Buffer.from(String(text), b64 ? "base64" : "utf8");
  const kvJson = (e: Entry | undefined, b64: boolean): unknown =>
    e === undefined
      ? null
      : {
          key: enc(e.key, b64),
          value: enc(e.value, b64),
          createRevision: e.createRevision,
          modRevision: e.modRevision,
          version: e.version,
        };
  const put = (key: Buffer, value: Buffer): void => {
    const old = state.kv.get(key.toString("hex"));
    state.revision++;
    state.kv.set(key.toString("hex"), {
      key,
      value,
      createRevision: old?.createRevision ?? state.revision,
      modRevision: state.revision,
      version: (old?.version ?? 0) + 1,
    });
  };
  const del = (key: Buffer): boolean => {
    if (!state.kv.has(key.toString("hex"))) return false;
    state.revision++;
    state.kv.delete(key.toString("hex"));
    return true;
  };

  const routeRequest = (r: { method: string; path: string; query: Query; body: Buffer; b64: boolean }): Reply => {
    const { method, path, query, body, b64 } = r;
    if (path.startsWith("/v1/kv/")) {
      const key = Buffer.from(percentDecode(path.slice("/v1/kv/".length)) ?? new Uint8Array());
      const entry = state.kv.get(key.toString("hex"));
      if (method === "GET")
        return entry === undefined
          ? { status: 404, body: { error: "not_found", revision: state.revision } }
          : { status: 200, body: kvJson(entry, b64) };
      if (method === "PUT") {
        const ifRevision = query.get("ifRevision");
        if (ifRevision !== undefined && Number(ifRevision.toString()) !== (entry?.modRevision ?? 0)) {
          return {
            status: 409,
            body: { error: "compare_failed", message: "modRevision differs", current: kvJson(entry, b64) },
          };
        }
        state.applied++;
        put(key, body);
        return { status: 200, body: { revision: state.revision } };
      }
      if (method === "DELETE") {
        state.applied++;
        const deleted = del(key);
        return { status: 200, body: { revision: state.revision, deleted: deleted ? 1 : 0 } };
      }
    }
    if (path === "/v1/kv" && method === "GET") {
      const prefix = query.get("prefix");
      const from = query.get("from") ?? Buffer.alloc(0);
      const to = query.get("to");
      const limit = Number(query.get("limit")?.toString() ?? "1000000");
      const all = [...state.kv.values()]
        .filter((e) =>
          prefix !== undefined
            ? e.key.subarray(0, prefix.length).equals(prefix)
            : Buffer.compare(e.key, from) >= 0 && (to === undefined || Buffer.compare(e.key, to) < 0),
        )
        .sort((a, b) => Buffer.compare(a.key, b.key));
      return {
        status: 200,
        body: {
          kvs: all.slice(0, limit).map((e) => kvJson(e, b64)),
          more: all.length > limit,
          revision: state.revision,
        },
      };
    }
    if (path === "/v1/txn" && method === "POST") return txn(JSON.parse(body.toString()) as TxnBody, b64);
    if (path === "/v1/status") return { status: 200, body: { ...statusFields, members } };
    if (path === "/v1/members" && method === "GET") return { status: 200, body: { members } };
    if (path === "/v1/members" && method === "POST") {
      const m = JSON.parse(body.toString()) as { id: string; peerAddr: string; learner: boolean };
      if (members.some((x) => x.id === m.id))
        return { status: 409, body: { error: "member_exists", message: `${m.id} is a member` } };
      members.push(m);
      return { status: 200, body: { members } };
    }
    const promote = /^\/v1\/members\/([^/]+)\/promote$/.exec(path);
    const member = members.find((m) => m.id === (promote?.[1] ?? path.slice("/v1/members/".length)));
    if (promote !== null && method === "POST") {
      if (member === undefined) return { status: 404, body: { error: "unknown_member", message: "no such member" } };
      if (!member.learner) return { status: 400, body: { error: "not_learner", message: "not a learner" } };
      member.learner = false;
      return { status: 200, body: { members } };
    }
    if (path.startsWith("/v1/members/") && method === "DELETE") {
      if (member === undefined) return { status: 404, body: { error: "unknown_member", message: "no such member" } };
      members.splice(members.indexOf(member), 1);
      return { status: 200, body: { members } };
    }
    if (path === "/v1/leader/transfer" && method === "POST") return { status: 200, body: { leader: "n1" } };
    return { status: 404, body: { error: "no_route", message: `${method} ${path}` } };
  };

  type TxnOp = { put?: { key: string; value: string }; get?: { key: string }; delete?: { key: string } };
  type TxnBody = {
    compare: { key: string; value?: string; modRevision?: number }[];
    success: TxnOp[];
    failure: TxnOp[];
  };
  const txn = (t: TxnBody, b64: boolean): Reply => {
    const holds = t.compare.every((c) => {
      const e = state.kv.get(dec(c.key, b64).toString("hex"));
      if (c.modRevision !== undefined && (e?.modRevision ?? 0) !== c.modRevision) return false;
      return c.value === undefined || (e !== undefined && e.value.equals(dec(c.value, b64)));
    });
    state.applied++;
    const responses = (holds ? t.success : t.failure).map((op) => {
      if (op.put !== undefined) {
        put(dec(op.put.key, b64), dec(op.put.value, b64));
        return { put: { revision: state.revision } };
      }
      if (op.get !== undefined) return { get: { kv: kvJson(state.kv.get(dec(op.get.key, b64).toString("hex")), b64) } };
      if (op.delete !== undefined) return { delete: { deleted: del(dec(op.delete.key, b64)) ? 1 : 0 } };
      throw new Error("bad op");
    });
    return { status: 200, body: { succeeded: holds, revision: state.revision, responses } };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const reply = handle(req, Buffer.concat(chunks));
      if (reply === "drop") {
        req.socket.destroy();
        return;
      }
      res.writeHead(reply.status, { "content-type": "application/json" });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    label: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Lease keepalives, single and batch, of the leases in `leases`; undefined for any other route. */
function leaseRoute(
  leases: ReadonlyMap<number, number>,
  method: string,
  path: string,
  body: Buffer,
): Reply | undefined {
  if (path === "/v1/lease/keepalive" && method === "POST") {
    const { ids } = JSON.parse(body.toString()) as { ids: number[] };
    if (ids.length < 1 || ids.length > 1000) return { status: 400, body: { error: "bad_request", message: "ids" } };
    const answers = ids.map((id) => {
      const ttl = leases.get(id);
      return ttl === undefined ? { id, error: "lease_not_found" } : { id, ttl };
    });
    return { status: 200, body: { leases: answers } };
  }
  const keepAlive = /^\/v1\/lease\/(\d+)\/keepalive$/.exec(path);
  if (keepAlive !== null && method === "POST") {
    const id = Number(keepAlive[1]);
    const ttl = leases.get(id);
    return ttl === undefined
      ? { status: 404, body: { error: "lease_not_found", message: `lease ${id} does not exist` } }
      : { status: 200, body: { id, ttl } };
  }
  return undefined;
}

/** An address nothing listens on (bound, then released): connecting to it is refused. */
export async function deadEndpoint(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
