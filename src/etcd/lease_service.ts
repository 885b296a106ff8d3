/**
 * etcd's Lease service on raftkv's lessor (src/coord): grant, keepalive and time-to-live are the
 * leader's, so a follower forwards them (leader_link.ts), as raftkv's HTTP routes do; revoke and
 * the list are served by any member. Lease ids are raftkv's: positive safe integers.
 */
import { LeaseError } from "../coord/index.js";
import type { CallContext, StreamWriter } from "../grpc/call.js";
import type { EtcdCall } from "./auth_identity.js";
import { GrpcError, Status } from "../grpc/status.js";
import { checkLeaseId, leaseTtlSecondsMax } from "../kv/index.js";
import { NodeRequestError } from "../node/index.js";
import type { ServerContext } from "../server/context.js";
import { etcdError, nodeErrorToGrpc } from "./errors.js";
import { header } from "./header.js";
import { callLeader } from "./leader_call.js";
import { keepAliveOnLeader } from "./leader_link.js";
import type {
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from "./messages/lease.js";

function leaseErrorToGrpc(error: unknown): GrpcError {
  if (!(error instanceof LeaseError)) return nodeErrorToGrpc(error);
  switch (error.code) {
    case "leaseNotFound":
      return etcdError("leaseNotFound");
    case "leaseExists":
      return etcdError("leaseExists");
    case "permissionDenied":
      return etcdError("permissionDenied");
  }
}

function isNotLeader(error: unknown): boolean {
  return error instanceof NodeRequestError && error.detail.type === "notLeader";
}

/** Runs a leader-only call here, or on the leader when this member does not lead. */
async function onLeader<R>(
  ctx: ServerContext,
  call: EtcdCall,
  names: readonly [request: string, response: string],
  request: unknown,
  run: () => Promise<R>,
): Promise<R> {
  try {
    return await run();
  } catch (error) {
    if (!isNotLeader(error)) throw leaseErrorToGrpc(error);
  }
  return callLeader<R>(ctx, call, { request: names[0], response: names[1] }, request);
}

/** An id the client gave: 0 is none (the member picks one); raftkv's ids are positive safe integers. */
function requestedId(id: number): number | undefined {
  if (id === 0) return undefined;
  if (checkLeaseId(id) !== undefined)
    throw new GrpcError(Status.INVALID_ARGUMENT, `raftkv's lease ids are 1 to 2^53-1, not ${id}`);
  return id;
}

/** etcd grants a TTL below the minimum (0 and negative ones too) as the minimum, and refuses one above its maximum. */
export async function leaseGrant(
  ctx: ServerContext,
  request: LeaseGrantRequest,
  call: EtcdCall,
): Promise<LeaseGrantResponse> {
  if (request.TTL > leaseTtlSecondsMax) throw etcdError("leaseTtlTooLarge");
  const id = requestedId(request.ID);
  const ttl = Math.max(request.TTL, ctx.lessor.minTtlSeconds);
  return onLeader(ctx, call, ["LeaseGrantRequest", "LeaseGrantResponse"], request, async () => {
    const granted = await ctx.lessor.grant(ttl, id, call.principal);
    return { header: header(ctx), ID: granted.id, TTL: granted.ttlSeconds, error: "" };
  });
}

export async function leaseRevoke(
  ctx: ServerContext,
  request: LeaseRevokeRequest,
  call: EtcdCall,
): Promise<LeaseRevokeResponse> {
  if (checkLeaseId(request.ID) !== undefined) throw etcdError("leaseNotFound");
  try {
    const revoked = await ctx.lessor.revoke(request.ID, call.principal);
    return { header: header(ctx, revoked.revision) };
  } catch (error) {
    throw leaseErrorToGrpc(error);
  }
}

/**
 * etcd answers a lease that is gone with TTL -1 rather than an error; TTL is the whole seconds left
 * by the leader's clock (rounded down, as etcd's).
 */
export async function leaseTimeToLive(
  ctx: ServerContext,
  request: LeaseTimeToLiveRequest,
  call: EtcdCall,
): Promise<LeaseTimeToLiveResponse> {
  const gone = (): LeaseTimeToLiveResponse => ({
    header: header(ctx),
    ID: request.ID,
    TTL: -1,
    grantedTTL: 0,
    keys: [],
  });
  if (checkLeaseId(request.ID) !== undefined) return gone();
  return onLeader(ctx, call, ["LeaseTimeToLiveRequest", "LeaseTimeToLiveResponse"], request, async () => {
    try {
      const lease = await ctx.lessor.timeToLive(request.ID, { keys: request.keys });
      return {
        header: header(ctx),
        ID: request.ID,
        TTL: Math.floor(lease.remainingMs / 1000),
        grantedTTL: lease.ttlSeconds,
        keys: [...(lease.keys ?? [])],
      };
    } catch (error) {
      if (error instanceof LeaseError && error.code === "leaseNotFound") return gone();
      throw error;
    }
  });
}

export async function leaseLeases(
  ctx: ServerContext,
  _request: unknown,
  _call: CallContext,
): Promise<LeaseLeasesResponse> {
  try {
    const leases = await ctx.lessor.leases();
    return { header: header(ctx), leases: leases.map((lease) => ({ ID: lease.id })) };
  } catch (error) {
    throw nodeErrorToGrpc(error);
  }
}

/**
 * etcd's keepalive stream: each request answered in order with the lease's TTL once renewed, or
 * TTL 0 for a lease that is gone (as etcd). A member that does not lead renews through the leader.
 */
export async function leaseKeepAlive(
  ctx: ServerContext,
  requests: AsyncIterable<LeaseKeepAliveRequest>,
  out: StreamWriter<LeaseKeepAliveResponse>,
  call: EtcdCall,
): Promise<void> {
  for await (const request of requests) await out.write(await keepAliveOne(ctx, request, call));
}

async function keepAliveOne(
  ctx: ServerContext,
  request: LeaseKeepAliveRequest,
  call: EtcdCall,
): Promise<LeaseKeepAliveResponse> {
  const gone = (): LeaseKeepAliveResponse => ({ header: header(ctx), ID: request.ID, TTL: 0 });
  if (checkLeaseId(request.ID) !== undefined) return gone();
  try {
    const renewed = await ctx.lessor.keepAlive(request.ID);
    return { header: header(ctx), ID: request.ID, TTL: renewed.ttlSeconds };
  } catch (error) {
    if (error instanceof LeaseError && error.code === "leaseNotFound") return gone();
    if (!isNotLeader(error)) throw leaseErrorToGrpc(error);
  }
  return keepAliveOnLeader(ctx, call, request);
}
