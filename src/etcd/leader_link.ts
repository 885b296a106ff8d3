/**
 * A lease keepalive made on a follower, renewed on the leader: etcd's clients may keep a lease
 * alive through any member. Passed on as leader_call.ts passes unary calls (once only, with the
 * caller's auth metadata, over https when the client port has TLS), each request on a keepalive
 * stream of its own to the leader.
 */
import type { CallContext } from "../grpc/call.js";
import { GrpcClient } from "../grpc/client.js";
import { Status } from "../grpc/status.js";
import type { ServerContext } from "../server/context.js";
import { codecOf } from "./codecs.js";
import { etcdError } from "./errors.js";
import type { LeaseKeepAliveRequest, LeaseKeepAliveResponse } from "./messages/lease.js";

const forwardedKey = "raftkv-forwarded";
const passedOn = ["token", "authorization"] as const;
const forwardTimeoutMs = 20_000;

export async function keepAliveOnLeader(
  ctx: ServerContext,
  call: CallContext,
  request: LeaseKeepAliveRequest,
): Promise<LeaseKeepAliveResponse> {
  const leader = ctx.node.raft.status().leader;
  if (leader === 0) throw etcdError("noLeader");
  const address = ctx.node.clientAddressOf(leader);
  if (call.metadata[forwardedKey] !== undefined || address === undefined) throw etcdError("notLeader");
  const metadata: Record<string, string> = { [forwardedKey]: ctx.node.name };
  for (const key of passedOn) {
    const value = call.metadata[key];
    if (typeof value === "string") metadata[key] = value;
  }
  // Over TLS, https verified with this member's client CA, as leader_call.ts.
  const tls = ctx.forwarder.tls;
  const ca = tls?.material.ca;
  const client =
    tls === undefined
      ? new GrpcClient(`http://${address}`)
      : new GrpcClient(`https://${address}`, ca === undefined ? {} : { ca });
  const forwarded = client.bidi(
    call.path,
    codecOf<LeaseKeepAliveRequest>("LeaseKeepAliveRequest"),
    codecOf<LeaseKeepAliveResponse>("LeaseKeepAliveResponse"),
    { metadata, timeoutMs: forwardTimeoutMs },
  );
  try {
    forwarded.write(request);
    for await (const response of forwarded) return response;
    const status = await forwarded.status;
    throw status.code === Status.OK ? etcdError("noLeader") : status;
  } finally {
    forwarded.cancel();
    void client.close();
  }
}
