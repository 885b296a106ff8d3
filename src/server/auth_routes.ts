import { randomBytes } from "node:crypto";
import { rootName, tokenKeyBytes } from "../kv/index.js";
import { logFailure, sourceOf } from "./auth_gate.js";
import { authenticateUser, type Authentication } from "./auth_password.js";
import { proposeAuth } from "./auth_propose.js";
import type { Request, ServerContext } from "./context.js";
import { HttpError, readJson, sendJson } from "./http_util.js";
import { nodeErrorToHttp } from "./kv_routes.js";

const authenticateBodyBytesMax = 4096;

/** GET /v1/auth/status: open, from this member's applied state. */
export function authStatus(ctx: ServerContext, request: Request): void {
  sendJson(request.res, 200, { enabled: ctx.kv.auth.enabled(), revision: ctx.kv.auth.revision() });
}

/** POST /v1/auth/authenticate {"name","password"} → {"token","expiresAt"}, at any member (auth_password.ts). */
export async function authenticate(ctx: ServerContext, request: Request): Promise<void> {
  const { req, res } = request;
  const source = sourceOf(req);
  const retryAfter = ctx.auth.limiter.retryAfterSeconds(source);
  if (retryAfter > 0) {
    res.setHeader("retry-after", String(retryAfter));
    throw new HttpError(429, "too_many_attempts", `too many failed authentications from ${source}; retry later`);
  }
  const body = await readJson(req, authenticateBodyBytesMax);
  const { name, password } = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  if (typeof name !== "string" || typeof password !== "string")
    throw new HttpError(400, "bad_request", 'the body must be {"name": USER, "password": PASSWORD}');
  let outcome: Authentication;
  try {
    outcome = await authenticateUser(ctx, source, name, password);
  } catch (error) {
    throw nodeErrorToHttp(error);
  }
  if (outcome.type === "authNotEnabled")
    throw new HttpError(409, "auth_not_enabled", "auth is not enabled: no token is needed");
  if (outcome.type === "failed") {
    logFailure(ctx.auth, req, "wrong name or password", name);
    throw new HttpError(401, "authentication_failed", "wrong name or password");
  }
  sendJson(res, 200, { token: outcome.token, expiresAt: outcome.expiresAt });
}

/** POST /v1/auth/enable: a fresh token key, carried in the entry so that every member signs alike. */
export async function enableAuth(ctx: ServerContext, request: Request): Promise<void> {
  if (ctx.kv.auth.user(rootName) === undefined && !ctx.kv.auth.enabled())
    throw new HttpError(409, "no_root_user", "add user root before enabling auth");
  await proposeAuth(ctx, request, { type: "authEnable", tokenKey: new Uint8Array(randomBytes(tokenKeyBytes)) });
}

/** POST /v1/auth/disable. */
export async function disableAuth(ctx: ServerContext, request: Request): Promise<void> {
  await proposeAuth(ctx, request, { type: "authDisable" });
}
