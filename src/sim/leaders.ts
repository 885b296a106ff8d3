import type { NodeId } from "../raft/index.js";
import type { SimCluster } from "./cluster.js";

/** A leader every running member of its configuration agrees on, and the reign (term) it leads. */
interface AgreedLeader {
  readonly id: NodeId;
  readonly term: number;
}

/**
 * The member every running member of its configuration agrees leads, if there is one. Only the
 * newest term's leader can be: a member removed while it was cut off may go on thinking it leads an
 * older term (without check-quorum nothing tells it otherwise), and it leads no one.
 */
export function currentLeader(cluster: SimCluster): NodeId | undefined {
  return agreedLeader(cluster)?.id;
}

function agreedLeader(cluster: SimCluster): AgreedLeader | undefined {
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
  return agreed ? { id: leader.id, term: leader.term } : undefined;
}

/** Voters and learners in `id`'s configuration. */
export function membersOf(cluster: SimCluster, id: NodeId): Set<NodeId> {
  const config = cluster.node(id)!.raft.config();
  return new Set([...config.incoming, ...(config.outgoing ?? []), ...config.learners]);
}

interface StableLeader {
  readonly id: NodeId;
  /** Reigns that ended by design and handed over to the next one while the clock ran (see below). */
  readonly handOvers: number;
}

/**
 * Runs until a leader agreed by its members has held for `stableMs`, or `deadline`; that leader, if
 * so. A reign that ended by the engine's design (SimCluster.reignEndedByDesign: a ZAB epoch whose
 * zxid counter ran out, which must end even on a healthy network while writes go on) does not
 * restart the clock when the very next reign is the next one agreed: leadership is as steady as
 * the protocol allows, and each such epoch committed its whole counter on the way. Any other change
 * restarts it: a reign that ended otherwise (a leader stepping down, crashing or deposed), or a
 * hand-over whose successor is not the next reign (an election or discovery that failed between).
 */
export async function waitForStableLeader(
  cluster: SimCluster,
  deadline: number,
  stableMs: number,
): Promise<StableLeader | undefined> {
  let leader: AgreedLeader | undefined;
  /** The last reign agreed, kept through the gap after it. */
  let previous: AgreedLeader | undefined;
  let since = cluster.now;
  let handOvers = 0;
  const stable = (): boolean => {
    const now = agreedLeader(cluster);
    if (now?.id !== leader?.id || now?.term !== leader?.term) {
      leader = now;
      if (now !== undefined) {
        const handedOver =
          previous !== undefined && now.term === previous.term + 1 && cluster.reignEndedByDesign(previous.term);
        if (handedOver) handOvers++;
        else {
          since = cluster.now;
          handOvers = 0;
        }
        previous = now;
      }
    }
    return leader !== undefined && cluster.now - since >= stableMs;
  };
  await cluster.runUntil(deadline, stable);
  return stable() && leader !== undefined ? { id: leader.id, handOvers } : undefined;
}
