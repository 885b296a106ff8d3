import { LeaseError } from "../coord/index.js";
import { leaseTtlSecondsMax } from "../kv/index.js";
import { NodeRequestError } from "../node/index.js";
import { forbidden, requirePermitted } from "./auth_gate.js";
import type { Request, ServerContext } from "./context.js";
import { HttpError, readBody, sendJson } from "./http_util.js";
import { nodeErrorToHttp } from "./kv_routes.js";
import { encodingOf, bytesToJson, leaseIdJson, leaseIdOf, leaseNotFound } from "./wire.js";

const grantBodyBytesMax = 4096;
/** Ids one batch keepalive renews: a client holding many leases renews them in a few requests. */
const keepAliveBatchMax = 1000;
const keepAliveBodyBytesMax = keepAliveBatchMax * 20 + 64;

function leaseErrorToHttp(error: unknown): HttpError {
  if (!(error instanceof LeaseError)) return nodeErrorToHttp(error);
  switch (error.code) {
    case "leaseNotFound":
      return leaseNotFound(error.id);
    case "leaseExists":
      return new HttpError(409, "lease_exists", `lease ${error.id} exists already; grant another id or none`);
    case "permissionDenied":
      return forbidden(`a permission lease ${error.id}'s request needs was revoked before it was applied`);
  }
}

/**
 * Runs a request only the leader serves; a follower (the lessor refuses with notLeader) hands it to
 * the leader. `run` starts at once, before anything is awaited: a keepalive counts from its arrival.
 */
async function leaderServed<T>(
  ctx: ServerContext,
  request: Request,
  body: Uint8Array | undefined,
  run: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof NodeRequestError && error.detail.type === "notLeader") {
      await ctx.forwarder.forward(request.req, request.res, body);
      return undefined;
    }
    throw leaseErrorToHttp(error);
  }
}

function parseGrant(body: Uint8Array): { ttl: number; id: number | undefined } {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    throw new HttpError(400, "bad_request", "the body is not valid JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new HttpError(400, "bad_request", 'the body must be {"ttl": S} or {"ttl": S, "id": N}');
  const { ttl, id } = json as Record<string, unknown>;
  if (typeof ttl !== "number" || !Number.isSafeInteger(ttl) || ttl < 1 || ttl > leaseTtlSecondsMax)
    throw new HttpError(400, "bad_request", `ttl must be a whole number of seconds from 1 to ${leaseTtlSecondsMax}`);
  return { ttl, id: id === undefined ? undefined : leaseIdJson(id, "id") };
}

/** POST /v1/lease/grant {"ttl": S, "id"?: N}. */
export async function grantLease(ctx: ServerContext, request: Request): Promise<void> {
  const body = await readBody(request.req, grantBodyBytesMax);
  const { ttl, id } = parseGrant(body);
  const granted = await leaderServed(ctx, request, body, () => ctx.lessor.grant(ttl, id, request.principal));
  if (granted !== undefined) sendJson(request.res, 200, { id: granted.id, ttl: granted.ttlSeconds });
}

/** POST /v1/lease/{id}/keepalive. */
export async function keepAliveLease(ctx: ServerContext, request: Request): Promise<void> {
  const id = leaseIdOf(request.params[0] ?? "", "the lease id");
  const renewed = await leaderServed(ctx, request, undefined, () => ctx.lessor.keepAlive(id));
  if (renewed !== undefined) sendJson(request.res, 200, { id, ttl: renewed.ttlSeconds });
}

function parseIds(body: Uint8Array): number[] {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    throw new HttpError(400, "bad_request", "the body is not valid JSON");
  }
  const ids = typeof json === "object" && json !== null ? (json as { ids?: unknown }).ids : undefined;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > keepAliveBatchMax)
    throw new HttpError(
      400,
      "bad_request",
      `the body must be {"ids": [N, ...]} with 1 to ${keepAliveBatchMax} lease ids`,
    );
  return ids.map((id, i) => leaseIdJson(id, `ids[${i}]`));
}

/**
 * POST /v1/lease/keepalive {"ids": [...]}: renews many leases in one request (their read barriers
 * share one round), answering each id with its TTL or why not.
 */
export async function keepAliveLeases(ctx: ServerContext, request: Request): Promise<void> {
  const body = await readBody(request.req, keepAliveBodyBytesMax);
  const ids = parseIds(body);
  const renewed = await leaderServed(ctx, request, body, () => ctx.lessor.keepAliveMany(ids));
  if (renewed === undefined) return;
  const leases = renewed.map((r, i) =>
    r instanceof LeaseError ? { id: ids[i], error: leaseErrorToHttp(r).code } : { id: r.id, ttl: r.ttlSeconds },
  );
  sendJson(request.res, 200, { leases });
}

/** POST /v1/lease/{id}/revoke: a proposal, so any member serves it. */
export async function revokeLease(ctx: ServerContext, request: Request): Promise<void> {
  const id = leaseIdOf(request.params[0] ?? "", "the lease id");
  requirePermitted(ctx, { type: "leaseRevoke", id, principal: request.principal });
  try {
    const revoked = await ctx.lessor.revoke(id, request.principal);
    sendJson(request.res, 200, { revision: revoked.revision, deleted: revoked.deleted });
  } catch (error) {
    throw leaseErrorToHttp(error);
  }
}

/** GET /v1/lease/{id}[?keys=false]: `remaining` in whole seconds, rounded up, by the leader's clock. */
export async function leaseTimeToLive(ctx: ServerContext, request: Request): Promise<void> {
  const id = leaseIdOf(request.params[0] ?? "", "the lease id");
  const query = request.url.searchParams;
  const keysText = query.get("keys") ?? "true";
  if (keysText !== "true" && keysText !== "false")
    throw new HttpError(400, "bad_request", "keys must be true or false");
  const encoding = encodingOf(query);
  const keys = keysText === "true";
  const lease = await leaderServed(ctx, request, undefined, () => ctx.lessor.timeToLive(id, { keys }));
  if (lease === undefined) return;
  sendJson(request.res, 200, {
    id,
    ttl: lease.ttlSeconds,
    remaining: Math.ceil(lease.remainingMs / 1000),
    ...(lease.keys === undefined ? {} : { keys: lease.keys.map((key) => bytesToJson(key, encoding)) }),
  });
}

/** GET /v1/leases: every lease, as of a linearizable read on this member. */
export async function listLeases(ctx: ServerContext, request: Request): Promise<void> {
  try {
    const leases = await ctx.lessor.leases();
    sendJson(request.res, 200, { leases: leases.map((lease) => ({ id: lease.id, ttl: lease.ttlSeconds })) });
  } catch (error) {
    throw nodeErrorToHttp(error);
  }
}
