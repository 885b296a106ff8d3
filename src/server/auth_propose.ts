import { encodeCommand, validateCommand, type AuthCommand, type AuthRefusal, type KvResult } from "../kv/index.js";
import { forbidden, requirePermitted } from "./auth_gate.js";
import type { Request, ServerContext } from "./context.js";
import { HttpError, sendJson } from "./http_util.js";
import { nodeErrorToHttp } from "./kv_routes.js";

const refusals: Readonly<Record<AuthRefusal, readonly [number, string, string]>> = {
  userExists: [409, "user_exists", "the user exists already"],
  userNotFound: [404, "user_not_found", "no such user"],
  roleExists: [409, "role_exists", "the role exists already"],
  roleNotFound: [404, "role_not_found", "no such role (or the user does not hold it)"],
  permissionNotFound: [404, "permission_not_found", "the role has no permission on that key or prefix"],
  rootRequired: [409, "root_required", "user root with role root must stay while auth is enabled"],
  noRootUser: [409, "no_root_user", "add user root before enabling auth"],
  tooMany: [409, "too_many", "a limit on users, roles, roles per user or permissions per role was reached"],
};

/**
 * Proposes an auth change as the request's principal, refused early when it may not (the store
 * checks again when it applies it), and answers `{"revision": R}`, the auth revision after it.
 */
export async function proposeAuth(ctx: ServerContext, request: Request, command: AuthCommand): Promise<void> {
  const sent = { ...command, principal: request.principal };
  const problem = validateCommand(sent);
  if (problem !== undefined) throw new HttpError(400, "bad_request", problem);
  requirePermitted(ctx, sent);
  let result: KvResult;
  try {
    result = (await ctx.node.raft.propose(encodeCommand(sent))) as KvResult;
  } catch (error) {
    throw nodeErrorToHttp(error);
  }
  if (result.type === "authChanged") {
    sendJson(request.res, 200, { revision: result.authRevision });
    return;
  }
  if (result.type === "permissionDenied")
    throw forbidden("the user lost a permission this request needs before it was applied");
  if (result.type !== "authRefused") throw new Error(`${command.type} answered ${result.type}`);
  const [status, code, message] = refusals[result.reason];
  throw new HttpError(status, code, message);
}

/** Waits until this member has applied everything committed when the request arrived. */
export async function linearizable(ctx: ServerContext): Promise<void> {
  try {
    await ctx.node.raft.readBarrier("linearizable");
  } catch (error) {
    throw nodeErrorToHttp(error);
  }
}
