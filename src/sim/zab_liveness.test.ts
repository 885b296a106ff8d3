import assert from "node:assert/strict";
import { test } from "node:test";
import type { NodeId } from "../raft/index.js";
import type { SimCluster } from "./cluster.js";
import { currentLeader, waitForStableLeader } from "./leaders.js";
import { checkLiveness } from "./liveness.js";
import { electionTimeoutMs, steadyCluster } from "./steady_cluster.test.helper.js";
import { KvWorkload } from "./workload.js";

/*
 * Issue 19, seed 1443: with a 3-bit zxid counter an epoch holds 7 transactions, and a ZAB leader
 * that has committed them must hand over to a new epoch (ZooKeeper's rule on counter exhaustion).
 * While writes go on after the heal, no epoch lasts the four election timeouts the liveness check
 * asks a leader to hold, although nothing is wrong. The check lets such an epoch hand over to the
 * next one; these tests show that it does, and that a leader losing its epoch for any other
 * reason, or a cluster that stops committing, still fails liveness.
 */

const stableMs = 4 * electionTimeoutMs;
const livenessMs = 40 * electionTimeoutMs;

/** A ZAB cluster whose epochs run out after 7 writes, and a write every 20 ms until `forMs` from now. */
async function exhaustingCluster(seed: number, forMs: number): Promise<{ cluster: SimCluster; kv: KvWorkload }> {
  const { cluster } = await steadyCluster({ seed, engine: "zab", zab: { counterBits: 3 } });
  const kv = new KvWorkload(cluster, cluster.prng.fork(), { keys: 2, readMode: "linearizable" });
  const until = cluster.now + forMs;
  void (async () => {
    while (cluster.now < until && cluster.checker.violations.length === 0) {
      // A follower in broadcast forwards to its leader; a refused write (epoch exhausted, no leader) is dropped.
      void kv.writeOnce(currentLeader(cluster) ?? cluster.ids[0]!, "k");
      await cluster.sleep(20);
    }
  })();
  return { cluster, kv };
}

interface Reign {
  readonly term: number;
  readonly from: number;
  to: number;
}

/** Runs `forMs` and returns every reign agreed by all members in that time, as the old check saw them. */
async function agreedReigns(cluster: SimCluster, forMs: number): Promise<Reign[]> {
  const reigns: Reign[] = [];
  let current: Reign | undefined;
  await cluster.runUntil(cluster.now + forMs, () => {
    const leader = currentLeader(cluster);
    const term = leader === undefined ? undefined : cluster.node(leader)!.raft.status().term;
    if (current !== undefined && current.term !== term) current = undefined;
    if (current === undefined && term !== undefined) {
      current = { term, from: cluster.now, to: cluster.now };
      reigns.push(current);
    }
    if (current !== undefined) current.to = cluster.now;
    return false;
  });
  return reigns;
}

for (const seed of [1, 2, 3]) {
  test(`seed ${seed}: epochs that run out under writes hand over without failing liveness (issue 19, seed 1443)`, async () => {
    const { cluster, kv } = await exhaustingCluster(seed, 4 * livenessMs);
    // The situation of seed 1443: over a whole liveness window, no one epoch is led long enough.
    const reigns = await agreedReigns(cluster, livenessMs);
    const longest = Math.max(...reigns.map((r) => r.to - r.from));
    assert.ok(longest < stableMs, `an epoch was led for ${longest}ms`);
    assert.ok(reigns.length >= 5, `only ${reigns.length} epochs were led`);
    for (const reign of reigns.slice(0, -1))
      assert.ok(cluster.reignEndedByDesign(reign.term), `epoch ${reign.term} ended, and not by its counter`);

    const stable = await waitForStableLeader(cluster, cluster.now + livenessMs, stableMs);
    assert.ok(stable !== undefined && stable.handOvers >= 1, `stable across ${stable?.handOvers} hand-overs`);
    const leader = await checkLiveness(cluster, kv, { livenessMs, electionTimeoutMs });
    assert.deepEqual(cluster.checker.violations, []);
    assert.ok(leader !== undefined);
  });
}

/**
 * Until `until`: an election timeout after each disruption, `disrupt` the leader of the moment (or
 * the next one agreed). Returns the epochs it disrupted.
 */
function disruptLeaders(cluster: SimCluster, until: number, disrupt: (leader: NodeId) => Promise<void>): number[] {
  const disrupted: number[] = [];
  void (async () => {
    while (cluster.now < until && cluster.checker.violations.length === 0) {
      await cluster.sleep(electionTimeoutMs);
      while (cluster.now < until && currentLeader(cluster) === undefined) await cluster.sleep(1);
      const leader = currentLeader(cluster);
      if (leader === undefined) break;
      disrupted.push(cluster.node(leader)!.raft.status().term);
      await disrupt(leader);
    }
  })();
  return disrupted;
}

const abdications: Record<string, (cluster: SimCluster, leader: NodeId) => Promise<void>> = {
  // Cut off for longer than its quorum check, it gives up its epoch, and the others start a new one.
  "is cut off and steps down": async (cluster, leader) => {
    cluster.network.partition([[leader], cluster.ids.filter((id) => id !== leader)]);
    cluster.networkChanged();
    await cluster.sleep(3 * electionTimeoutMs);
    cluster.network.heal();
    cluster.networkChanged();
  },
  "crashes and restarts": (cluster, leader) => {
    cluster.crash(leader, "process");
    cluster.restart(leader);
    return Promise.resolve();
  },
};

for (const [what, abdicate] of Object.entries(abdications)) {
  test(`a ZAB leader that ${what} every election timeout fails liveness, epochs running out or not`, async () => {
    const { cluster, kv } = await exhaustingCluster(1, 3 * livenessMs);
    const ended = disruptLeaders(cluster, cluster.now + 3 * livenessMs, (leader) => abdicate(cluster, leader));
    const leader = await checkLiveness(cluster, kv, { livenessMs, electionTimeoutMs });
    assert.equal(leader, undefined);
    assert.deepEqual(
      cluster.checker.violations.map((v) => v.kind),
      ["liveness"],
    );
    assert.ok(ended.length >= 5, `only ${ended.length} leaders disrupted`);
    assert.ok(
      ended.some((term) => !cluster.reignEndedByDesign(term)),
      "the disrupted epochs count as ended by their counters",
    );
    // Epochs did run out meanwhile: the hand-overs were there to be (wrongly) forgiven.
    const last = Math.max(...ended);
    assert.ok(Array.from({ length: last }, (_, k) => k + 1).some((term) => cluster.reignEndedByDesign(term)));
  });
}

test("a ZAB cluster whose epochs ran out, then whose quorum's disks stop syncing, fails liveness", async () => {
  const { cluster, kv } = await exhaustingCluster(2, 3 * livenessMs);
  let ranOut = false;
  cluster.at(cluster.now + 3 * electionTimeoutMs, () => {
    const epochs = Array.from({ length: cluster.node(cluster.ids[0]!)!.raft.status().term }, (_, k) => k + 1);
    ranOut = epochs.some((term) => cluster.reignEndedByDesign(term));
    const [a, b] = cluster.ids;
    cluster.slowDisk(a!, 100 * livenessMs);
    cluster.slowDisk(b!, 100 * livenessMs);
  });
  const leader = await checkLiveness(cluster, kv, { livenessMs, electionTimeoutMs });
  assert.ok(ranOut, "an epoch ran out before the disks stopped");
  assert.equal(leader, undefined);
  assert.deepEqual(
    cluster.checker.violations.map((v) => v.kind),
    ["liveness"],
  );
});
