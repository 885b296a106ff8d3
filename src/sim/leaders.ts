import type { NodeId } from "../raft/index.js";
import type { SimCluster } from "./cluster.js";

/**
 * The member every running member of its configuration agrees leads, if there is one. Only the
 * newest term's leader can be: a member removed while it was cut off may go on thinking it leads an
 * older term (without check-quorum nothing tells it otherwise), and it leads no one.
 */
export function currentLeader(cluster: SimCluster): NodeId | undefined {
  const leaders = cluster
    .liveIds()
    .map((id) => cluster.node(id)!.raft.status())
    .filter((s) => s.role === "leader")
    .sort((a, b) => b.term - a.term);
  const leader = leaders[0];
  if (leader === undefined || leaders[1]?.term === leader.term) return undefined;
  const members = membersOf(cluster, leader.id);
  const agreed = cluster.liveIds().every((id) => {
    if (!members.has(id)) return true;
    const s = cluster.node(id)!.raft.status();
    return s.leader === leader.id && s.term === leader.term;
  });
  return agreed ? leader.id : undefined;
}

/** Voters and learners in `id`'s configuration. */
export function membersOf(cluster: SimCluster, id: NodeId): Set<NodeId> {
  const config = cluster.node(id)!.raft.config();
  return new Set([...config.incoming, ...(config.outgoing ?? []), ...config.learners]);
}
/** Runs until a leader agreed by its members has held for `stableMs`, or `deadline`; that leader, if so. */
export async function waitForStableLeader(
  cluster: SimCluster,
  deadline: number,
  stableMs: number,
): Promise<NodeId | undefined> {
  let leader: NodeId | undefined;
  let since = cluster.now;
  const stable = (): boolean => {
    const now = currentLeader(cluster);
    if (now !== leader) {
      leader = now;
      since = cluster.now;
    }
    return leader !== undefined && cluster.now - since >= stableMs;
  };
  await cluster.runUntil(deadline, stable);
  return stable() ? leader : undefined;
}
