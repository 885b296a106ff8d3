/**
 * A scripted node:http server that follows docs/api.md's authentication contract, just enough to
 * exercise the client: it issues tokens for one user, checks `Authorization: Bearer` on every other
 * route, and lets a test expire or refuse tokens, deny a route (403), or answer a route its own way.
 * Data routes answer a fixed success; `GET /v1/watch` opens an NDJSON stream. Not the server.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  readonly body: string;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

export interface AuthServer {
  readonly label: string;
  readonly seen: SeenRequest[];
  /** Whether routes need a token; false answers authenticate with 409 auth_not_enabled. */
  enabled: boolean;
  user: string;
  password: string;
  /** Authentications that issued a token. */
  issued: number;
  /** Tokens that still pass; a test removes one to make it expire (with `expiredCode`). */
  readonly valid: Set<string>;
  /** The 401 code for a token not in `valid`. */
  expiredCode: "token_expired" | "invalid_token";
  /** Paths (without the query) answered 403 permission_denied. */
  readonly denied: Set<string>;
  /** Held while set: authentications wait for it (so calls pile up behind one). */
  authenticateGate: Promise<void> | undefined;
  /** Answers for routes a test scripts itself, by "METHOD /path" without the query. */
  readonly routes: Map<string, Reply>;
  close(): Promise<void>;
}

const watchFrames = [
  { created: true, watchId: 7, revision: 5 },
  {
    revision: 6,
    events: [{ type: "put", kv: { key: "YQ==", value: "MQ==", createRevision: 6, modRevision: 6, version: 1 } }],
  },
];

const dataAnswers: Readonly<Record<string, unknown>> = {
  PUT: { revision: 1 },
  GET: { key: "YQ==", value: "MQ==", createRevision: 1, modRevision: 1, version: 1 },
};

type State = Omit<AuthServer, "label" | "close">;

export async function startAuthServer(): Promise<AuthServer> {
  const streams = new Set<http.ServerResponse>();
  const state: State = {
    seen: [],
    enabled: true,
    user: "alice",
    password: "secret",
    issued: 0,
    valid: new Set(),
    expiredCode: "token_expired",
    denied: new Set(),
    authenticateGate: undefined,
    routes: new Map(),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const seen = {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        authorization: req.headers.authorization,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      state.seen.push(seen);
      void answer(state, seen, res, streams);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    label: `127.0.0.1:${port}`,
    close: async () => {
      for (const res of streams) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}

async function answer(
  state: State,
  seen: SeenRequest,
  res: http.ServerResponse,
  streams: Set<http.ServerResponse>,
): Promise<void> {
  const path = seen.url.split("?", 1)[0] ?? "";
  const reply =
    path === "/v1/auth/authenticate"
      ? await authenticate(state, seen.body)
      : (refusal(state, path, seen.authorization) ?? state.routes.get(`${seen.method} ${path}`));
  if (reply !== undefined) {
    send(res, reply);
  } else if (path === "/v1/watch") {
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    for (const frame of watchFrames) res.write(`${JSON.stringify(frame)}\n`);
    streams.add(res);
    res.on("close", () => streams.delete(res));
  } else if (path === "/v1/lease/keepalive") {
    const { ids } = JSON.parse(seen.body) as { ids: number[] };
    send(res, { status: 200, body: { leases: ids.map((id) => ({ id, ttl: 30 })) } });
  } else {
    send(res, { status: 200, body: dataAnswers[seen.method] ?? { revision: 1 } });
  }
}

async function authenticate(state: State, body: string): Promise<Reply> {
  await state.authenticateGate;
  if (!state.enabled) return error(409, "auth_not_enabled");
  const { name, password } = JSON.parse(body) as { name?: unknown; password?: unknown };
  if (name !== state.user || password !== state.password) return error(401, "authentication_failed");
  const token = `t${++state.issued}`;
  state.valid.add(token);
  return { status: 200, body: { token, expiresAt: Date.now() + 60_000 } };
}

/** The 401/403 the contract gives this request, or undefined when it may go on. */
function refusal(state: State, path: string, authorization: string | undefined): Reply | undefined {
  if (!state.enabled || path === "/v1/auth/status") return undefined;
  if (authorization === undefined) return error(401, "unauthenticated");
  const token = /^Bearer (.+)$/.exec(authorization)?.[1];
  if (token === undefined || !state.valid.has(token)) return error(401, state.expiredCode);
  if (state.denied.has(path)) return error(403, "permission_denied");
  return undefined;
}

function error(status: number, code: string): Reply {
  return { status, body: { error: code, message: `scripted ${code}` } };
}

function send(res: http.ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
