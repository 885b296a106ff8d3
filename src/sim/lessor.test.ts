/**
 * The lessor beside the real node in the simulator (docs/coordination.md, "How expiry is decided"):
 * expiry, what a new leader owes the leases it inherits, checkpoints, the revoke rate limit, and a
 * stall of the leader's own loop. Times are virtual: every bound below is exact, not a hope.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LeaseError, minimumTtlSeconds } from "../coord/index.js";
import type { KvEvent } from "../kv/index.js";
import { NodeRequestError } from "../node/index.js";
import type { NodeId } from "../raft/index.js";
import { electionTimeoutMs, LessorCluster, Renewer } from "./lessor_cluster.test.helper.js";

/** The lessor's default expiry check interval: an expiry is proposed at most this long after its deadline. */
const checkIntervalMs = 100;
/** Proposing, committing and applying one entry on a healthy simulated network takes less than this. */
const commitMs = 50;

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const leaseError =
  (code: LeaseError["code"]) =>
  (error: unknown): boolean =>
    error instanceof LeaseError && error.code === code;

test("a lease lives while renewed; once not, its revoke deletes its keys at one revision", async () => {
  const lc = await LessorCluster.start({ seed: 11 });
  const { leader } = lc;
  const follower = lc.cluster.ids.find((id) => id !== leader)!;
  const { id, ttlSeconds } = await lc.on(leader, (lessor) => lessor.grant(2));
  assert.equal(ttlSeconds, 2);
  for (const key of ["lease/a", "lease/b", "lease/c"]) {
    const put = await lc.propose(follower, { type: "put", key: bytes(key), value: bytes("v"), lease: id });
    assert.equal(put.type, "put");
  }
  await assert.rejects(
    lc.on(follower, (lessor) => lessor.keepAlive(id)),
    (error) => error instanceof NodeRequestError && error.detail.type === "notLeader",
    "a follower refuses, for the caller to forward",
  );
  const changes: (readonly KvEvent[])[] = [];
  lc.cluster.kv(follower)!.listen({ revision: (_revision, events) => changes.push(events) });

  const renewer = new Renewer(lc, id, 500);
  await lc.runUntil(lc.now + 6000);
  renewer.stop();
  assert.deepEqual(renewer.failures, []);
  assert.ok(renewer.acks.length >= 10, `renewed ${renewer.acks.length} times`);
  assert.equal(lc.revokedAt.has(id), false, "renewed for three TTLs, the lease lived");

  const lastAck = renewer.acks.at(-1)!;
  await lc.runUntil(lastAck + 5000, () => lc.revokedAt.has(id));
  const revokedAt = lc.revokedAt.get(id);
  assert.ok(revokedAt !== undefined, "unrenewed, the lease expired");
  assert.ok(revokedAt >= lastAck + 2000, `revoked ${revokedAt - lastAck} ms after the last keepalive, before its TTL`);
  assert.ok(revokedAt <= lastAck + 2000 + checkIntervalMs + commitMs, `revoked ${revokedAt - lastAck} ms after it`);

  await lc.runUntil(lc.now + commitMs);
  for (const member of lc.cluster.liveIds()) {
    const kv = lc.cluster.kv(member)!;
    assert.equal(kv.leaseInfo(id), undefined);
    for (const key of ["lease/a", "lease/b", "lease/c"]) assert.equal(kv.get(bytes(key)), null);
  }
  const deletions = changes.filter((events) => events.some((event) => event.type === "delete"));
  assert.deepEqual(
    deletions.map((events) => events.map((event) => event.type)),
    [["delete", "delete", "delete"]],
    "the keys went at one revision",
  );

  await assert.rejects(
    lc.on(leader, (lessor) => lessor.keepAlive(id)),
    leaseError("leaseNotFound"),
  );
  await assert.rejects(
    lc.on(follower, (lessor) => lessor.revoke(id)),
    leaseError("leaseNotFound"),
  );
  const put = await lc.propose(leader, { type: "put", key: bytes("lease/d"), value: bytes("v"), lease: id });
  assert.equal(put.type, "leaseNotFound");
});

test("a new leader gives every lease its remaining time and an election timeout before it may expire it", async () => {
  const lc = await LessorCluster.start({ seed: 12 });
  const old = lc.leader;
  const { id } = await lc.on(old, (lessor) => lessor.grant(3));
  await lc.runUntil(lc.now + 500);
  lc.cluster.crash(old, "process");
  await lc.runUntil(lc.now + 5000, () => lc.otherLeader(old) !== undefined);
  const successor = lc.otherLeader(old);
  assert.ok(successor !== undefined, "the others elected a leader");
  const electedAt = lc.now;
  // Asking at once pins the moment its lessor notices it leads (its next check would, within 100 ms).
  const status = await lc.on(successor, (lessor) => lessor.timeToLive(id));
  const owed = 3000 + electionTimeoutMs;
  assert.ok(status.remainingMs >= owed - (lc.now - electedAt) && status.remainingMs <= owed, `${status.remainingMs}`);

  await lc.runUntil(electedAt + 10_000, () => lc.revokedAt.has(id));
  const revokedAt = lc.revokedAt.get(id);
  assert.ok(revokedAt !== undefined, "the new leader expired the lease");
  assert.ok(revokedAt >= electedAt + owed, `revoked ${revokedAt - electedAt} ms after the election`);
  assert.ok(revokedAt <= electedAt + owed + checkIntervalMs + commitMs, `revoked ${revokedAt - electedAt} ms after`);
});

test("an acknowledged keepalive holds across a leader change: it clears the checkpoint a later leader would go by", async () => {
  const lc = await LessorCluster.start({ seed: 13, lessor: { checkpointIntervalMs: 1000 } });
  const old = lc.leader;
  const { id } = await lc.on(old, (lessor) => lessor.grant(5));
  await lc.runUntil(lc.now + 2500);
  const checkpointed = lc.cluster.kv(old)!.leaseInfo(id)?.remainingMs;
  assert.ok(checkpointed !== undefined && checkpointed < 4000, `a checkpoint recorded ${checkpointed} ms left`);

  const renewed = await lc.on(old, (lessor) => lessor.keepAlive(id));
  const ackedAt = lc.now;
  assert.equal(renewed.ttlSeconds, 5);
  lc.cluster.crash(old, "process");
  await lc.runUntil(lc.now + 5000, () => lc.otherLeader(old) !== undefined);
  const successor = lc.otherLeader(old);
  assert.ok(successor !== undefined, "the others elected a leader");

  await lc.runUntil(ackedAt + 30_000, () => lc.revokedAt.has(id));
  assert.equal(lc.cluster.kv(successor)!.leaseInfo(id), undefined);
  const revokedAt = lc.revokedAt.get(id);
  assert.ok(revokedAt !== undefined, "the new leader expired the lease");
  assert.ok(revokedAt >= ackedAt + 5000, `revoked ${revokedAt - ackedAt} ms after an acknowledged 5 s keepalive`);
});

test("a checkpoint survives a failover: a long lease does not get its whole TTL again", async () => {
  const checkpointIntervalMs = 2000;
  const lc = await LessorCluster.start({ seed: 14, lessor: { checkpointIntervalMs } });
  const old = lc.leader;
  const { id } = await lc.on(old, (lessor) => lessor.grant(20));
  const grantedAt = lc.now;
  const crashedAt = grantedAt + 9000;
  await lc.runUntil(crashedAt);
  lc.cluster.crash(old, "process");
  await lc.runUntil(lc.now + 5000, () => lc.otherLeader(old) !== undefined);
  const electedAt = lc.now;

  await lc.runUntil(grantedAt + 40_000, () => lc.revokedAt.has(id));
  const revokedAt = lc.revokedAt.get(id);
  assert.ok(revokedAt !== undefined, "the new leader expired the lease");
  assert.ok(revokedAt >= grantedAt + 20_000, `revoked ${revokedAt - grantedAt} ms after the grant, before its TTL`);
  // The successor counts from the last checkpoint, at most an interval before the crash (and may
  // notice it leads a check later); with the whole TTL again it would wait until electedAt + 20 s.
  const bound =
    grantedAt + 20_000 + (electedAt - crashedAt) + checkpointIntervalMs + electionTimeoutMs + 2 * checkIntervalMs;
  assert.ok(revokedAt <= bound + commitMs, `revoked ${revokedAt - bound} ms after the bound`);
});

test("a mass expiry is spread out: at most revokesPerSecond revokes a second", async () => {
  const lc = await LessorCluster.start({ seed: 15, lessor: { revokesPerSecond: 100 } });
  const ids: number[] = [];
  for (let batch = 0; batch < 10; batch++) {
    const grants = Array.from({ length: 100 }, () => lc.request(lc.leader, (lessor) => lessor.grant(1)));
    for (const { id } of await lc.settle(Promise.all(grants))) ids.push(id);
  }
  assert.equal(new Set(ids).size, 1000);
  await lc.runUntil(lc.now + 20_000, () => ids.every((id) => lc.revokedAt.has(id)));
  assert.ok(
    ids.every((id) => lc.revokedAt.has(id)),
    "every lease expired",
  );
  const times = ids.map((id) => lc.revokedAt.get(id)!).sort((a, b) => a - b);
  const span = times.at(-1)! - times[0]!;
  // 10 revokes a check, every 100 ms: 100 checks.
  assert.ok(span >= 9000 && span <= 10_500, `1000 expiries took ${span} ms at 100 a second`);
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while (times[last]! - times[first]! >= 1000) first++;
    assert.ok(last - first + 1 <= 110, `${last - first + 1} revokes within one second`);
  }
});

test("after a stall of the leader's loop longer than the TTL, the keepalive that waited counts before expiry", async () => {
  const lc = await LessorCluster.start({ seed: 16, nodeCount: 1 });
  const only = lc.leader;
  const { id, ttlSeconds } = await lc.on(only, (lessor) => lessor.grant(minimumTtlSeconds(electionTimeoutMs)));
  const put = await lc.propose(only, { type: "put", key: bytes("held"), value: bytes("v"), lease: id });
  assert.equal(put.type, "put");
  const stallMs = 2.5 * ttlSeconds * 1000;
  const renewer = new Renewer(lc, id, 300);
  let stalledAt: number | undefined;
  // Right after an answer: the expiry check then comes due during the stall before the next keepalive
  // arrives, so when the loop wakes, the check's timer fires first and the keepalive waits behind it.
  renewer.onAck = (at) => {
    if (renewer.acks.length !== 5) return;
    stalledAt = at;
    lc.cluster.stall(only, stallMs);
  };
  await lc.runUntil(lc.now + 1500 + stallMs + 2000);
  renewer.stop();
  assert.ok(stalledAt !== undefined, "the member stalled");
  assert.deepEqual(renewer.failures, []);
  assert.ok(
    renewer.acks.some((at) => at >= stalledAt! + stallMs),
    "keepalives were answered after the stall",
  );
  assert.equal(lc.revokedAt.has(id), false, "the lease outlived the stall");
  assert.notEqual(lc.cluster.kv(only)!.get(bytes("held")), null);

  const lastAck = renewer.acks.at(-1)!;
  await lc.runUntil(lastAck + 5000, () => lc.revokedAt.has(id));
  assert.ok(lc.revokedAt.has(id), "unrenewed, it still expires");
  assert.equal(lc.cluster.kv(only)!.get(bytes("held")), null);
});

test("a grant committed by the next leader while its own leader's loop stalled is refused by the stalled one (found by the sweep)", async () => {
  const lc = await LessorCluster.start({ seed: 17 });
  const old = lc.leader;
  const stallMs = 5 * electionTimeoutMs;
  let outcome: { readonly granted: number } | { readonly error: unknown } | undefined;
  lc.request(old, (lessor) => lessor.grant(2)).then(
    (granted) => (outcome = { granted: granted.id }),
    (error: unknown) => (outcome = { error }),
  );
  // Once the followers hold the entry, the leader stalls: their answers reach it only once it wakes.
  const lastIndex = (id: NodeId): number => lc.cluster.node(id)!.raft.status().lastIndex;
  const before = lastIndex(old);
  const held = (): boolean =>
    lastIndex(old) > before && lc.cluster.liveIds().every((id) => lastIndex(id) >= lastIndex(old));
  await lc.runUntil(lc.now + 1000, held);
  assert.ok(held(), "the followers hold the grant");
  lc.cluster.stall(old, stallMs);
  await lc.runUntil(lc.now + stallMs + 2000, () => outcome !== undefined);
  const successor = lc.otherLeader(old);
  assert.ok(successor !== undefined, "the others elected a leader");
  const leases = lc.cluster.kv(successor)!.leases();
  assert.equal(leases.length, 1, "the successor committed the grant");
  assert.ok(outcome !== undefined && "error" in outcome, `the stalled leader answered ${JSON.stringify(outcome)}`);
  assert.ok(outcome.error instanceof NodeRequestError, String(outcome.error));
});
