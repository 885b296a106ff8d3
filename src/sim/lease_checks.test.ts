/**
 * The simulator's lease checks, each shown able to fail: fed a run that breaks its rule on purpose
 * (a fake cluster's applies, a lessor view that lies), and on a steady cluster whose lessors were
 * planted a fault. The sweep's planted bugs (scripts/mutants/list.mjs) show the same from the outside.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Lessor } from "../coord/index.js";
import { encodeCommand, KvStore, type KvCommand, type KvListener, type KvResult } from "../kv/index.js";
import type { NodeId } from "../raft/index.js";
import { utf8 } from "../util/bytes.js";
import { logIndex } from "../util/ids.js";
import { SafetyChecker } from "./checkers.js";
import type { Applied, SimCluster } from "./cluster.js";
import { coordinationCluster, settle } from "./coordination_cluster.test.helper.js";
import { noCoordination } from "./coordination_counts.js";
import { LeaseChecks, type LeaseRules } from "./lease_checks.js";
import { checkLingering } from "./lease_liveness.js";

const n1 = 1 as NodeId;
const rules: LeaseRules = {
  clockDrift: 0.02,
  electionTimeoutMs: 150,
  checkIntervalMs: 100,
  revokesPerSecond: 1000,
  commitBoundMs: 300,
};

/** Just what LeaseChecks uses of a cluster: its time, its checker, and every apply as the test makes it. */
class FakeCluster {
  now = 0;
  readonly checker = new SafetyChecker();
  readonly options = {};
  readonly #listeners: ((applied: Applied) => void)[] = [];

  onApplied(listener: (applied: Applied) => void): void {
    this.#listeners.push(listener);
  }

  nameOf(id: NodeId): string {
    return `n${id}`;
  }

  trace(): void {}

  apply(member: NodeId, kv: KvStore, command: KvCommand): KvResult {
    const bytes = encodeCommand(command);
    const index = kv.appliedIndex() + 1;
    const result = kv.apply(bytes, logIndex(index));
    for (const listener of this.#listeners) listener({ member, index, command: bytes, result, wrote: true });
    return result;
  }
}

function setup(events: Map<number, { type: string; key: string }[]> = new Map()): {
  fake: FakeCluster;
  checks: LeaseChecks;
  kv: KvStore;
} {
  const fake = new FakeCluster();
  const checks = new LeaseChecks({
    cluster: fake as unknown as SimCluster,
    counts: noCoordination(),
    rules,
    eventsAt: (revision) => events.get(revision) ?? [],
  });
  const kv = new KvStore();
  checks.store(n1, kv);
  return { fake, checks, kv };
}

const kinds = (fake: FakeCluster): string[] => fake.checker.violations.map((v) => `${v.kind}: ${v.message}`);

test("an expiry before the last acknowledged keepalive plus the TTL (at the fastest clock) is reported", () => {
  const { fake, checks, kv } = setup();
  for (const id of [7, 8, 9]) fake.apply(n1, kv, { type: "leaseGrant", id, ttlSeconds: 2 });
  fake.now = 1000;
  for (const id of [7, 8, 9]) checks.acked(n1, id, true);
  // Revoked at the client's request before the TTL ran out: not an expiry.
  checks.revokeRequested(9);
  fake.now = 1500;
  fake.apply(n1, kv, { type: "leaseRevoke", id: 9 });
  fake.now = 1000 + 2000 / 1.02;
  fake.apply(n1, kv, { type: "leaseRevoke", id: 8 });
  assert.deepEqual(kinds(fake), []);
  fake.now = 1000 + 2000 / 1.02 - 2;
  fake.apply(n1, kv, { type: "leaseRevoke", id: 7 });
  assert.equal(fake.checker.violations.length, 1);
  assert.match(
    kinds(fake)[0]!,
    /^lease: lease 7 \(TTL 2s\) expired at t=2958\.8, .* before its last acknowledged keepalive at t=1000\.0/,
  );
});

test("a keepalive acknowledged while its lease's checkpoint stands is reported", () => {
  const { fake, checks, kv } = setup();
  fake.apply(n1, kv, { type: "leaseGrant", id: 7, ttlSeconds: 3 });
  checks.acked(n1, 7, true);
  fake.apply(n1, kv, { type: "leaseCheckpoint", checkpoints: [{ id: 7, remainingMs: 1200 }] });
  checks.acked(n1, 7, false);
  assert.deepEqual(kinds(fake), [], "a grant's answer is not a keepalive's");
  checks.acked(n1, 7, true);
  assert.deepEqual(kinds(fake), [
    "lease: n1 acknowledged a keepalive of lease 7 while the store still holds its checkpoint (1200ms left)",
  ]);
});

test("a revoke that keeps a key, or whose revision holds other events, is reported", () => {
  const events = new Map<number, { type: string; key: string }[]>();
  const { fake, kv } = setup(events);
  fake.apply(n1, kv, { type: "leaseGrant", id: 7, ttlSeconds: 3 });
  for (const key of ["l/a", "l/b"]) fake.apply(n1, kv, { type: "put", key: utf8(key), value: utf8("v"), lease: 7 });
  // Revision 3 as a store that splits the revoke would record it: one delete only.
  events.set(3, [{ type: "delete", key: "l/a" }]);
  fake.apply(n1, kv, { type: "leaseRevoke", id: 7 });
  assert.deepEqual(kinds(fake), [
    "lease: n1 revoked lease 7, deleting 2 key(s), but revision 3 holds 1 event(s), 1 of them deletes of its keys",
  ]);

  // A store that tells of the revoke while it still holds a key of the lease.
  const second = setup();
  const held = new KvStore();
  let listener: KvListener | undefined;
  const lying = { listen: (l: KvListener) => (listener = l), get: (key: Uint8Array) => held.get(key) };
  second.checks.store(n1, lying as unknown as KvStore);
  second.fake.apply(n1, held, { type: "leaseGrant", id: 7, ttlSeconds: 3 });
  second.fake.apply(n1, held, { type: "put", key: utf8("l/a"), value: utf8("v"), lease: 7 });
  listener!.leaseRevoked!(7);
  assert.deepEqual(kinds(second.fake), ['lease: n1 revoked lease 7 but kept its key(s) "l/a"']);
});

test("a new leader that gives a lease other than its remaining time plus an election timeout is reported", () => {
  const { fake, checks, kv } = setup();
  fake.apply(n1, kv, { type: "leaseGrant", id: 7, ttlSeconds: 2 });
  fake.apply(n1, kv, { type: "leaseGrant", id: 8, ttlSeconds: 5 });
  fake.apply(n1, kv, { type: "leaseCheckpoint", checkpoints: [{ id: 8, remainingMs: 1200 }] });
  const clock = { now: () => 10_000, after: () => ({ cancel() {} }), every: () => ({ cancel() {} }), soon() {} };
  const view = (deadlines: Record<number, number>) => ({
    lessor: { deadlineOf: (id: number) => deadlines[id] } as unknown as Lessor,
    kv,
    clock,
  });
  checks.promoted(n1, view({ 7: 10_000 + 2000 + 150, 8: 10_000 + 1200 + 150 }), 4);
  assert.deepEqual(kinds(fake), []);
  checks.promoted(n1, view({ 7: 10_000 + 2000 + 150, 8: 10_000 + 5000 + 150 }), 5);
  checks.promoted(n1, view({ 7: 10_000 + 2000, 8: 10_000 + 1200 + 150 }), 6);
  assert.deepEqual(kinds(fake), [
    "lease: n1 became leader in term 5 and gave lease 8 5150.0ms; it owes 1350ms: its checkpointed 1200ms + the election timeout 150ms",
    "lease: n1 became leader in term 6 and gave lease 7 2000.0ms; it owes 2150ms: its TTL 2s + the election timeout 150ms",
  ]);
});

test("an expiry decided while a keepalive held back by a stall still waits in the member's input is reported", () => {
  const { fake, checks, kv } = setup();
  fake.apply(n1, kv, { type: "leaseGrant", id: 7, ttlSeconds: 1 });
  const early = checks.sent(n1, 7);
  fake.now = 250;
  // Within what the lessor counts as its own timer's jitter (three check intervals here).
  checks.expiring(n1, 7);
  assert.deepEqual(kinds(fake), []);
  fake.now = 1200;
  checks.arrived(n1, early);
  checks.expiring(n1, 7);
  assert.deepEqual(kinds(fake), [], "once it ran, the keepalive no longer waits");
  checks.sent(n1, 7);
  fake.now = 2000;
  checks.expiring(n1, 7);
  assert.equal(fake.checker.violations.length, 1);
  assert.match(
    kinds(fake)[0]!,
    /^lease: n1 decided lease 7 expired while a keepalive of it, in its input since t=1200\.0 \(800ms/,
  );
});

test("after the heal, a lease nobody renews must be gone within its bound: a lessor that never checks is reported", async () => {
  for (const never of [false, true]) {
    const cc = await coordinationCluster(21, never ? { checkIntervalMs: 1e9 } : {});
    const { cluster, leader, coord } = cc;
    const granted = await settle(
      cluster,
      cluster.request(leader, () => coord.lessor(leader)!.grant(1)),
    );
    assert.ok(granted !== undefined);
    await checkLingering(cluster, cc.leases, cc.rules, leader);
    if (!never) {
      assert.deepEqual(cluster.checker.violations, []);
      assert.equal(cc.counts.leasesExpired, 1);
      continue;
    }
    assert.equal(cluster.checker.violations.length, 1);
    assert.match(
      cluster.checker.violations[0]!.message,
      new RegExp(`^lease ${granted.id} \\(TTL 1s, .* still held; its keys must be gone by`),
    );
  }
});
