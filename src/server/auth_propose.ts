import { encodeCommand, validateCommand, type AuthCommand, type AuthRefusal, type KvResult } from "../kv/index.js";
import { forbidden, lacksPermission } from "./auth_gate.js";
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
 * What an auth change came to, for each protocol to answer in its own terms: applied (with the auth
 * revision after it), malformed, refused for a permission the principal lacks (before proposing, or
 * when the store applied it), or refused by the store.
 */
export type AuthChange =
  | { readonly type: "changed"; readonly authRevision: number }
  | { readonly type: "invalid"; readonly problem: string }
  | { readonly type: "permissionDenied"; readonly when: "before" | "applied" }
  | { readonly type: "refused"; readonly reason: AuthRefusal };

/**
 * Proposes `command` as `principal`, refused early when it may not (the store checks again when it
 * applies it). A failure to commit is thrown as the node raised it.
 */
export async function changeAuth(ctx: ServerContext, principal: string, command: AuthCommand): Promise<AuthChange> {
  const sent = { ...command, principal };
  const problem = validateCommand(sent);
  if (problem !== undefined) return { type: "invalid", problem };
  if (!ctx.kv.permitted(sent)) return { type: "permissionDenied", when: "before" };
  const result = (await ctx.node.raft.propose(encodeCommand(sent))) as KvResult;
  if (result.type === "authChanged") return { type: "changed", authRevision: result.authRevision };
  if (result.type === "permissionDenied") return { type: "permissionDenied", when: "applied" };
  if (result.type !== "authRefused") throw new Error(`${command.type} answered ${result.type}`);
  return { type: "refused", reason: result.reason };
}

/** Proposes an auth change as the request's principal and answers `{"revision": R}`, the auth revision after it. */
export async function proposeAuth(ctx: ServerContext, request: Request, command: AuthCommand): Promise<void> {
  let change: AuthChange;
  try {
    change = await changeAuth(ctx, request.principal, command);
  } catch (error) {
    throw nodeErrorToHttp(error);
  }
  switch (change.type) {
    case "changed":
      sendJson(request.res, 200, { revision: change.authRevision });
      return;
    case "invalid":
      throw new HttpError(400, "bad_request", change.problem);
    case "permissionDenied":
      if (change.when === "before") throw lacksPermission();
      throw forbidden("the user lost a permission this request needs before it was applied");
    case "refused": {
      const [status, code, message] = refusals[change.reason];
      throw new HttpError(status, code, message);
    }
  }
}

/** Waits until this member has applied everything committed when the request arrived. */
export async function linearizable(ctx: ServerContext): Promise<void> {
  try {
    await ctx.node.raft.readBarrier("linearizable");
  } catch (error) {
    throw nodeErrorToHttp(error);
  }
}
