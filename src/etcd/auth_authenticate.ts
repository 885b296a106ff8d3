/**
 * etcd's Authenticate: raftkv's token (docs/auth.md, "Passwords and tokens"), which etcd's clients
 * send back as the metadata `token`. Failures are rate-limited per source address and logged as the
 * HTTP route's are.
 */
import { GrpcError, Status } from "../grpc/status.js";
import { authenticateUser, type Authentication } from "../server/auth_password.js";
import type { ServerContext } from "../server/context.js";
import { logFailure, type EtcdCall } from "./auth_identity.js";
import { etcdError, nodeErrorToGrpc } from "./errors.js";
import { header } from "./header.js";
import type { AuthenticateRequest, AuthenticateResponse } from "./messages/auth.js";

/** At any member: see src/server/auth_password.ts. */
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
  let outcome: Authentication;
  try {
    outcome = await authenticateUser(ctx, source, request.name, request.password);
  } catch (error) {
    throw nodeErrorToGrpc(error);
  }
  if (outcome.type === "authNotEnabled") throw etcdError("authNotEnabled");
  if (outcome.type === "failed") {
    logFailure(ctx, call, "wrong name or password", request.name);
    throw etcdError("authFailed");
  }
  return { header: header(ctx), token: outcome.token };
}
