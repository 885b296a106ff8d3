import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Lessor, WatchHub } from "../coord/index.js";
import type { KvStore } from "../kv/index.js";
import type { Node } from "../node/index.js";
import { createGrpcHttp2Server } from "../grpc/http2_server.js";
import type { GrpcRouter } from "../grpc/router.js";
import type { Handler, Request, ServerContext } from "./context.js";
import { healthz, metrics, readyz, status } from "./cluster_routes.js";
import { addMember, listMembers, promoteMember, removeMember, transferLeader } from "./member_routes.js";
import { Forwarder } from "./forward.js";
import { createClientListener, type ClientListenerOptions } from "./listener.js";
import { HttpError, sendError } from "./http_util.js";
import { deleteKey, getKey, putKey, rangeKeys, txn } from "./kv_routes.js";
import {
  grantLease,
  keepAliveLease,
  keepAliveLeases,
  leaseTimeToLive,
  listLeases,
  revokeLease,
} from "./lease_routes.js";
import { Dashboard } from "./dashboard.js";
import { clusterRoute, dashboard, memberRoute, preflight } from "./dashboard_routes.js";
import { Activity } from "./dashboard_state.js";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics.js";
import { compact } from "./compact_route.js";
import { addWatch, cancelWatch, watch, watchProgress } from "./watch_routes.js";
import { WatchStreams } from "./watch_streams.js";
import { principalFor, type RouteAccess } from "./auth_gate.js";
import { authenticate, authStatus, disableAuth, enableAuth } from "./auth_routes.js";
import {
  addRole,
  addUser,
  deleteRole,
  deleteUser,
  getRole,
  getUser,
  grantPermission,
  grantRole,
  listRoles,
  listUsers,
  revokePermission,
  revokeRole,
  setPassword,
} from "./auth_admin_routes.js";
import { AuthFailureLimiter } from "./auth_limiter.js";
import type { WriteTracer } from "./write_trace.js";

interface Route {
  readonly method: string;
  /** Literal segments, with "*" for one parameter and "**" for the rest of the path. */
  readonly pattern: readonly string[];
  readonly name: string;
  readonly handler: Handler;
  /** Who may call it once auth is enabled (auth_gate.ts); without one, any authenticated user. */
  readonly access?: RouteAccess;
}

const routes: Route[] = [
  { method: "GET", pattern: ["v1", "kv"], name: "range", handler: rangeKeys },
  { method: "GET", pattern: ["v1", "kv", "**"], name: "get", handler: getKey },
  { method: "PUT", pattern: ["v1", "kv", "**"], name: "put", handler: putKey },
  { method: "DELETE", pattern: ["v1", "kv", "**"], name: "delete", handler: deleteKey },
  { method: "POST", pattern: ["v1", "txn"], name: "txn", handler: txn },
  { method: "GET", pattern: ["v1", "watch"], name: "watch", handler: watch },
  { method: "POST", pattern: ["v1", "watch", "streams", "*", "watches"], name: "watch_add", handler: addWatch },
  { method: "DELETE", pattern: ["v1", "watch", "*"], name: "watch_cancel", handler: cancelWatch },
  { method: "POST", pattern: ["v1", "watch", "*", "progress"], name: "watch_progress", handler: watchProgress },
  { method: "POST", pattern: ["v1", "compact"], name: "compact", handler: compact, access: "root" },
  { method: "POST", pattern: ["v1", "lease", "grant"], name: "lease_grant", handler: grantLease },
  { method: "POST", pattern: ["v1", "lease", "keepalive"], name: "lease_keepalive_batch", handler: keepAliveLeases },
  { method: "POST", pattern: ["v1", "lease", "*", "keepalive"], name: "lease_keepalive", handler: keepAliveLease },
  { method: "POST", pattern: ["v1", "lease", "*", "revoke"], name: "lease_revoke", handler: revokeLease },
  { method: "GET", pattern: ["v1", "lease", "*"], name: "lease", handler: leaseTimeToLive },
  { method: "GET", pattern: ["v1", "leases"], name: "leases", handler: listLeases },
  { method: "GET", pattern: ["v1", "status"], name: "status", handler: status },
  { method: "GET", pattern: ["v1", "members"], name: "members", handler: listMembers },
  { method: "POST", pattern: ["v1", "members"], name: "member_add", handler: addMember, access: "root" },
  {
    method: "POST",
    pattern: ["v1", "members", "*", "promote"],
    name: "member_promote",
    handler: promoteMember,
    access: "root",
  },
  { method: "DELETE", pattern: ["v1", "members", "*"], name: "member_remove", handler: removeMember, access: "root" },
  { method: "POST", pattern: ["v1", "leader", "transfer"], name: "transfer", handler: transferLeader, access: "root" },
  { method: "GET", pattern: ["v1", "auth", "status"], name: "auth_status", handler: authStatus, access: "open" },
  {
    method: "POST",
    pattern: ["v1", "auth", "authenticate"],
    name: "authenticate",
    handler: authenticate,
    access: "open",
  },
  { method: "POST", pattern: ["v1", "auth", "enable"], name: "auth_enable", handler: enableAuth, access: "root" },
  { method: "POST", pattern: ["v1", "auth", "disable"], name: "auth_disable", handler: disableAuth, access: "root" },
  { method: "GET", pattern: ["v1", "auth", "users"], name: "users", handler: listUsers, access: "root" },
  { method: "POST", pattern: ["v1", "auth", "users"], name: "user_add", handler: addUser, access: "root" },
  { method: "GET", pattern: ["v1", "auth", "users", "*"], name: "user", handler: getUser },
  { method: "DELETE", pattern: ["v1", "auth", "users", "*"], name: "user_delete", handler: deleteUser, access: "root" },
  {
    method: "POST",
    pattern: ["v1", "auth", "users", "*", "password"],
    name: "user_password",
    handler: setPassword,
    access: "root",
  },
  {
    method: "POST",
    pattern: ["v1", "auth", "users", "*", "roles"],
    name: "user_grant",
    handler: grantRole,
    access: "root",
  },
  {
    method: "DELETE",
    pattern: ["v1", "auth", "users", "*", "roles", "*"],
    name: "user_revoke",
    handler: revokeRole,
    access: "root",
  },
  { method: "GET", pattern: ["v1", "auth", "roles"], name: "roles", handler: listRoles, access: "root" },
  { method: "POST", pattern: ["v1", "auth", "roles"], name: "role_add", handler: addRole, access: "root" },
  { method: "GET", pattern: ["v1", "auth", "roles", "*"], name: "role", handler: getRole, access: "root" },
  { method: "DELETE", pattern: ["v1", "auth", "roles", "*"], name: "role_delete", handler: deleteRole, access: "root" },
  {
    method: "POST",
    pattern: ["v1", "auth", "roles", "*", "permissions"],
    name: "role_grant",
    handler: grantPermission,
    access: "root",
  },
  {
    method: "DELETE",
    pattern: ["v1", "auth", "roles", "*", "permissions"],
    name: "role_revoke",
    handler: revokePermission,
    access: "root",
  },
  { method: "GET", pattern: ["metrics"], name: "metrics", handler: metrics, access: "open" },
  { method: "GET", pattern: ["healthz"], name: "healthz", handler: healthz, access: "open" },
  { method: "GET", pattern: ["readyz"], name: "readyz", handler: readyz, access: "open" },
  { method: "GET", pattern: ["v1", "cluster"], name: "cluster", handler: clusterRoute },
  { method: "GET", pattern: ["v1", "cluster", "member"], name: "cluster_member", handler: memberRoute },
  { method: "OPTIONS", pattern: ["v1", "cluster"], name: "cluster_preflight", handler: preflight, access: "open" },
  {
    method: "OPTIONS",
    pattern: ["v1", "cluster", "member"],
    name: "cluster_member_preflight",
    handler: preflight,
    access: "open",
  },
  { method: "GET", pattern: [], name: "dashboard", handler: dashboard, access: "open" },
];

/** Client requests the dashboard counts as reads or writes (where they enter the cluster). */
const requestKinds: Readonly<Record<string, "read" | "write">> = {
  get: "read",
  range: "read",
  put: "write",
  delete: "write",
  txn: "write",
};

const monitoringRoutes = new Set(["metrics", "healthz", "readyz"]);

/** Who may call a route (docs/auth.md): its own level, or a user's for monitoring when configured so. */
function accessOf(route: Route, ctx: ServerContext): RouteAccess {
  if (ctx.auth.monitoringNeedsAuth && monitoringRoutes.has(route.name)) return "user";
  return route.access ?? "user";
}

/** Segments of the raw (still percent-encoded) path, so a key may contain an encoded "/". */
function match(route: Route, segments: readonly string[]): string[] | undefined {
  const params: string[] = [];
  for (let i = 0; i < route.pattern.length; i++) {
    const part = route.pattern[i]!;
    if (part === "**") {
      // An empty rest ("/v1/kv/") still matches, so the handler can say the key is empty.
      if (segments.length <= i) return undefined;
      params.push(segments.slice(i).join("/"));
      return params;
    }
    const segment = segments[i];
    if (segment === undefined) return undefined;
    if (part === "*") params.push(segment);
    else if (part !== segment) return undefined;
  }
  return segments.length === route.pattern.length ? params : undefined;
}

interface ClientServer {
  readonly server: Server;
  /** The address it listens on (the real port when asked for port 0). */
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

interface ServeOptions {
  readonly node: Node;
  readonly kv: KvStore;
  /** The member's watch hub; `close()` closes it, ending its streams with `stopping`. */
  readonly watchHub: WatchHub;
  readonly lessor: Lessor;
  readonly metrics: Metrics;
  readonly host: string;
  readonly port: number;
  /** Histories for the dashboard; pass the one whose observer the node was created with. */
  readonly activity?: Activity;
  /** Where unexpected errors are logged; default: a process warning. */
  readonly log?: Logger;
  /** TLS and the bounds on clients (listener.ts); with TLS, forwarding and the dashboard use https too. */
  readonly listener?: ClientListenerOptions;
  /** How long a token lasts (docs/auth.md); default 5 minutes, as etcd's simple tokens. */
  readonly authTokenTtlMs?: number;
  /** With auth on, the monitoring routes (/metrics, /healthz, /readyz) need a token too. Default: open. */
  readonly monitoringNeedsAuth?: boolean;
  /** Serves gRPC (etcd's API) on the same port, over HTTP/2, with the router this makes (docs/api.md). */
  readonly grpc?: (ctx: ServerContext) => GrpcRouter;
  /** Stamps each put's steps (write_trace.ts); pass the one whose observer the node was created with. */
  readonly writeTracer?: WriteTracer | undefined;
}

const authTokenTtlMsDefault = 5 * 60_000;

/**
 * The client API of docs/api.md on node:http. No request, however malformed, gets past the
 * handler's catch: a bad one is a 4xx, an unexpected failure a 500, and the node keeps running.
 */
export async function startClientServer(options: ServeOptions): Promise<ClientServer> {
  const tls = options.listener?.tls;
  const forwarder = new Forwarder(options.node, tls);
  const board = new Dashboard({ activity: options.activity ?? new Activity(), tls });
  board.activity.attach(options.node);
  const ctx: ServerContext = {
    node: options.node,
    kv: options.kv,
    lessor: options.lessor,
    forwarder,
    metrics: options.metrics,
    dashboard: board,
    watchHub: options.watchHub,
    watchStreams: new WatchStreams(options.watchHub),
    writeTracer: options.writeTracer,
    auth: {
      tokenTtlMs: options.authTokenTtlMs ?? authTokenTtlMsDefault,
      monitoringNeedsAuth: options.monitoringNeedsAuth === true,
      limiter: new AuthFailureLimiter(),
      log: options.log,
      now: () => Date.now(),
    },
  };
  const grpc =
    options.grpc === undefined
      ? undefined
      : createGrpcHttp2Server(options.grpc(ctx), { headerBytesMax: options.listener?.headerBytesMax });
  const server = createClientListener(
    options.listener ?? {},
    (req, res) => void handle(ctx, req, res, options.log),
    grpc?.server,
  );
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          error.code === "EADDRINUSE"
            ? `port ${options.host}:${options.port} is in use`
            : `cannot listen on ${options.host}:${options.port}: ${error.message}`,
        ),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const bound = server.address() as { port: number };
  const address = { host: options.host, port: bound.port };
  return {
    server,
    address,
    close: async () => {
      forwarder.close();
      // Watch streams last until they are ended, and server.close() waits for every connection.
      options.watchHub.close();
      ctx.watchStreams.close();
      grpc?.closeSessions(1000);
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The request target as a URL. Only origin-form targets ("/path?query") are served; the target is
 * appended to a fixed origin, because resolving it against one would read "//x" as a host (and
 * throw on "//%zz", which the auth fuzz test found as a 500).
 */
function requestUrl(target: string): URL {
  if (!target.startsWith("/")) throw new HttpError(400, "bad_request", "the request target must be a path");
  try {
    return new URL(`http://localhost${target}`);
  } catch {
    throw new HttpError(400, "bad_request", "the request target is not a valid path");
  }
}

async function handle(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  log: Logger | undefined,
): Promise<void> {
  const started = performance.now();
  let routeName = "unknown";
  try {
    const url = requestUrl(req.url ?? "/");
    const rawPath = (req.url ?? "/").split("?", 1)[0]!;
    const segments = rawPath === "/" ? [] : rawPath.slice(1).split("/");
    const allowed: string[] = [];
    for (const route of routes) {
      const params = match(route, segments);
      if (params === undefined) continue;
      allowed.push(route.method);
      if (route.method !== req.method) continue;
      routeName = route.name;
      const principal = principalFor(ctx, req, accessOf(route, ctx));
      const request: Request = { req, res, url, params, principal };
      await route.handler(ctx, request);
      return;
    }
    if (allowed.length === 0) throw new HttpError(404, "no_route", `no route for ${req.method} ${url.pathname}`);
    res.setHeader("allow", allowed.join(", "));
    throw new HttpError(405, "method_not_allowed", `${req.method} is not allowed here; use ${allowed.join(" or ")}`);
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(
      res,
      error instanceof HttpError
        ? error
        : new HttpError(500, "internal", error instanceof Error ? error.message : String(error)),
    );
    if (error instanceof HttpError) return;
    if (log !== undefined)
      log.error(
        { method: req.method, url: req.url, err: String(error) },
        `unexpected error serving ${req.method} ${req.url}`,
      );
    else process.emitWarning(`raftkv: unexpected error serving ${req.method} ${req.url}: ${String(error)}`);
  } finally {
    ctx.metrics.request(routeName, res.statusCode, (performance.now() - started) / 1000);
    // Counted where a request enters the cluster, not again where it was forwarded to.
    const kind = requestKinds[routeName];
    if (
      kind !== undefined &&
      res.statusCode >= 200 &&
      res.statusCode < 300 &&
      req.headers["raftkv-forwarded"] === undefined
    )
      ctx.dashboard.activity.served(kind);
  }
}
