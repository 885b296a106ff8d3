import assert from "node:assert/strict";
import type { NodeId } from "../raft/index.js";
import { Prng } from "../util/prng.js";
import type { SimCluster } from "./cluster.js";
import { CoordMembers, type CoordTuning } from "./coord_members.js";
import { noCoordination, type CoordinationCounts } from "./coordination_counts.js";
import { LeaseChecks, type LeaseRules } from "./lease_checks.js";
import { electionTimeoutMs, steadyCluster } from "./steady_cluster.test.helper.js";
import { WatchWorkload } from "./watch_workload.js";

const tuning: CoordTuning = {
  bufferEventsMax: 1000,
  progressIntervalMs: 1000,
  historyRevisionsMax: 1000,
  revokesPerSecond: 1000,
  checkpointIntervalMs: 300_000,
  checkIntervalMs: 100,
};

/** A steady cluster with the sweep's coordination services on every member, and its checks, but no clients. */
export interface CoordinationCluster {
  readonly cluster: SimCluster;
  readonly leader: NodeId;
  readonly coord: CoordMembers;
  readonly leases: LeaseChecks;
  readonly watches: WatchWorkload;
  readonly rules: LeaseRules;
  readonly counts: CoordinationCounts;
}

/** `lessor` overrides what the members' lessors run with (a planted fault); the checks keep `rules`. */
export async function coordinationCluster(
  seed: number,
  lessor: Partial<CoordTuning> = {},
): Promise<CoordinationCluster> {
  const counts = noCoordination();
  const rules: LeaseRules = {
    clockDrift: 0,
    electionTimeoutMs,
    checkIntervalMs: tuning.checkIntervalMs,
    revokesPerSecond: tuning.revokesPerSecond,
    commitBoundMs: 2 * electionTimeoutMs,
  };
  let attached: { leases: LeaseChecks; watches: WatchWorkload } | undefined;
  const coord = new CoordMembers({
    tuning: { ...tuning, ...lessor },
    electionTimeoutMs,
    random: new Prng(seed),
    observer: {
      store: (member, kv) => {
        attached?.leases.store(member, kv);
        attached?.watches.recordStore(member, kv);
      },
      promoted: (member, view, term) => attached?.leases.promoted(member, view, term),
      expiring: (member, id) => attached?.leases.expiring(member, id),
    },
  });
  const { cluster, leader } = await steadyCluster(
    { seed, beforeStart: coord.beforeStart, services: coord.services },
    (c) => {
      const watches = new WatchWorkload({ cluster: c, coord, counts, stopped: () => false }, new Prng(seed + 1), {
        watchersPerMember: 0,
        startMaxMs: 0,
        keys: 2,
        refuseRate: 0,
      });
      const leases = new LeaseChecks({ cluster: c, counts, rules, eventsAt: (r) => watches.history.eventsAt(r) });
      attached = { leases, watches };
    },
  );
  assert.ok(attached !== undefined);
  return { cluster, leader, coord, ...attached, rules, counts };
}

/** Runs `cluster` until `promise` settles (within 30 s of virtual time), and settles as it did. */
export async function settle<T>(cluster: SimCluster, promise: Promise<T>): Promise<T> {
  let outcome: { readonly value: T } | { readonly error: unknown } | undefined;
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  await cluster.runUntil(cluster.now + 30_000, () => outcome !== undefined);
  assert.ok(outcome !== undefined, "the request settled within 30 s of virtual time");
  if ("error" in outcome) throw outcome.error;
  return outcome.value;
}
