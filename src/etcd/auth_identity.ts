/**
 * Who an etcd call acts as (docs/auth.md, "etcd's gRPC API"): every call goes through `authorizeCall`
 * before its handler runs. While auth is off the principal is `noUser` and nothing is checked; once
 * it is on, a call names its user by the metadata `token` (or `authorization`, as etcd's gateway
 * sends it) holding a token from Authenticate, or by the subject CN of a verified client
 * certificate, and the call's access level (below) is enforced. Key permissions are the handlers'
 * part: they put `call.principal` into the command they propose, which the store checks when it
 * applies it, as the HTTP routes do.
 */
import type { CallContext } from "../grpc/call.js";
import { noUser, type KeySpan } from "../kv/index.js";
import type { ServerContext } from "../server/context.js";
import { mayRead } from "../server/auth_gate.js";
import { tokenUser } from "../server/auth_token_user.js";
import { etcdError } from "./errors.js";

/** A call with the principal it acts as: `noUser` while auth is off, else an existing user's name. */
export interface EtcdCall extends CallContext {
  readonly principal: string;
}

/**
 * What a call asks of its caller once auth is on: nothing ("open"), a valid identity ("user": the
 * handler checks key permissions), or the root role ("root"), as the HTTP routes of docs/auth.md.
 */
type CallAccess = "open" | "user" | "root";

const callAccess: Readonly<Record<string, CallAccess>> = {
  "/etcdserverpb.KV/Compact": "root",
  "/etcdserverpb.Cluster/MemberAdd": "root",
  "/etcdserverpb.Cluster/MemberRemove": "root",
  "/etcdserverpb.Cluster/MemberUpdate": "root",
  "/etcdserverpb.Cluster/MemberPromote": "root",
  "/etcdserverpb.Maintenance/MoveLeader": "root",
  "/etcdserverpb.Maintenance/Defragment": "root",
  "/etcdserverpb.Maintenance/Hash": "root",
  "/etcdserverpb.Maintenance/HashKV": "root",
  "/etcdserverpb.Maintenance/Snapshot": "root",
  "/etcdserverpb.Maintenance/Downgrade": "root",
  "/etcdserverpb.Auth/Authenticate": "open",
  "/etcdserverpb.Auth/AuthStatus": "open",
  // A user may read its own record: the handler checks root-or-self.
  "/etcdserverpb.Auth/UserGet": "user",
};

/** Calls of the Auth service not listed above are management: root's. */
function accessOf(path: string): CallAccess {
  return callAccess[path] ?? (path.startsWith("/etcdserverpb.Auth/") ? "root" : "user");
}

/**
 * The call as its principal, or etcd's refusal: `user name is empty` (INVALID_ARGUMENT) without an
 * identity, `invalid auth token` (UNAUTHENTICATED) for a token that is forged, expired or void (the
 * client re-authenticates), `permission denied` for a certificate naming no user or a call needing
 * root from a user without it.
 */
export function authorizeCall(ctx: ServerContext, path: string, call: CallContext): EtcdCall {
  const auth = ctx.kv.auth;
  const access = accessOf(path);
  if (access === "open" || !auth.enabled()) return { ...call, principal: noUser };
  const user = identify(ctx, call);
  if (access === "root" && !auth.isRoot(user)) throw etcdError("permissionDenied");
  return { ...call, principal: user };
}

function identify(ctx: ServerContext, call: CallContext): string {
  const auth = ctx.kv.auth;
  const token = tokenOf(call);
  if (token === undefined) {
    const user = certificateUser(call);
    if (user === undefined) throw etcdError("userEmpty");
    if (auth.user(user) === undefined) {
      logFailure(ctx, call, "the client certificate names no user", user);
      throw etcdError("permissionDenied");
    }
    return user;
  }
  const checked = tokenUser(ctx, token);
  if (checked.ok) return checked.user;
  // An expired token is routine (the client authenticates again); a forged or void one is worth a line.
  if (checked.reason === "invalid") logFailure(ctx, call, "the token's signature does not match");
  else if (checked.reason !== "expired")
    logFailure(ctx, call, "the token's user was deleted or its password changed", checked.user);
  throw etcdError("invalidAuthToken");
}

/** etcd's metadata `token`, else `authorization` (bare, or as `Bearer TOKEN`). */
function tokenOf(call: CallContext): string | undefined {
  const token = call.metadata.token ?? call.metadata.authorization;
  if (typeof token !== "string" || token.length === 0) return undefined;
  return token.startsWith("Bearer ") ? token.slice("Bearer ".length) : token;
}

/** A verified client certificate's subject CN, which etcd takes for the user when no token is sent. */
function certificateUser(call: CallContext): string | undefined {
  if (!call.peerVerified) return undefined;
  const cn = (call.peerCertificate() as { subject?: { CN?: unknown } } | undefined)?.subject?.CN;
  return typeof cn === "string" && cn.length > 0 ? cn : undefined;
}

/** A failed authentication at warn: who tried from where, never the token. */
export function logFailure(ctx: ServerContext, call: CallContext, why: string, user?: string): void {
  ctx.auth.log?.warn(
    { source: call.remoteAddress ?? "unknown", call: call.path, ...(user === undefined ? {} : { user }) },
    `authentication failed: ${why}`,
  );
}

/** etcd's `permission denied` unless `principal` may read every key of `span` (call it after the read barrier). */
export function requireRead(ctx: ServerContext, principal: string, span: KeySpan): void {
  if (!mayRead(ctx, principal, span)) throw etcdError("permissionDenied");
}
