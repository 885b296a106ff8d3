/**
 * A lease keepalive made on a follower, renewed on the leader: etcd's clients may keep a lease
 * alive through any member. Passed on as leader_call.ts passes unary calls, each request on a
 * keepalive stream of its own over the member's one session to the leader.
 */
import type { EtcdCall } from "./auth_identity.js";
import { Status } from "../grpc/status.js";
import type { ServerContext } from "../server/context.js";
import { codecOf } from "./codecs.js";
import { etcdError } from "./errors.js";
import { leaderRoute } from "./leader_call.js";
import type { LeaseKeepAliveRequest, LeaseKeepAliveResponse } from "./messages/lease.js";

export async function keepAliveOnLeader(
  ctx: ServerContext,
  call: EtcdCall,
  request: LeaseKeepAliveRequest,
): Promise<LeaseKeepAliveResponse> {
  const { client, options } = leaderRoute(ctx, call);
  const forwarded = client.bidi(
    call.path,
    codecOf<LeaseKeepAliveRequest>("LeaseKeepAliveRequest"),
    codecOf<LeaseKeepAliveResponse>("LeaseKeepAliveResponse"),
    options,
  );
  try {
    forwarded.write(request);
    for await (const response of forwarded) return response;
    const status = await forwarded.status;
    throw status.code === Status.OK ? etcdError("noLeader") : status;
  } finally {
    forwarded.cancel();
  }
}
