/**
 * A follower's way to the leader's etcd API, for the calls only the leader serves (lease grant,
 * keepalive and time-to-live, as raftkv's HTTP routes forward them): one HTTP/2 session to the
 * leader's client port, kept while it leads. A call is forwarded at most once, so a stale view
 * of who leads cannot loop.
 */
import { GrpcClient } from "../grpc/client.js";
import type { CallContext } from "../grpc/call.js";
import type { MessageCodec } from "../grpc/framing.js";
import { Status } from "../grpc/status.js";
import type { ServerContext } from "../server/context.js";
import { etcdError } from "./errors.js";

const forwardedKey = "raftkv-forwarded";
/** A forwarded call that hears nothing in this long fails, so a client's call never hangs on a lost leader. */
const forwardTimeoutMs = 10_000;

interface Link {
  readonly address: string;
  readonly client: GrpcClient;
}

const links = new WeakMap<ServerContext, Link>();

/** Whether the call came from another member: a member that does not lead then refuses it. */
function wasForwarded(call: CallContext): boolean {
  return call.metadata[forwardedKey] !== undefined;
}

function leaderClient(ctx: ServerContext, call: CallContext): GrpcClient {
  if (wasForwarded(call)) throw etcdError("noLeader");
  const leader = ctx.node.raft.status().leader;
  const address = leader === 0 ? undefined : ctx.node.clientAddressOf(leader);
  if (address === undefined) throw etcdError("noLeader");
  const link = links.get(ctx);
  if (link !== undefined && link.address === address && !link.client.session.closed && !link.client.session.destroyed)
    return link.client;
  if (link !== undefined) void link.client.close();
  const tls = ctx.forwarder.tls;
  const ca = tls?.material.ca;
  const client = new GrpcClient(`${tls === undefined ? "http" : "https"}://${address}`, ca === undefined ? {} : { ca });
  // The member's own life decides when it exits, not a session to the leader.
  client.session.unref();
  links.set(ctx, { address, client });
  return client;
}

/** The unary call, as the leader answers it. */
export function forwardUnary<Q, R>(
  ctx: ServerContext,
  call: CallContext,
  req: MessageCodec<Q>,
  res: MessageCodec<R>,
  request: Q,
): Promise<R> {
  const client = leaderClient(ctx, call);
  return client.unary(call.path, req, res, request, {
    metadata: { [forwardedKey]: ctx.node.name },
    timeoutMs: forwardTimeoutMs,
  });
}

/** One request of a streaming call (a lease keepalive), as the leader answers it on a stream of its own. */
export async function forwardOne<Q, R>(
  ctx: ServerContext,
  call: CallContext,
  req: MessageCodec<Q>,
  res: MessageCodec<R>,
  request: Q,
): Promise<R> {
  const client = leaderClient(ctx, call);
  const forwarded = client.bidi(call.path, req, res, {
    metadata: { [forwardedKey]: ctx.node.name },
    timeoutMs: forwardTimeoutMs,
  });
  forwarded.write(request);
  try {
    for await (const response of forwarded) return response;
  } finally {
    forwarded.cancel();
  }
  const status = await forwarded.status;
  throw status.code === Status.OK ? etcdError("noLeader") : status;
}
