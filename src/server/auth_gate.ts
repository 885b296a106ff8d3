import type { IncomingMessage } from "node:http";
import { TLSSocket } from "node:tls";
import { noUser, type KeySpan, type KvCommand } from "../kv/index.js";
import type { AuthServices, ServerContext } from "./context.js";
import { HttpError } from "./http_util.js";
import { tokenUser } from "./auth_token_user.js";
import { signToken } from "./tokens.js";

/**
 * What a route asks of its caller once auth is enabled (docs/auth.md): nothing, a valid identity,
 * or the root role. Before auth is enabled every route is open.
 */
export type RouteAccess = "open" | "user" | "root";

/** A token a follower mints for a certificate's user, to forward the request to the leader with. */
const forwardedTokenTtlMs = 30_000;

/**
 * The principal `req` acts as: `noUser` when auth is off (or the route is open), else the user its
 * token or client certificate names. A 401 when it names none validly, a 403 when the route needs
 * root and the user is not.
 */
export function principalFor(ctx: ServerContext, req: IncomingMessage, access: RouteAccess): string {
  const auth = ctx.kv.auth;
  if (access === "open" || !auth.enabled()) return noUser;
  const user = authenticatedUser(ctx, req);
  if (access === "root" && !auth.isRoot(user)) throw forbidden(`${user} lacks the root role this request needs`);
  return user;
}

export function forbidden(message: string): HttpError {
  return new HttpError(403, "permission_denied", message);
}

/** The address failures are counted and logged by. */
export function sourceOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown";
}

/**
 * A short-lived token for a certificate's user on a call passed to the leader: the leader checks a
 * forwarded call again and sees no certificate there, so the token speaks for it.
 */
export function forwardingToken(ctx: ServerContext, user: string): string {
  const auth = ctx.kv.auth;
  return signToken(auth.tokenKey()!, { user, rev: auth.revision(), exp: ctx.auth.now() + forwardedTokenTtlMs });
}

function authenticatedUser(ctx: ServerContext, req: IncomingMessage): string {
  const auth = ctx.kv.auth;
  const header = req.headers.authorization;
  if (header === undefined) {
    const user = certificateUser(req);
    if (user === undefined)
      throw new HttpError(
        401,
        "unauthenticated",
        "auth is enabled: send Authorization: Bearer TOKEN (POST /v1/auth/authenticate gives one)",
      );
    if (auth.user(user) === undefined) throw invalid(ctx, req, "the client certificate names no user", user);
    req.headers.authorization = `Bearer ${forwardingToken(ctx, user)}`;
    return user;
  }
  const bearer = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(header);
  if (bearer === null) throw invalid(ctx, req, "the Authorization header is not Bearer TOKEN");
  const checked = tokenUser(ctx, bearer[1]!);
  if (checked.ok) return checked.user;
  switch (checked.reason) {
    case "expired":
      throw new HttpError(401, "token_expired", "the token has expired: authenticate again");
    case "invalid":
      throw invalid(ctx, req, "the token's signature does not match");
    case "noSuchUser":
      throw invalid(ctx, req, "the token's user does not exist", checked.user);
    case "stalePassword":
      throw invalid(
        ctx,
        req,
        "the token predates the user's current password (or the user was re-created)",
        checked.user,
      );
  }
}

function invalid(ctx: ServerContext, req: IncomingMessage, why: string, user?: string): HttpError {
  logFailure(ctx.auth, req, why, user);
  return new HttpError(401, "invalid_token", why);
}

/** Logs a failed authentication: who tried from where, never the password or the token. */
export function logFailure(auth: AuthServices, req: IncomingMessage, why: string, user?: string): void {
  auth.log?.warn(
    { source: sourceOf(req), url: req.url, ...(user === undefined ? {} : { user }) },
    `authentication failed: ${why}`,
  );
}

/** A verified client certificate's subject CN, as etcd takes it for the user (on a TLS client port with a CA). */
function certificateUser(req: IncomingMessage): string | undefined {
  const socket = req.socket;
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined;
  const cn = (socket.getPeerCertificate() as { subject?: { CN?: unknown } } | undefined)?.subject?.CN;
  return typeof cn === "string" && cn.length > 0 ? cn : undefined;
}

/** Whether `principal` may read every key of `span` now (always while auth is off); each protocol words the refusal. */
export function mayRead(ctx: ServerContext, principal: string, span: KeySpan): boolean {
  const auth = ctx.kv.auth;
  return !auth.enabled() || (principal !== noUser && auth.allowed(principal, "read", span));
}

/** A 403 unless `principal` may read every key of `span` (checked after the read barrier: revokes before it count). */
export function requireRead(ctx: ServerContext, principal: string, span: KeySpan): void {
  if (!mayRead(ctx, principal, span))
    throw forbidden(`${principal === noUser ? "this request" : principal} may not read these keys`);
}

/** A 403 unless the command's principal may run it now; the store checks again when it applies it. */
export function requirePermitted(ctx: ServerContext, command: KvCommand): void {
  if (!ctx.kv.permitted(command)) throw lacksPermission();
}

export function lacksPermission(): HttpError {
  return forbidden("the user lacks a permission this request needs");
}
