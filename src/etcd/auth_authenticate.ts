/**
 * etcd's Authenticate: raftkv's token (docs/auth.md, "Passwords and tokens"), which etcd's clients
 * send back as the metadata `token`. Failures are rate-limited per source address and logged as the
 * HTTP route's are.
 */
import { GrpcError, Status } from "../grpc/status.js";
import type { ServerContext } from "../server/context.js";
import { verifyPassword } from "../server/passwords.js";
import { signToken } from "../server/tokens.js";
import { logFailure, type EtcdCall } from "./auth_identity.js";
import { linearizable } from "./auth_propose.js";
import { etcdError } from "./errors.js";
import { header } from "./header.js";
import type { AuthenticateRequest, AuthenticateResponse } from "./messages/auth.js";

/** After a read barrier, so a user created (or a password set) anywhere before the call can authenticate here. */
export async function authenticate(
  ctx: ServerContext,
  request: AuthenticateRequest,
  call: EtcdCall,
): Promise<AuthenticateResponse> {
  const source = call.remoteAddress ?? "unknown";
  if (ctx.auth.limiter.retryAfterSeconds(source) > 0)
    throw new GrpcError(
      Status.RESOURCE_EXHAUSTED,
      `raftkv: too many failed authentications from ${source}; retry later`,
    );
  await linearizable(ctx);
  const auth = ctx.kv.auth;
  if (!auth.enabled()) throw etcdError("authNotEnabled");
  const { name, password } = request;
  const user = auth.user(name);
  const matched = await verifyPassword(password, user?.password ?? null);
  // The state may have moved during the hash: the password checked must still be the user's.
  const now = auth.user(name);
  if (!matched || !auth.enabled() || now === undefined || now.passwordRevision !== user?.passwordRevision) {
    ctx.auth.limiter.failed(source);
    logFailure(ctx, call, "wrong name or password", name);
    throw etcdError("authFailed");
  }
  const token = signToken(auth.tokenKey()!, {
    user: name,
    rev: auth.revision(),
    exp: ctx.auth.now() + ctx.auth.tokenTtlMs,
  });
  return { header: header(ctx), token };
}
