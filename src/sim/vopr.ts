import type { NodeId } from "../raft/index.js";
import { Prng } from "../util/prng.js";
import type { Violation } from "./checkers.js";
import { SimCluster, type ClusterOptions } from "./cluster.js";
import { HEALTHY_NETWORK } from "./network.js";
import type { Tracer } from "./trace.js";
import { ClientWorkload, type ProposalOutcome } from "./workload.js";

/** Everything one seeded run does, drawn from the seed (TigerBeetle's VOPR shape). */
export interface RunOptions {
  readonly cluster: ClusterOptions;
  readonly safetyMs: number;
  readonly faultIntervalMaxMs: number;
  readonly proposalIntervalMaxMs: number;
  readonly readIntervalMaxMs: number;
  /** Whether the fault schedule also adds, promotes and removes members and transfers leadership. */
  readonly membershipChanges: boolean;
  /** How leaders answer the workload's reads: a heartbeat round each, or inside the lease. */
  readonly readMode: "safe" | "lease";
  /** Bound on each liveness wait: a leader after the heal, then a proposal applied everywhere. */
  readonly livenessMs: number;
}

export interface RunResult {
  readonly seed: number;
  readonly nodeCount: number;
  readonly violations: readonly Violation[];
  readonly steps: number;
  readonly messages: number;
  readonly virtualMs: number;
  readonly proposals: Record<ProposalOutcome, number>;
  readonly snapshotsInstalled: number;
  readonly readsAnswered: number;
}

export function optionsFromSeed(seed: number, tracer?: Tracer): RunOptions {
  const prng = new Prng(seed ^ 0x5eed);
  const tickMs = 10;
  const electionTicks = 15;
  const membershipChanges = prng.chance(0.5);
  return {
    membershipChanges,
    cluster: {
      seed,
      nodeCount: prng.chance(0.5) ? 3 : 5,
      tickMs,
      electionTicks,
      heartbeatTicks: 5,
      diskLatencyMinMs: 0,
      diskLatencyMaxMs: prng.int(1, 12),
      readiesInFlightMax: prng.int(1, 4),
      network: {
        lossRate: prng.pick([0, 0.01, 0.05, 0.15]),
        duplicateRate: prng.pick([0, 0.01, 0.05]),
        delayMinMs: 1,
        delayMaxMs: prng.int(2, 30),
        longDelayRate: prng.pick([0, 0.01, 0.05]),
        longDelayMaxMs: prng.int(50, 400),
      },
      spareNodes: membershipChanges ? 2 : 0,
      // A lost disk must stay a minority of the voters; with a changing membership that is not tracked, so no corruption there.
      diskFaults: { tornWriteRate: prng.pick([0, 0.5]), corruptionRate: membershipChanges ? 0 : prng.pick([0, 0.1]) },
      snapshotEntries: prng.pick([0, 8, 40, 200]),
      snapshotKeepEntries: prng.pick([0, 4, 50]),
      tracer,
      raft: flowControlFromSeed(prng),
    },
    safetyMs: prng.int(1500, 4000),
    faultIntervalMaxMs: prng.int(100, 600),
    proposalIntervalMaxMs: prng.int(3, 40),
    readIntervalMaxMs: prng.int(5, 60),
    readMode: prng.pick(["safe", "lease"] as const),
    livenessMs: 20 * 2 * electionTicks * tickMs,
  };
}

/**
 * Tight limits exercise probe/replicate transitions and refusals. One entry per message is left to
 * the scripted tests: under reordering its backlog of a thousand entries drains too slowly for the
 * liveness bound, which would measure throughput rather than liveness.
 */
function flowControlFromSeed(prng: Prng): NonNullable<ClusterOptions["raft"]> {
  return {
    appendEntriesMax: prng.pick([4, 64, 256]),
    inflightMax: prng.pick([1, 4, 64]),
    uncommittedBytesMax: prng.pick([64, 4096, 1 << 20]),
  };
}

/** One seed: a safety phase with faults and checks on every step, then heal and check liveness. */
export function runSeed(seed: number, tracer?: Tracer): RunResult {
  return runWithOptions(optionsFromSeed(seed, tracer));
}

export function runWithOptions(options: RunOptions): RunResult {
  const cluster = new SimCluster(options.cluster);
  const prng = cluster.prng.fork();
  const workload = new ClientWorkload(cluster, prng.fork());
  checkIdsUnique(cluster);
  workload.schedule(0, options.safetyMs, options.proposalIntervalMaxMs);
  workload.scheduleReads(0, options.safetyMs, options.readIntervalMaxMs, options.readMode);
  scheduleFaults(cluster, prng.fork(), options);
  cluster.runUntil(options.safetyMs);
  if (cluster.checker.violations.length === 0) checkLiveness(cluster, workload, options);
  return {
    seed: options.cluster.seed,
    nodeCount: options.cluster.nodeCount,
    violations: cluster.checker.violations,
    steps: cluster.steps,
    messages: cluster.messagesDelivered,
    virtualMs: cluster.now,
    proposals: workload.counts(),
    snapshotsInstalled: cluster.snapshotsInstalled,
    readsAnswered: workload.readsAnswered,
  };
}

/** The IdAllocator hands out an ID once: the same ID at two log indexes means a command ran twice. */
function checkIdsUnique(cluster: SimCluster): void {
  const indexOfId = new Map<unknown, number>();
  cluster.onApply((node, index, _data, id) => {
    const earlier = indexOfId.get(id);
    if (earlier === undefined) indexOfId.set(id, index);
    else if (earlier !== index) cluster.checker.failStateMachine(`node ${node} handed out ID ${String(id)} at index ${index}; it was handed out at ${earlier}`);
  });
}

function scheduleFaults(cluster: SimCluster, prng: Prng, options: RunOptions): void {
  const trace = (text: string): void => options.cluster.tracer?.(cluster.now, undefined, text);
  for (let t = prng.int(1, options.faultIntervalMaxMs); t < options.safetyMs; t += prng.int(1, options.faultIntervalMaxMs)) {
    cluster.at(t, () => {
      const ids = cluster.ids;
      if (options.membershipChanges && prng.chance(0.3)) {
        changeMembership(cluster, prng, trace);
        return;
      }
      const choice = prng.int(0, 7);
      switch (choice) {
        case 0: {
          const shuffled = [...ids].sort(() => prng.next() - 0.5);
          const cut = prng.int(1, ids.length);
          cluster.network.heal();
          cluster.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
          trace(`partition ${groupText(shuffled.slice(0, cut))} | ${groupText(shuffled.slice(cut))}`);
          return;
        }
        case 1: {
          const leader = currentLeader(cluster);
          if (leader === undefined) return;
          cluster.network.partition([[leader], ids.filter((id) => id !== leader)]);
          trace(`isolate leader n${leader}`);
          return;
        }
        case 2: {
          const from = prng.pick(ids);
          const to = prng.pick(ids.filter((id) => id !== from));
          cluster.network.cutOneWay(from, to);
          trace(`cut one way n${from}→n${to}`);
          return;
        }
        case 3:
          cluster.network.heal();
          trace("heal network");
          return;
        case 4: {
          if (prng.chance(0.5)) {
            cluster.crashOnLeaderCommit = true;
            return;
          }
          const id = prng.pick(ids);
          cluster.crash(id);
          return;
        }
        default: {
          const crashed = ids.filter((id) => cluster.node(id) === undefined);
          if (crashed.length > 0) cluster.restart(prng.pick(crashed));
          return;
        }
      }
    });
  }
}

function groupText(ids: readonly NodeId[]): string {
  return ids.map((id) => `n${id}`).join(",");
}

/** The node every live node agrees leads, if there is one. */
/** The node every live member (of the leader's configuration) agrees leads, if there is one. */
export function currentLeader(cluster: SimCluster): NodeId | undefined {
  const leaders = cluster.liveIds().filter((id) => cluster.node(id)!.status().role === "leader");
  if (leaders.length !== 1) return undefined;
  const leader = cluster.node(leaders[0]!)!;
  const { term } = leader.status();
  const members = membersOf(cluster, leader.id);
  const agreed = cluster.liveIds().every((id) => {
    if (!members.has(id)) return true;
    const s = cluster.node(id)!.status();
    return s.leader === leader.id && s.term === term;
  });
  return agreed ? leader.id : undefined;
}

/** Voters and learners in `id`'s configuration. */
export function membersOf(cluster: SimCluster, id: NodeId): Set<NodeId> {
  const config = cluster.node(id)!.config();
  return new Set([...config.incoming, ...(config.outgoing ?? []), ...config.learners]);
}

/** A random membership change or leadership transfer, asked of the current leader. */
function changeMembership(cluster: SimCluster, prng: Prng, trace: (text: string) => void): void {
  const leaderId = cluster.liveIds().find((id) => cluster.node(id)!.status().role === "leader");
  if (leaderId === undefined) return;
  const leader = cluster.node(leaderId)!;
  const config = leader.config();
  const members = membersOf(cluster, leaderId);
  const context = new Uint8Array(0);
  const choice = prng.int(0, 4);
  const pick = (ids: Iterable<NodeId>): NodeId | undefined => {
    const list = [...ids];
    return list.length === 0 ? undefined : prng.pick(list);
  };
  let what: string;
  let result: { ok: boolean; error?: string };
  if (choice === 0) {
    const id = pick(cluster.ids.filter((x) => !members.has(x)));
    if (id === undefined) return;
    what = `add learner n${id}`;
    result = leader.proposeConfChange({ type: "addLearner", id, context });
  } else if (choice === 1) {
    const id = pick(config.learners);
    if (id === undefined) return;
    what = `promote n${id}`;
    result = leader.proposeConfChange({ type: "promote", id, context });
  } else if (choice === 2) {
    const id = pick(members);
    if (id === undefined) return;
    what = `remove n${id}${id === leaderId ? " (the leader)" : ""}`;
    result = leader.proposeConfChange({ type: "remove", id, context });
  } else {
    const id = pick([...config.incoming].filter((x) => x !== leaderId));
    if (id === undefined) return;
    what = `transfer leadership n${leaderId}→n${id}`;
    result = leader.transferLeader(id);
  }
  trace(`${what}: ${result.ok ? "accepted" : `refused (${result.error})`}`);
}

/**
 * After the heal: within `livenessMs` a leader is agreed by every node and stays put for two
 * maximum election timeouts (the check-quorum round that may still depose a leader elected during
 * the faults), and then, within `livenessMs` again, a proposal to it is applied on every node.
 */
function checkLiveness(cluster: SimCluster, workload: ClientWorkload, options: RunOptions): void {
  const trace = (text: string): void => options.cluster.tracer?.(cluster.now, undefined, text);
  cluster.network.heal();
  cluster.network.faults = HEALTHY_NETWORK;
  cluster.crashOnLeaderCommit = false;
  for (const id of cluster.ids) cluster.restart(id);
  trace("heal everything: liveness phase");
  const healedAt = cluster.now;
  const leader = waitForStableLeader(cluster, healedAt + options.livenessMs, 2 * 2 * options.cluster.electionTicks * options.cluster.tickMs);
  if (cluster.checker.violations.length > 0) return;
  if (leader === undefined) {
    cluster.checker.failLiveness(`no stable leader within ${options.livenessMs}ms of the heal`);
    return;
  }
  trace(`leader n${leader} stable ${cluster.now - healedAt}ms after the heal`);
  const deadline = cluster.now + options.livenessMs;
  // A leader may refuse a proposal for flow control (uncommitted bytes); a client retries.
  let id = workload.proposeAt(leader);
  while (workload.outcome(id) === "rejected" && cluster.now < deadline && cluster.checker.violations.length === 0) {
    cluster.runUntil(cluster.now + options.cluster.tickMs);
    id = workload.proposeAt(leader);
  }
  // Every usable member of the leader's configuration as it is then (a removal may still be applying),
  // where a node may receive the proposal inside a snapshot rather than apply it itself.
  const everywhere = (): boolean => {
    const index = workload.indexOf(id);
    if (index === undefined || cluster.node(leader) === undefined) return false;
    const members = membersOf(cluster, leader);
    return cluster.usableIds().every((node) => !members.has(node) || cluster.appliedIndex(node) >= index);
  };
  cluster.runUntil(deadline, everywhere);
  if (cluster.checker.violations.length === 0 && !everywhere()) {
    cluster.checker.failLiveness(
      `proposal to stable leader n${leader} not applied on every usable node within ${options.livenessMs}ms (applied by ${[...workload.appliedBy(id)].join(",") || "none"})`,
    );
  }
}

function waitForStableLeader(cluster: SimCluster, deadline: number, stableMs: number): NodeId | undefined {
  let leader: NodeId | undefined;
  let since = cluster.now;
  cluster.runUntil(deadline, () => {
    const now = currentLeader(cluster);
    if (now !== leader) {
      leader = now;
      since = cluster.now;
    }
    return leader !== undefined && cluster.now - since >= stableMs;
  });
  return leader !== undefined && cluster.now - since >= stableMs ? leader : undefined;
}
