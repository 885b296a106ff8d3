/** etcd's Cluster service: MemberList (the changes are in cluster_changes.ts). Member ids are Raft ids, names raftkv's names. */
import type { CallContext } from "../grpc/call.js";
import type { ServerContext } from "../server/context.js";
import { nodeErrorToGrpc } from "./errors.js";
import { header } from "./header.js";
import type { Member, MemberListRequest, MemberListResponse } from "./messages/cluster.js";

export async function memberList(
  ctx: ServerContext,
  request: MemberListRequest,
  call: CallContext,
): Promise<MemberListResponse> {
  if (request.linearizable)
    try {
      await ctx.node.raft.readBarrier("linearizable");
    } catch (error) {
      throw nodeErrorToGrpc(error);
    }
  return { header: header(ctx), members: members(ctx, call.secure) };
}

/**
 * The members as etcd lists them. One this member has never heard from (no client address told) is
 * listed as etcd lists a member added but not started: no name, no client URLs.
 */
export function members(ctx: ServerContext, secure: boolean): Member[] {
  const scheme = secure ? "https" : "http";
  return ctx.node.members().map((m) => {
    const client = ctx.node.clientAddressOf(m.id);
    return {
      ID: m.id,
      name: client === undefined ? "" : m.name,
      peerURLs: [`${scheme}://${m.peerAddr}`],
      clientURLs: client === undefined ? [] : [`${scheme}://${client}`],
      isLearner: m.learner,
    };
  });
}
