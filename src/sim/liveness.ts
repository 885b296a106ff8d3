import type { NodeId } from "../raft/index.js";
import type { SimCluster } from "./cluster.js";
import { membersOf, waitForStableLeader } from "./leaders.js";
import { HEALTHY_NETWORK } from "./network.js";
import type { KvWorkload } from "./workload.js";

/**
 * After the heal: within `livenessMs` a leader is agreed by every member and stays put for two
 * maximum election timeouts (the check-quorum round that may still depose a leader elected during
 * the faults), and then, within `livenessMs` again, a write to it is applied on every member of
 * its configuration whose disk is intact. "Stays put" lets a reign that ended by design hand over to
 * the next (a ZAB epoch whose counter ran out: waitForStableLeader). Resolves with that leader, or
 * undefined after a violation.
 */
export async function checkLiveness(
  cluster: SimCluster,
  kv: KvWorkload | undefined,
  options: { readonly livenessMs: number; readonly electionTimeoutMs: number },
): Promise<NodeId | undefined> {
  cluster.armCrash(undefined);
  cluster.armIsolationAfterHeartbeatAck(undefined);
  cluster.network.heal();
  cluster.network.faults = HEALTHY_NETWORK;
  cluster.networkChanged();
  // A stall runs its course (it ends within three election timeouts): a process does not notice
  // the end of its own pause any sooner.
  for (const m of cluster.members) {
    cluster.failDisk(m.id, undefined);
    cluster.slowDisk(m.id, undefined);
  }
  for (const id of cluster.ids) cluster.restart(id);
  cluster.trace(undefined, "heal everything: liveness phase");
  const healedAt = cluster.now;
  const election = options.electionTimeoutMs;
  const stable = await waitForStableLeader(cluster, healedAt + options.livenessMs, 4 * election);
  if (cluster.checker.violations.length > 0) return undefined;
  if (stable === undefined) {
    cluster.checker.failLiveness(`no stable leader within ${options.livenessMs}ms of the heal`);
    return undefined;
  }
  const leader = stable.id;
  const handOvers = stable.handOvers === 0 ? "" : ` (across ${stable.handOvers} epoch(s) ended by design)`;
  cluster.trace(
    undefined,
    `leader ${cluster.nameOf(leader)} stable ${(cluster.now - healedAt).toFixed(0)}ms after the heal${handOvers}`,
  );
  const deadline = cluster.now + options.livenessMs;
  let index: number | undefined;
  let done = false;
  void (async () => {
    // A leader may refuse a write for flow control (uncommitted bytes); a client retries.
    while (index === undefined && cluster.now < deadline && cluster.node(leader) !== undefined) {
      index = kv !== undefined ? await kv.writeOnce(leader, "liveness") : await writeId(cluster, leader);
      if (index === undefined) await cluster.sleep(election / 5);
    }
    done = true;
  })();
  const everywhere = (): boolean => {
    if (index === undefined || cluster.node(leader) === undefined) return done;
    const members = membersOf(cluster, leader);
    return cluster.usableIds().every((id) => !members.has(id) || cluster.appliedIndex(id) >= index!);
  };
  await cluster.runUntil(deadline, everywhere);
  if (cluster.checker.violations.length === 0 && (index === undefined || !everywhere())) {
    const applied = cluster.members
      .map((m) => `${m.name} ${m.state}${m.corrupt ? " corrupt" : ""} applied ${cluster.appliedIndex(m.id)}`)
      .join(", ");
    cluster.checker.failLiveness(
      `a write to stable leader ${cluster.nameOf(leader)} was not applied on every usable member within ${options.livenessMs}ms (index ${index ?? "none"}; ${applied})`,
    );
  }
  return cluster.checker.violations.length === 0 ? leader : undefined;
}

/** Proposes one ID allocation at `member`; resolves with the index it applied at, if it did. */
async function writeId(cluster: SimCluster, member: NodeId): Promise<number | undefined> {
  const node = cluster.node(member);
  if (node === undefined) return undefined;
  try {
    await node.raft.propose(new Uint8Array([0x4c]));
    return node.raft.status().appliedIndex;
  } catch {
    return undefined;
  }
}
