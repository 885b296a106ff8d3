import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeCommand } from "../kv/index.js";
import { encodeMemberContext } from "../node/index.js";
import { utf8 } from "../util/bytes.js";
import { electionTimeoutMs, steadyCluster } from "./steady_cluster.test.helper.js";
import { KvWorkload } from "./workload.js";

/**
 * Issue 12's second defect, on the real node and WAL: two voters shrink to one, and the leader loses
 * power a few milliseconds after its first message telling of the commit of leaveJoint. The removed member
 * applies its removal and never votes again; the leader must come back in the configuration that
 * committed, not in the joint one (which would need the removed member's vote forever).
 */
for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`seed ${seed}: a leader that loses power right after telling of a removal's commit comes back able to lead (issue 12)`, async () => {
    const { cluster, leader } = await steadyCluster({
      seed,
      nodeCount: 2,
      disk: {
        syncLatencyMinMs: 1,
        syncLatencyMaxMs: 4,
        slowSyncRate: 0,
        slowSyncMaxMs: 0,
        tornWriteProbability: 0.5,
        corruptionRate: 0,
      },
    });
    const removed = cluster.ids.find((id) => id !== leader)!;
    const raft = cluster.node(leader)!.raft;
    const member = cluster.member(removed);
    void raft
      .proposeConfChange({
        type: "remove",
        id: removed,
        context: encodeMemberContext({ name: member.name, peerAddr: member.peerAddr }),
      })
      .catch(() => undefined);
    // The joint entry is the last one now; leaveJoint follows it once it applies.
    const leaveJoint = raft.status().lastIndex + 1;
    let crashed = false;
    cluster.armAfterCommitSent(leader, leaveJoint, () => {
      // Its disk syncs nothing more before the power goes: a write proposed now may reach the other
      // member (the leader sends while it persists) but never its own disk, so the removed member
      // will refuse the leader its vote for good.
      cluster.slowDisk(leader, 100 * electionTimeoutMs);
      void raft.propose(encodeCommand({ type: "put", key: utf8("k"), value: utf8("lost") })).catch(() => undefined);
      cluster.at(cluster.now + 5, () => {
        cluster.crash(leader, "power");
        cluster.slowDisk(leader, undefined);
        crashed = true;
      });
    });
    await cluster.runUntil(cluster.now + 3000, () => crashed);
    assert.ok(crashed, "the leader told of leaveJoint's commit");
    cluster.restart(leader);
    const workload = new KvWorkload(cluster, cluster.prng.fork(), { keys: 2, readMode: "linearizable" });
    // Set from a promise's callback, which narrowing cannot see: a box keeps the type honest.
    const write: { applied?: number | undefined; settled: boolean } = { settled: false };
    const applied = (): number | undefined => write.applied;
    const deadline = cluster.now + 40 * electionTimeoutMs;
    while (applied() === undefined && cluster.now < deadline && cluster.checker.violations.length === 0) {
      write.settled = false;
      void workload.writeOnce(leader, "k").then((index) => {
        write.applied = index;
        write.settled = true;
      });
      await cluster.runUntil(Math.min(deadline, cluster.now + 2 * electionTimeoutMs), () => write.settled);
      // Refused (still starting, no leader yet): try again a little later.
      if (applied() === undefined) {
        await cluster.runUntil(Math.min(deadline, cluster.now + electionTimeoutMs / 2));
      }
    }
    assert.deepEqual(cluster.checker.violations, []);
    const config = cluster.node(leader)!.raft.config();
    assert.ok(
      applied() !== undefined,
      `the remaining voter commits again; its configuration: ${JSON.stringify({ incoming: [...config.incoming], outgoing: config.outgoing && [...config.outgoing] })}`,
    );
    assert.deepEqual([...config.incoming], [leader]);
    assert.equal(config.outgoing, undefined);
  });
}
