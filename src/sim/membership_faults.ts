import { encodeMemberContext } from "../node/index.js";
import type { NodeId } from "../raft/index.js";
import type { Prng } from "../util/prng.js";
import type { SimCluster } from "./cluster.js";
import { membersOf } from "./leaders.js";

/** What a member's configuration entry says about it: its name and peer address. */
export function memberContext(cluster: SimCluster, id: NodeId): Uint8Array {
  const m = cluster.member(id);
  return encodeMemberContext({ name: m.name, peerAddr: m.peerAddr });
}

/** A random membership change or leadership transfer, asked of member `leaderId` (the leader, when it was picked). */
export function changeMembership(cluster: SimCluster, prng: Prng, leaderId: NodeId): void {
  const leader = cluster.node(leaderId)!.raft;
  const config = leader.config();
  const members = membersOf(cluster, leaderId);
  const pick = (ids: Iterable<NodeId>): NodeId | undefined => {
    const list = [...ids];
    return list.length === 0 ? undefined : prng.pick(list);
  };
  const context = (id: NodeId): Uint8Array => memberContext(cluster, id);
  const report = (what: string, outcome: Promise<unknown> | { ok: boolean; error?: string }): void => {
    if (outcome instanceof Promise) {
      cluster.trace(undefined, `${what}: proposed`);
      outcome.then(
        () => cluster.trace(undefined, `${what}: applied`),
        (error: unknown) =>
          cluster.trace(undefined, `${what}: ${error instanceof Error ? error.message : String(error)}`),
      );
    } else {
      cluster.trace(undefined, `${what}: ${outcome.ok ? "accepted" : `refused (${outcome.error})`}`);
    }
  };
  const choice = prng.int(0, 5);
  if (choice === 4) {
    // Replace voters with learners in one joint change: old and new majorities need not overlap.
    const learners = [...config.learners];
    const voters = [...config.incoming].sort(() => prng.next() - 0.5).slice(0, learners.length);
    if (learners.length === 0) return;
    const changes = [
      ...learners.map((id) => ({ type: "promote" as const, id, context: context(id) })),
      ...voters.map((id) => ({ type: "remove" as const, id, context: context(id) })),
    ];
    report(
      `replace ${voters.map((id) => cluster.nameOf(id)).join(",")} with ${learners.map((id) => cluster.nameOf(id)).join(",")}`,
      leader.proposeConfChange(changes),
    );
  } else if (choice === 0) {
    const id = pick(cluster.ids.filter((x) => !members.has(x)));
    if (id !== undefined)
      report(
        `add learner ${cluster.nameOf(id)}`,
        leader.proposeConfChange({ type: "addLearner", id, context: context(id) }),
      );
  } else if (choice === 1) {
    const id = pick(config.learners);
    if (id !== undefined)
      report(`promote ${cluster.nameOf(id)}`, leader.proposeConfChange({ type: "promote", id, context: context(id) }));
  } else if (choice === 2) {
    const id = pick(members);
    if (id !== undefined)
      report(
        `remove ${cluster.nameOf(id)}${id === leaderId ? " (the leader)" : ""}`,
        leader.proposeConfChange({ type: "remove", id, context: context(id) }),
      );
  } else {
    const id = pick([...config.incoming].filter((x) => x !== leaderId));
    if (id !== undefined)
      report(`transfer leadership ${cluster.nameOf(leaderId)}→${cluster.nameOf(id)}`, leader.transferLeader(id));
  }
}
