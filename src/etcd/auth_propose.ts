/** Proposing an auth change for an etcd call: raftkv's refusals as etcd's errors. */
import { GrpcError, Status } from "../grpc/status.js";
import { encodeCommand, validateCommand, type AuthCommand, type AuthRefusal, type KvResult } from "../kv/index.js";
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
 * Proposes `command` as the call's principal, refused early when it may not (the store checks again
 * when it applies it), and answers the header of the state after it. `roleNotFound` answers what
 * etcd says in its place for this call (a revoke of a role the user does not hold).
 */
export async function proposeAuth(
  ctx: ServerContext,
  call: EtcdCall,
  command: AuthCommand,
  roleNotFound: EtcdErrorName = "roleNotFound",
): Promise<{ header: ResponseHeader }> {
  const sent = { ...command, principal: call.principal };
  const problem = validateCommand(sent);
  if (problem !== undefined) throw new GrpcError(Status.INVALID_ARGUMENT, problem);
  if (!ctx.kv.permitted(sent)) throw etcdError("permissionDenied");
  let result: KvResult;
  try {
    result = (await ctx.node.raft.propose(encodeCommand(sent))) as KvResult;
  } catch (error) {
    throw nodeErrorToGrpc(error);
  }
  if (result.type === "authChanged") return { header: header(ctx) };
  if (result.type === "permissionDenied") throw etcdError("permissionDenied");
  if (result.type !== "authRefused") throw new Error(`${command.type} answered ${result.type}`);
  if (result.reason === "tooMany")
    throw new GrpcError(
      Status.FAILED_PRECONDITION,
      "raftkv: a limit on users, roles, roles per user or permissions per role was reached",
    );
  throw etcdError(result.reason === "roleNotFound" ? roleNotFound : refusals[result.reason]);
}

/** Waits until this member has applied everything committed when the call arrived. */
export async function linearizable(ctx: ServerContext): Promise<void> {
  try {
    await ctx.node.raft.readBarrier("linearizable");
  } catch (error) {
    throw nodeErrorToGrpc(error);
  }
}
