import type { NodeId } from "../raft/index.js";
import type { SimCluster } from "./cluster.js";
import { membersOf } from "./leaders.js";
import type { LeaseChecks, LeaseRecord, LeaseRules } from "./lease_checks.js";

/**
 * docs/coordination.md, "Bound on lingering keys", after the heal: with `leader` stable, a lease
 * nobody renews is revoked, and its keys are gone from every running member of the leader's
 * configuration, by
 *
 *   max(the latest lessor promotion, its grant, the last keepalive of it arriving anywhere or answered)
 *     + (TTL + election timeout + 2 expiry check intervals) / (1 − clock drift)
 *     + (leases alive − 1) / revokesPerSecond / (1 − clock drift)
 *     + the commit bound (the revoke proposed, committed and applied everywhere).
 *
 * The promotion gives each lease at most its TTL plus an election timeout; the lessor notices it
 * leads, and then the deadline, each within a check interval; the rate limit's queue may hold
 * every other lease before it.
 */
export async function checkLingering(
  cluster: SimCluster,
  checks: LeaseChecks,
  rules: LeaseRules,
  leader: NodeId,
): Promise<void> {
  const members = [...membersOf(cluster, leader)].filter((id) => cluster.kv(id) !== undefined);
  // A member's revoke deletes the lease's keys with it (LeaseChecks checks that as it applies).
  const gone = (lease: LeaseRecord): boolean =>
    members.every((id) => cluster.kv(id)?.leaseInfo(lease.id) === undefined);
  const pending = [...checks.leases.values()].filter((lease) => !lease.renewed && !gone(lease));
  // Any lease may come due meanwhile (a client that renews may still miss its deadline) and take a token.
  const alive = [...checks.leases.values()].filter((lease) => lease.revokedAt === undefined).length;
  if (pending.length === 0) return;
  const drift = 1 - rules.clockDrift;
  const promotion = (): number => Math.max(cluster.now, ...cluster.ids.map((id) => checks.promotedAt(id) ?? 0));
  const bound = (lease: LeaseRecord, promotedAt: number): number =>
    Math.max(promotedAt, lease.grantedAt, lease.lastArrival, lease.lastAck ?? 0) +
    (lease.ttlSeconds * 1000 + rules.electionTimeoutMs + 2 * rules.checkIntervalMs) / drift +
    ((alive - 1) * 1000) / rules.revokesPerSecond / drift +
    rules.commitBoundMs;
  // The leader's lessor may notice it leads only at its next check.
  const expected = promotion() + rules.checkIntervalMs / drift;
  const deadline = Math.max(...pending.map((lease) => bound(lease, expected)));
  const goneAt = new Map<number, number>();
  const allGone = (): boolean => {
    for (const lease of pending) if (!goneAt.has(lease.id) && gone(lease)) goneAt.set(lease.id, cluster.now);
    return goneAt.size === pending.length;
  };
  cluster.trace(
    undefined,
    `leases nobody renews: ${pending.map((l) => l.id).join(", ")}; all gone by t=${deadline.toFixed(0)}`,
  );
  const latestPromotion = (): number => Math.max(...cluster.ids.map((id) => checks.promotedAt(id) ?? 0));
  let waitedFrom = latestPromotion();
  await cluster.runUntil(deadline, allGone);
  // A leader that took over meanwhile (ZAB hands over when an epoch's zxids run out) restarts the clock.
  while (!allGone() && cluster.checker.violations.length === 0 && latestPromotion() > waitedFrom) {
    waitedFrom = latestPromotion();
    const expectedAgain = waitedFrom + rules.checkIntervalMs / drift;
    await cluster.runUntil(Math.max(...pending.map((lease) => bound(lease, expectedAgain))), allGone);
  }
  if (cluster.checker.violations.length > 0) return;
  const promotedAt = latestPromotion();
  for (const lease of pending) {
    const due = bound(lease, promotedAt);
    const at = goneAt.get(lease.id);
    if (at !== undefined && at <= due) continue;
    cluster.checker.fail(
      "lease",
      `lease ${lease.id} (TTL ${lease.ttlSeconds}s, granted at t=${lease.grantedAt.toFixed(0)}, last keepalive at t=${lease.lastArrival.toFixed(0)}, ` +
        `last answered at t=${lease.lastAck?.toFixed(0) ?? "never"}, ` +
        `leader ${cluster.nameOf(leader)} leading since t=${promotedAt.toFixed(0)}) ${at === undefined ? "still held" : `was gone only at t=${at.toFixed(0)}`}; ` +
        `its keys must be gone by t=${due.toFixed(0)}`,
    );
    return;
  }
}
