/**
 * Calls only the leader may serve (membership changes), made on a follower, are passed on to the
 * leader's client port as the same gRPC call: etcd's clients may send them to any member. Once
 * only: a member that receives a forwarded call and is not the leader answers etcd's "not leader".
 */
import type { CallContext } from "../grpc/call.js";
import { GrpcClient } from "../grpc/client.js";
import type { ServerContext } from "../server/context.js";
import { codecOf } from "./codecs.js";
import { etcdError } from "./errors.js";

const forwardedKey = "raftkv-forwarded";
/** etcd's auth metadata travels with the call so the leader decides with the caller's identity. */
const passedOn = ["token", "authorization"] as const;
const forwardTimeoutMs = 20_000;

export function isLeader(ctx: ServerContext): boolean {
  return ctx.node.raft.status().role === "leader";
}

/**
 * The leader's answer to this call. Over TLS the leader is reached over https and verified with this
 * member's client CA, as raftkv's HTTP forwarding does (docs/security.md); the caller's identity
 * travels as its token.
 */
export async function callLeader<R>(
  ctx: ServerContext,
  call: CallContext,
  names: { request: string; response: string },
  request: unknown,
): Promise<R> {
  const leader = ctx.node.raft.status().leader;
  if (leader === 0) throw etcdError("noLeader");
  const address = ctx.node.clientAddressOf(leader);
  if (call.metadata[forwardedKey] !== undefined || address === undefined) throw etcdError("notLeader");
  const metadata: Record<string, string> = { [forwardedKey]: ctx.node.name };
  for (const key of passedOn) {
    const value = call.metadata[key];
    if (typeof value === "string") metadata[key] = value;
  }
  const tls = ctx.forwarder.tls;
  const ca = tls?.material.ca;
  const client =
    tls === undefined
      ? new GrpcClient(`http://${address}`)
      : new GrpcClient(`https://${address}`, ca === undefined ? {} : { ca });
  try {
    return await client.unary(call.path, codecOf<unknown>(names.request), codecOf<R>(names.response), request, {
      metadata,
      timeoutMs: forwardTimeoutMs,
    });
  } finally {
    void client.close();
  }
}
