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
  return {
    cluster: {
      seed,
      nodeCount: prng.chance(0.5) ? 3 : 5,
      tickMs,
      electionTicks,
      heartbeatTicks: 5,
      diskLatencyMinMs: 0,
      diskLatencyMaxMs: prng.int(1, 12),
      network: {
        lossRate: prng.pick([0, 0.01, 0.05, 0.15]),
        duplicateRate: prng.pick([0, 0.01, 0.05]),
        delayMinMs: 1,
        delayMaxMs: prng.int(2, 30),
        longDelayRate: prng.pick([0, 0.01, 0.05]),
        longDelayMaxMs: prng.int(50, 400),
      },
      diskFaults: { tornWriteRate: prng.pick([0, 0.5]), corruptionRate: prng.pick([0, 0.1]) },
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
 * Tight limits exercise probe/replicate transitions and refusals; one entry per round trip with
 * one message in flight is left out, as its backlog could not drain within the liveness bound.
 */
function flowControlFromSeed(prng: Prng): NonNullable<ClusterOptions["raft"]> {
  const appendEntriesMax = prng.pick([1, 4, 64, 256]);
  return {
    appendEntriesMax,
    inflightMax: prng.pick(appendEntriesMax === 1 ? [4, 64] : [1, 4, 64]),
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
export function currentLeader(cluster: SimCluster): NodeId | undefined {
  const live = cluster.liveIds();
  const statuses = live.map((id) => cluster.node(id)!.status());
  const leader = statuses.find((s) => s.role === "leader");
  if (leader === undefined) return undefined;
  const agreed = statuses.every((s) => s.leader === leader.id && s.term === leader.term);
  return agreed ? leader.id : undefined;
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
  const usable = cluster.usableIds();
  // A node may receive the proposal inside a snapshot rather than apply it itself.
  const everywhere = (): boolean => {
    const index = workload.indexOf(id);
    return index !== undefined && usable.every((node) => cluster.appliedIndex(node) >= index);
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
