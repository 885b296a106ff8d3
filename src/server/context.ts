import type { IncomingMessage, ServerResponse } from "node:http";
import type { Lessor, WatchHub } from "../coord/index.js";
import type { KvStore } from "../kv/index.js";
import type { Node } from "../node/index.js";
import type { Dashboard } from "./dashboard.js";
import type { AuthFailureLimiter } from "./auth_limiter.js";
import type { Forwarder } from "./forward.js";
import type { Logger } from "./log.js";
import type { Metrics } from "./metrics.js";
import type { WatchStreams } from "./watch_streams.js";
import type { WriteTracer } from "./write_trace.js";

/** What every route handler works with. */
export interface ServerContext {
  readonly node: Node;
  readonly kv: KvStore;
  readonly forwarder: Forwarder;
  /** Leases: the leader's deadlines, keepalives and expiry (docs/coordination.md). */
  readonly lessor: Lessor;
  readonly metrics: Metrics;
  /** The operators' view: histories, request rates and the gathering of every member's status. */
  readonly dashboard: Dashboard;
  /** This member's watches; the watch streams are its sinks. */
  readonly watchHub: WatchHub;
  /** The watch streams open on this member, which watches join by id. */
  readonly watchStreams: WatchStreams;
  readonly auth: AuthServices;
  /** Stamps each put's steps (RAFTKV_TRACE_WRITES; write_trace.ts); undefined, and so free, by default. */
  readonly writeTracer?: WriteTracer | undefined;
}

/** What authentication needs besides the replicated auth state (docs/auth.md). */
export interface AuthServices {
  /** How long a token lasts from its issue. */
  readonly tokenTtlMs: number;
  /** With auth on, /metrics, /healthz and /readyz need a token too. */
  readonly monitoringNeedsAuth: boolean;
  readonly limiter: AuthFailureLimiter;
  /** Where failed authentications are logged (warn); none in tests that pass no logger. */
  readonly log: Logger | undefined;
  /** Wall-clock milliseconds since the epoch: tokens expire by this member's clock. */
  readonly now: () => number;
}

export interface Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** Path segments after the route prefix, still percent-encoded. */
  readonly params: readonly string[];
  /** Who sent it, as the route's access level resolved it (auth_gate.ts): noUser while auth is off. */
  readonly principal: string;
}

export type Handler = (ctx: ServerContext, request: Request) => void | Promise<void>;
