/**
 * Calls only the leader may serve (membership changes, lease grants and keepalives), made on a
 * follower, are passed on to the leader's client port as the same gRPC call: etcd's clients may send
 * them to any member. Once only: a member that receives a forwarded call and is not the leader
 * answers etcd's "not leader". Over TLS the leader is reached over https and verified with this
 * member's client CA, as raftkv's HTTP forwarding does (docs/security.md); the caller's identity
 * travels as its token.
 */
import { GrpcClient, type CallOptions } from "../grpc/client.js";
import { forwardingToken } from "../server/auth_gate.js";
import type { ServerContext } from "../server/context.js";
import { noUser } from "../kv/index.js";
import type { EtcdCall } from "./auth_identity.js";
import { codecOf } from "./codecs.js";
import { etcdError } from "./errors.js";

const forwardedKey = "raftkv-forwarded";
/** etcd's auth metadata travels with the call so the leader decides with the caller's identity. */
const passedOn = ["token", "authorization"] as const;
const forwardTimeoutMs = 20_000;

export function isLeader(ctx: ServerContext): boolean {
  return ctx.node.raft.status().role === "leader";
}

interface LeaderSession {
  readonly url: string;
  readonly ca: string | Buffer | undefined;
  readonly client: GrpcClient;
}

/** Each member's one session to the leader, kept while the leader's address and the CA stay the same. */
const sessionIdleMs = 30_000;
const sessions = new WeakMap<ServerContext, LeaderSession>();

function sessionTo(ctx: ServerContext, address: string): GrpcClient {
  const tls = ctx.forwarder.tls;
  const ca = tls?.material.ca;
  const url = `${tls === undefined ? "http" : "https"}://${address}`;
  const held = sessions.get(ctx);
  if (
    held !== undefined &&
    held.url === url &&
    held.ca === ca &&
    !held.client.session.closed &&
    !held.client.session.destroyed
  )
    return held.client;
  if (held !== undefined) void held.client.close();
  const client = new GrpcClient(url, ca === undefined ? {} : { ca });
  // A member stopping does not wait for its link to the leader, and an idle link does not outlive
  // its use by long (the leader's own close ends it too).
  client.session.unref();
  client.session.setTimeout(sessionIdleMs, () => void client.close());
  sessions.set(ctx, { url, ca, client });
  return client;
}

/** The session to the leader and the options that carry this call there, or etcd's refusal. */
export function leaderRoute(ctx: ServerContext, call: EtcdCall): { client: GrpcClient; options: CallOptions } {
  const leader = ctx.node.raft.status().leader;
  if (leader === 0) throw etcdError("noLeader");
  const address = ctx.node.clientAddressOf(leader);
  if (call.metadata[forwardedKey] !== undefined || address === undefined) throw etcdError("notLeader");
  const metadata: Record<string, string> = { [forwardedKey]: ctx.node.name };
  for (const key of passedOn) {
    const value = call.metadata[key];
    if (typeof value === "string") metadata[key] = value;
  }
  // A client certificate's user reaches the leader with no certificate of its own: a token speaks for it.
  if (metadata.token === undefined && metadata.authorization === undefined && call.principal !== noUser)
    metadata.token = forwardingToken(ctx, call.principal);
  return { client: sessionTo(ctx, address), options: { metadata, timeoutMs: forwardTimeoutMs } };
}

/** The leader's answer to this unary call. */
export function callLeader<R>(
  ctx: ServerContext,
  call: EtcdCall,
  names: { request: string; response: string },
  request: unknown,
): Promise<R> {
  const { client, options } = leaderRoute(ctx, call);
  return client.unary(call.path, codecOf<unknown>(names.request), codecOf<R>(names.response), request, options);
}
