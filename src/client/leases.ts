/**
 * Lease and compaction calls (docs/coordination.md, "Leases" and "History and compaction"). They are
 * log entries but not exactly-once KV writes: they carry no session, and a retry after an unknown
 * outcome may act twice — a grant without an id then leaves a spare lease that expires by itself,
 * a revoke may answer 404 for the lease it revoked itself.
 */
import { jsonBody, type Caller } from "./caller.js";
import { decodeCompact, decodeLease, decodeLeaseRevoke, decodeLeases, decodeLeaseTimeToLive } from "./codec.js";
import type { CompactResult, Lease, LeaseRevokeResult, LeaseTimeToLive } from "./types.js";

/** docs/coordination.md: a TTL is a whole number of seconds up to this; an id a positive integer below 2^53. */
const ttlSecondsMax = 9_000_000_000;

export function checkLeaseId(id: number): number {
  if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`a lease id is a positive integer, got ${id}`);
  return id;
}

function checkTtl(ttlSeconds: number): number {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > ttlSecondsMax) {
    throw new RangeError(`a lease TTL is a whole number of seconds from 1 to ${ttlSecondsMax}, got ${ttlSeconds}`);
  }
  return ttlSeconds;
}

export function leaseGrant(caller: Caller, ttlSeconds: number, options: { id?: number }): Promise<Lease> {
  const request = { ttl: checkTtl(ttlSeconds), ...(options.id === undefined ? {} : { id: checkLeaseId(options.id) }) };
  return caller.json(
    { method: "POST", path: "/v1/lease/grant", ...jsonBody(request), write: true, session: false },
    decodeLease,
  );
}

export function leaseKeepAlive(caller: Caller, id: number): Promise<Lease> {
  return caller.json(
    { method: "POST", path: `/v1/lease/${checkLeaseId(id)}/keepalive`, write: true, session: false },
    decodeLease,
  );
}

export function leaseRevoke(caller: Caller, id: number): Promise<LeaseRevokeResult> {
  return caller.json(
    { method: "POST", path: `/v1/lease/${checkLeaseId(id)}/revoke`, write: true, session: false },
    decodeLeaseRevoke,
  );
}

export function leaseTimeToLive(caller: Caller, id: number, options: { keys?: boolean }): Promise<LeaseTimeToLive> {
  const keys = options.keys === true ? "" : "&keys=false";
  return caller.json(
    { method: "GET", path: `/v1/lease/${checkLeaseId(id)}?encoding=base64${keys}`, write: false },
    decodeLeaseTimeToLive,
  );
}

export function leases(caller: Caller): Promise<Lease[]> {
  return caller.json({ method: "GET", path: "/v1/leases", write: false }, decodeLeases);
}

export function compact(caller: Caller, revision: number): Promise<CompactResult> {
  if (!Number.isSafeInteger(revision) || revision < 1)
    throw new RangeError(`a compaction revision is a positive integer, got ${revision}`);
  return caller.json(
    { method: "POST", path: "/v1/compact", ...jsonBody({ revision }), write: true, session: false },
    decodeCompact,
  );
}
