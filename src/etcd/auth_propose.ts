/** Proposing an auth change for an etcd call: raftkv's refusals as etcd's errors. */
import { GrpcError, Status } from "../grpc/status.js";
import type { AuthCommand, AuthRefusal } from "../kv/index.js";
import { changeAuth, type AuthChange } from "../server/auth_propose.js";
import type { ServerContext } from "../server/context.js";
import type { EtcdCall } from "./auth_identity.js";
import { etcdError, nodeErrorToGrpc, type EtcdErrorName } from "./errors.js";
import { header } from "./header.js";
import type { ResponseHeader } from "./messages/kv.js";

const refusals: Readonly<Record<Exclude<AuthRefusal, "tooMany">, EtcdErrorName>> = {
  userExists: "userExists",
  userNotFound: "userNotFound",
  roleExists: "roleExists",
  roleNotFound: "roleNotFound",
  permissionNotFound: "permissionNotGranted",
  // etcd's answer to removing root (or root's root role) while auth is on.
  rootRequired: "invalidAuthMgmt",
  noRootUser: "rootUserNotExist",
};

/**
 * Proposes `command` as the call's principal and answers the header of the state after it. `roleNotFound` answers what
 * etcd says in its place for this call (a revoke of a role the user does not hold).
 */
export async function proposeAuth(
  ctx: ServerContext,
  call: EtcdCall,
  command: AuthCommand,
  roleNotFound: EtcdErrorName = "roleNotFound",
): Promise<{ header: ResponseHeader }> {
  let change: AuthChange;
  try {
    change = await changeAuth(ctx, call.principal, command);
  } catch (error) {
    throw nodeErrorToGrpc(error);
  }
  switch (change.type) {
    case "changed":
      return { header: header(ctx) };
    case "invalid":
      throw new GrpcError(Status.INVALID_ARGUMENT, change.problem);
    case "permissionDenied":
      throw etcdError("permissionDenied");
    case "refused":
      if (change.reason === "tooMany")
        throw new GrpcError(
          Status.FAILED_PRECONDITION,
          "raftkv: a limit on users, roles, roles per user or permissions per role was reached",
        );
      throw etcdError(change.reason === "roleNotFound" ? roleNotFound : refusals[change.reason]);
  }
}

/** Waits until this member has applied everything committed when the call arrived. */
export async function linearizable(ctx: ServerContext): Promise<void> {
  try {
    await ctx.node.raft.readBarrier("linearizable");
  } catch (error) {
    throw nodeErrorToGrpc(error);
  }
}
