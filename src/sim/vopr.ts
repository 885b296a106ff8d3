import { checkHistory } from "../check/index.js";
import type { EngineName } from "../engine/engine.js";
import type { NodeId } from "../raft/index.js";
import { Prng } from "../util/prng.js";
import type { Violation } from "./checkers.js";
import { SimCluster, type ClusterOptions, type CrashPlacement } from "./cluster.js";
import type { CoordFaults } from "./coord_faults.js";
import { Coordination, drawCoordination, type CoordinationOptions } from "./coordination.js";
import { noCoordination, type CoordinationCounts } from "./coordination_counts.js";
import { currentLeader, membersOf } from "./leaders.js";
import { changeMembership, memberContext } from "./membership_faults.js";
import { checkLiveness } from "./liveness.js";
import { HEALTHY_NETWORK } from "./network.js";
import type { Tracer } from "./trace.js";
import { IdWorkload, KvWorkload, type WorkloadCounts } from "./workload.js";

/** Everything one seeded run does, drawn from the seed (TigerBeetle's VOPR shape). */
export interface RunOptions {
  readonly cluster: ClusterOptions;
  readonly safetyMs: number;
  readonly faultIntervalMaxMs: number;
  readonly clients: number;
  readonly thinkMaxMs: number;
  /** Keys the KV clients use: few, so that their operations overlap. */
  readonly keys: number;
  /** Whether the fault schedule also adds, promotes and removes members and transfers leadership. */
  readonly membershipChanges: boolean;
  /** How reads are served: a ReadIndex round each, or on the leader inside its lease. */
  readonly readMode: "linearizable" | "lease";
  /** Bound on each liveness wait: a stable leader after the heal, then a write applied everywhere. */
  readonly livenessMs: number;
  /** Watches and leases on every member (KV runs only). */
  readonly coordination: CoordinationOptions | undefined;
}

export interface RunResult {
  readonly seed: number;
  readonly nodeCount: number;
  readonly violations: readonly Violation[];
  readonly steps: number;
  readonly messages: number;
  readonly virtualMs: number;
  readonly requests: WorkloadCounts;
  readonly snapshotsInstalled: number;
  /** Operations in the KV history the linearizability checker read (0 for ID allocator runs). */
  readonly operations: number;
  readonly coordination: CoordinationCounts;
}

export function optionsFromSeed(seed: number, tracer?: Tracer, engine: EngineName = "raft"): RunOptions {
  const prng = new Prng(seed ^ 0x5eed);
  // Multi-Paxos runs a fixed ensemble.
  const membershipChanges = engine === "raft" && prng.chance(0.4);
  const preVote = prng.chance(0.8);
  // Without pre-vote and check-quorum both, a member removed while cut off, that never hears of its
  // removal, disrupts every election for good (the thesis' disruptive server, §4.2.3): such runs
  // keep their membership.
  const checkQuorum = prng.chance(0.8) || (membershipChanges && !preVote);
  const readMode = checkQuorum && prng.chance(0.5) ? "lease" : "linearizable";
  const heartbeatMs = prng.pick([20, 50]);
  const electionTimeoutMs = heartbeatMs * prng.int(3, 8);
  const options: Omit<RunOptions, "coordination"> = {
    membershipChanges,
    readMode,
    cluster: {
      seed,
      engine,
      nodeCount: prng.pick([3, 3, 5, 5, 7]),
      spareNodes: membershipChanges ? 2 : 0,
      electionTimeoutMs,
      heartbeatMs,
      readiesInFlightMax: prng.int(1, 4),
      raft: {
        preVote,
        checkQuorum,
        appendEntriesMax: prng.pick([2, 4, 64, 256]),
        inflightMax: prng.pick([1, 4, 64]),
        uncommittedBytesMax: prng.pick([256, 4096, 1 << 20]),
      },
      disk: {
        syncLatencyMinMs: 0,
        syncLatencyMaxMs: prng.int(1, 12),
        slowSyncRate: prng.pick([0, 0, 0.01, 0.05]),
        slowSyncMaxMs: prng.int(20, 3 * electionTimeoutMs),
        tornWriteProbability: prng.pick([0, 0.5]),
        // A lost disk must stay a minority of the voters; with a changing membership that is not tracked.
        corruptionRate: membershipChanges ? 0 : prng.pick([0, 0.1]),
      },
      network: {
        lossRate: prng.pick([0, 0.01, 0.05, 0.15]),
        duplicateRate: prng.pick([0, 0.01, 0.05]),
        delayMinMs: 1,
        delayMaxMs: prng.int(2, 30),
        longDelayRate: prng.pick([0, 0.01, 0.05]),
        longDelayMaxMs: prng.int(50, 400),
        staleAppendRate: prng.pick([0, 0, 0.02, 0.1]),
      },
      snapshotEntries: prng.pick([8, 40, 200, 100_000]),
      snapshotKeepEntries: prng.pick([0, 4, 50]),
      stateMachine: prng.chance(0.75) ? "kv" : "ids",
      // Lease reads rely on clocks within the core's clockDriftMax (2%): lease runs drift by just
      // that much; without lease reads, anything goes.
      clockDrift: readMode === "lease" ? 0.02 : prng.pick([0, 0.1]),
      proposalTimeoutMs: 1000,
      tracer,
    },
    safetyMs: prng.int(1500, 4000),
    faultIntervalMaxMs: prng.int(100, 600),
    clients: prng.int(2, 7),
    thinkMaxMs: prng.int(3, 40),
    keys: prng.int(2, 9),
    livenessMs: 40 * electionTimeoutMs,
  };
  // Drawn last, so that the draws before stay what they were before runs had them.
  const coordination = options.cluster.stateMachine === "kv" ? drawCoordination(prng) : undefined;
  // ZAB's zxid counter: often so narrow that epochs run out and hand over within a run.
  const zab = engine === "zab" ? { counterBits: prng.pick([3, 5, 32]) } : undefined;
  return { ...options, cluster: { ...options.cluster, zab }, coordination };
}

export { currentLeader };

/** One seed: a safety phase with faults and checks on every step, then heal and check liveness and the history. */
export function runSeed(seed: number, tracer?: Tracer, engine?: EngineName): Promise<RunResult> {
  return runWithOptions(optionsFromSeed(seed, tracer, engine));
}

export async function runWithOptions(options: RunOptions): Promise<RunResult> {
  const coordination = Coordination.ofRun(options);
  const cluster = new SimCluster(coordination?.clusterOptions(options.cluster) ?? options.cluster);
  const prng = cluster.prng.fork();
  const kv =
    options.cluster.stateMachine === "kv"
      ? new KvWorkload(cluster, prng.fork(), { keys: options.keys, readMode: options.readMode })
      : undefined;
  const workload = kv ?? new IdWorkload(cluster, prng.fork(), { readMode: options.readMode });
  const faultPrng = prng.fork();
  coordination?.attach(cluster, prng.fork());
  cluster.start();
  workload.start(options.clients, options.safetyMs, options.thinkMaxMs);
  new FaultSchedule(cluster, faultPrng, options, workload, coordination).plan();
  await cluster.runUntil(options.safetyMs);
  if (cluster.checker.violations.length === 0) coordination?.endSafetyPhase();
  if (cluster.checker.violations.length === 0) {
    const election = options.cluster.electionTimeoutMs;
    const leader = await checkLiveness(cluster, kv, { livenessMs: options.livenessMs, electionTimeoutMs: election });
    if (leader !== undefined) await coordination?.checkLiveness(leader);
  }
  coordination?.stop();
  if (cluster.checker.violations.length === 0 && kv !== undefined) {
    const checked = checkHistory(kv.recorder.history());
    if (!checked.ok)
      cluster.checker.fail("linearizability", `key ${JSON.stringify(checked.key)}: ${checked.explanation}`);
  }
  return {
    seed: options.cluster.seed,
    nodeCount: options.cluster.nodeCount,
    violations: cluster.checker.violations,
    steps: cluster.world.steps,
    messages: cluster.messagesDelivered,
    virtualMs: cluster.now,
    requests: workload.counts,
    snapshotsInstalled: cluster.snapshotsInstalled,
    operations: kv?.recorder.history().length ?? 0,
    coordination: coordination?.counts ?? noCoordination(),
  };
}

/**
 * The faults of the safety phase, one every so often: partitions, one-way cuts, crashes (some
 * placed right after a vote, an acknowledgement, a commit or an append leaves), restarts, stalls,
 * failing disks, membership changes, and the healed-member episode (below).
 */
class FaultSchedule {
  readonly #cluster: SimCluster;
  readonly #prng: Prng;
  readonly #options: RunOptions;
  readonly #workload: KvWorkload | IdWorkload;
  readonly #coordination: CoordFaults | undefined;
  /** No other fault starts before this time: the healed-member episode needs the network to itself. */
  #quietUntil = 0;

  constructor(
    cluster: SimCluster,
    prng: Prng,
    options: RunOptions,
    workload: KvWorkload | IdWorkload,
    coordination: Coordination | undefined,
  ) {
    this.#cluster = cluster;
    this.#prng = prng;
    this.#options = options;
    this.#workload = workload;
    this.#coordination = coordination?.faults((time, action) => this.#later(time, action));
  }

  /**
   * A leader just cut off may still serve reads from its lease: read at it, from a random moment on
   * (reads join the node's ReadIndex round in flight, so a read sent too early would hold back every
   * later one until that round times out).
   */
  #probeCutOffLeader(leader: NodeId): void {
    const election = this.#options.cluster.electionTimeoutMs;
    const from = this.#cluster.now + this.#prng.next() * 1.5 * election;
    this.#later(from, () => this.#workload.probe(leader, from + 1.5 * election));
  }

  /** Runs `action` at `time` if the safety phase has not ended by then (the heal undoes every fault). */
  #later(time: number, action: () => void): void {
    this.#cluster.at(time, () => {
      if (this.#cluster.now < this.#options.safetyMs) action();
    });
  }

  plan(): void {
    const { safetyMs, faultIntervalMaxMs } = this.#options;
    for (let t = this.#prng.int(1, faultIntervalMaxMs); t < safetyMs; t += this.#prng.int(1, faultIntervalMaxMs)) {
      this.#later(t, () => {
        if (this.#cluster.now >= this.#quietUntil) this.#inject();
      });
    }
  }

  #trace(text: string): void {
    this.#cluster.trace(undefined, text);
  }

  /** A membership change, a lease edge or a coordination fault, when the draw picks one; whether it did. */
  #injectSpecial(): boolean {
    const c = this.#cluster;
    const p = this.#prng;
    if (this.#options.membershipChanges && p.chance(0.25)) {
      const leader = c.liveIds().find((id) => c.node(id)!.raft.status().role === "leader");
      if (leader === undefined) return true;
      if (p.chance(0.3)) this.#splitJointChange(leader);
      else {
        void c.request(leader, () => {
          changeMembership(c, p, leader);
          return Promise.resolve();
        });
      }
      return true;
    }
    if (this.#options.readMode === "lease" && p.chance(0.25)) {
      this.#leaseEdge();
      return true;
    }
    if (this.#coordination === undefined || !p.chance(0.3)) return false;
    this.#quietUntil = Math.max(this.#quietUntil, c.now + this.#coordination.inject());
    return true;
  }

  #inject(): void {
    const c = this.#cluster;
    const p = this.#prng;
    const ids = c.ids;
    if (this.#injectSpecial()) return;
    switch (p.int(0, 12)) {
      case 0: {
        const shuffled = [...ids].sort(() => p.next() - 0.5);
        const cut = p.int(1, ids.length);
        c.network.heal();
        c.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
        c.networkChanged();
        this.#trace(`partition ${names(c, shuffled.slice(0, cut))} | ${names(c, shuffled.slice(cut))}`);
        return;
      }
      case 1: {
        const leader = currentLeader(c);
        if (leader === undefined) return;
        c.network.partition([[leader], ids.filter((id) => id !== leader)]);
        c.networkChanged();
        this.#trace(`isolate leader ${c.nameOf(leader)}`);
        this.#probeCutOffLeader(leader);
        return;
      }
      case 2: {
        const from = p.pick(ids);
        const to = p.pick(ids.filter((id) => id !== from));
        c.network.cutOneWay(from, to);
        c.networkChanged();
        this.#trace(`cut one way ${c.nameOf(from)}→${c.nameOf(to)}`);
        return;
      }
      case 3:
        c.network.heal();
        c.networkChanged();
        this.#trace("heal network");
        return;
      case 4: {
        const placement = p.pick<CrashPlacement>(["afterVote", "afterAck", "afterCommitSent", "afterAppendSent"]);
        c.armCrash(placement);
        this.#trace(`the next member to send such a message crashes: ${placement}`);
        return;
      }
      case 5:
        c.crash(p.pick(ids), p.chance(0.7) ? "power" : "process");
        return;
      case 6: {
        const live = c.liveIds();
        const leader = currentLeader(c);
        if (leader !== undefined && p.chance(0.5)) this.#stalledLeader(leader);
        else if (live.length > 0) c.stall(p.pick(live), p.next() * 3 * this.#options.cluster.electionTimeoutMs);
        return;
      }
      case 7: {
        const id = p.pick(ids);
        if (p.chance(0.5)) {
          c.failDisk(id, p.pick(["EIO", "ENOSPC"] as const));
          this.#later(c.now + p.int(10, 300), () => c.failDisk(id, undefined));
        } else {
          c.slowDisk(id, p.int(1, 2 * this.#options.cluster.electionTimeoutMs));
          this.#later(c.now + p.int(100, 1000), () => c.slowDisk(id, undefined));
        }
        return;
      }
      case 8:
        this.#healedMemberEpisode();
        return;
      case 9:
        this.#abandonedTransfer();
        return;
      default: {
        const down = ids.filter((id) => c.member(id).state === "down" && !c.member(id).corrupt);
        if (down.length > 0) c.restart(p.pick(down));
        return;
      }
    }
  }

  /**
   * Where the lease is thinnest: on a fast, quiet network with fast disks, the leader is cut off
   * while clients keep reading from it, and the follower that times out first may win and commit
   * within milliseconds, near the end of the old leader's lease. Repeated with each new leader, for
   * the draws of election timeouts and tick phases that bring the two closest.
   */
  #leaseEdge(): void {
    const c = this.#cluster;
    const election = this.#options.cluster.electionTimeoutMs;
    const faults = c.network.faults;
    const rounds = this.#prng.int(3, 10);
    this.#quietUntil = c.now + rounds * 3 * election;
    c.armCrash(undefined);
    c.network.faults = { ...HEALTHY_NETWORK, delayMaxMs: 1 };
    c.network.heal();
    c.networkChanged();
    for (const id of c.ids) c.slowDisk(id, 0.2);
    for (const m of c.members) if (m.state === "down" && !m.corrupt) c.restart(m.id);
    this.#trace(`episode: lease edge, ${rounds} rounds`);
    for (let round = 0; round < rounds; round++) {
      const at = c.now + (round * 3 + 1) * election;
      this.#later(at, () => {
        const leader = currentLeader(c);
        if (leader === undefined) return;
        this.#trace(`episode: lease edge, leader ${c.nameOf(leader)} is cut off after its next heartbeat`);
        c.armIsolationAfterHeartbeatAck({ leader, then: () => this.#workload.probe(leader, c.now + 1.5 * election) });
      });
      this.#later(at + 2 * election, () => {
        c.armIsolationAfterHeartbeatAck(undefined);
        c.network.heal();
        c.networkChanged();
      });
    }
    this.#later(this.#quietUntil, () => {
      c.network.faults = faults;
      for (const id of c.ids) c.slowDisk(id, undefined);
    });
  }

  /**
   * A leader whose own process stalls (GC, a blocked disk call) while it is cut off: the others
   * elect a new leader and commit meanwhile, and clients keep sending it reads, which it finds
   * waiting when it wakes up, sometimes ahead of its overdue timer. Its lease is void across its
   * own stall, noticed or not.
   */
  #stalledLeader(leader: NodeId): void {
    const c = this.#cluster;
    const election = this.#options.cluster.electionTimeoutMs;
    const stallMs = this.#prng.int(election, 3 * election);
    this.#quietUntil = c.now + stallMs + election;
    c.network.heal();
    c.network.partition([[leader], c.ids.filter((id) => id !== leader)]);
    c.networkChanged();
    c.stall(leader, stallMs);
    this.#trace(`stall leader ${c.nameOf(leader)}, cut off, for ${stallMs}ms`);
    const wake = c.now + stallMs;
    if (this.#prng.chance(0.5)) {
      // A second pause just before it wakes (a GC right after a blocking call): its overdue timer
      // now queues behind the input that arrives meanwhile, which is handled first when it wakes.
      const secondMs = this.#prng.int(1, election);
      this.#quietUntil += secondMs;
      this.#later(wake - 2, () => c.stall(leader, secondMs + 2));
      this.#later(wake - 1, () => this.#workload.probe(leader, wake + secondMs + election));
      return;
    }
    const from = wake - this.#prng.next() * election;
    this.#later(from, () => this.#workload.probe(leader, from + election));
  }

  /**
   * Issue 12's stale lease read, as a schedule: a transfer to a member that lags (its link to the
   * leader is down, so the others confirm the leader's heartbeats meanwhile), the link comes back,
   * the TimeoutNow gets out, and the leader is cut off right after. The target may win while the old
   * leader, once it abandons the transfer, goes on serving reads in what it takes for its lease.
   */
  #abandonedTransfer(): void {
    const c = this.#cluster;
    const leader = currentLeader(c);
    if (leader === undefined) return;
    const targets = [...c.node(leader)!.raft.config().incoming].filter(
      (id) => id !== leader && c.node(id) !== undefined,
    );
    if (targets.length === 0) return;
    const target = this.#prng.pick(targets);
    const election = this.#options.cluster.electionTimeoutMs;
    const lagMs = this.#prng.int(Math.ceil(0.2 * election), Math.ceil(0.6 * election));
    // The rest of the schedule waits: a heal now would end the episode before the lease does.
    this.#quietUntil = c.now + lagMs + 4 * election;
    c.network.heal();
    c.network.partition([[leader], [target]]);
    c.networkChanged();
    void c.request(leader, (node) => Promise.resolve(node.raft.transferLeader(target)));
    this.#trace(`transfer ${c.nameOf(leader)}→${c.nameOf(target)}, which lags: their link is down for ${lagMs}ms`);
    this.#later(c.now + lagMs, () => {
      c.armIsolationAfterTimeoutNow((member) => this.#probeCutOffLeader(member));
      c.network.heal();
      c.networkChanged();
    });
  }

  /**
   * A joint change that replaces voters with learners commits, and only the leader's side hears of
   * the commit before the network splits and the leader crashes. The joint configuration is in force
   * on that side alone; the other side, a majority of the old voters, still runs the old one and
   * elects a leader of its own. The joint side must not, for it lacks a majority of the outgoing
   * configuration (both sides electing in the same term would give it two leaders). Learners are
   * added and caught up first, two where there are spare members, so that the joint side holds a
   * majority of the new voters even without its leader.
   */
  #splitJointChange(leaderId: NodeId): void {
    const c = this.#cluster;
    const election = this.#options.cluster.electionTimeoutMs;
    const leader = c.node(leaderId)!.raft;
    const config = leader.config();
    if (config.outgoing !== undefined) return;
    const spare = c.ids.find((id) => !membersOf(c, leaderId).has(id) && c.node(id) !== undefined);
    if (config.learners.size < 2 && spare !== undefined) {
      this.#quietUntil = c.now + 3 * election;
      void c.request(leaderId, () =>
        leader
          .proposeConfChange({ type: "addLearner", id: spare, context: memberContext(c, spare) })
          .catch(() => undefined),
      );
      this.#trace(`add learner ${c.nameOf(spare)}, to replace a voter with`);
      this.#later(c.now + 2 * election, () => {
        if (c.node(leaderId)?.raft === leader && leader.status().role === "leader") this.#splitJointChange(leaderId);
      });
      return;
    }
    const promoted = [...config.learners];
    if (promoted.length === 0) return;
    const live = (id: NodeId): boolean => c.node(id) !== undefined;
    const others = [...config.incoming]
      .filter((id) => id !== leaderId)
      .sort(() => this.#prng.next() - 0.5)
      .sort((a, b) => Number(live(b)) - Number(live(a)));
    const majority = Math.floor(config.incoming.size / 2) + 1;
    // Old voters on the leader's side: enough for the new voters there to be a majority without
    // the leader, if the old voters left outside still hold a majority of the old configuration.
    const withoutLeader = Math.max(0, majority - promoted.length);
    const joining =
      config.incoming.size - 1 - withoutLeader >= majority
        ? withoutLeader
        : Math.max(0, majority - 1 - promoted.length);
    const side = [leaderId, ...promoted, ...others.slice(0, joining)];
    const removed = others.slice(joining, joining + promoted.length);
    const changes = [
      ...promoted.map((id) => ({ type: "promote" as const, id, context: memberContext(c, id) })),
      ...removed.map((id) => ({ type: "remove" as const, id, context: memberContext(c, id) })),
    ];
    // Long enough for both sides to campaign.
    this.#quietUntil = c.now + 8 * election;
    const outside = c.ids.filter((id) => !side.includes(id));
    this.#trace(
      `replace ${names(c, removed)} with ${names(c, promoted)}; once it commits, only ${names(c, side)} hear of it`,
    );
    void c.request(leaderId, () => {
      const proposed = leader
        .proposeConfChange(changes)
        .catch((error: unknown) =>
          this.#trace(`the joint change: ${error instanceof Error ? error.message : String(error)}`),
        );
      const index = leader.status().lastIndex;
      c.armAfterCommitSent(leaderId, index, () => {
        c.network.heal();
        c.network.partition([side, outside]);
        c.networkChanged();
        this.#trace(`the network splits right after ${c.nameOf(leaderId)} sent commit ${index}`);
      });
      this.#later(c.now + 2 * election, () => c.crash(leaderId, "process"));
      return proposed;
    });
  }

  /**
   * With pre-vote and check-quorum on, a member that was cut off and comes back must not depose a
   * leader that kept a quorum: the network goes quiet for three election timeouts (so that the
   * leader's last check-quorum round saw it quiet), one follower is isolated for a few election
   * timeouts and healed, and the leader must keep its term for four more. Not Multi-Paxos: it
   * has no pre-vote, and a healed member's higher ballot may depose its leader (docs/engines.md);
   * ZAB's looking member learns of the leader instead, unless its epoch runs out of zxids.
   */
  #healedMemberEpisode(): void {
    const c = this.#cluster;
    const raft = this.#options.cluster.raft;
    const { engine, zab } = this.#options.cluster;
    if (raft.preVote === false || raft.checkQuorum === false || engine === "multi-paxos") return;
    // A narrow zxid counter ends ZAB's epochs by design, healed member or not.
    if (engine === "zab" && zab?.counterBits !== 32) return;
    const election = this.#options.cluster.electionTimeoutMs;
    const isolatedMs = this.#prng.int(2 * election, 4 * election);
    const faults = c.network.faults;
    const settledAt = c.now + 3 * election;
    this.#quietUntil = settledAt + isolatedMs + 4 * election;
    c.armCrash(undefined);
    c.network.faults = HEALTHY_NETWORK;
    c.network.heal();
    c.networkChanged();
    // A leader whose fdatasync stalls past an election timeout is deposed by any follower (its
    // Ready loop waits for the disk, as etcd's does): not what this episode is about.
    c.steadyDisks(true);
    this.#trace("episode: the network and the disks go quiet");
    const end = (): void => {
      c.network.faults = faults;
      c.steadyDisks(false);
      this.#quietUntil = c.now;
    };
    this.#later(settledAt, () => {
      const leaderId = currentLeader(c);
      const leader = leaderId === undefined ? undefined : c.node(leaderId)!.raft;
      const config = leader?.config();
      if (
        leaderId === undefined ||
        leader === undefined ||
        config === undefined ||
        config.outgoing !== undefined ||
        !config.incoming.has(leaderId) ||
        c.members.some((m) => m.stalledUntil > c.now || m.syncLatencyMs !== undefined || m.diskFailing)
      ) {
        end();
        return;
      }
      const followers = [...config.incoming].filter((id) => id !== leaderId && c.node(id) !== undefined);
      const live = [...config.incoming].filter((id) => c.node(id) !== undefined).length;
      // The leader must keep a quorum without the one it loses.
      if (followers.length === 0 || 2 * (live - 1) <= config.incoming.size) {
        end();
        return;
      }
      const follower = this.#prng.pick(followers);
      const term = leader.status().term;
      c.network.partition([[follower], c.ids.filter((id) => id !== follower)]);
      c.networkChanged();
      this.#trace(
        `episode: isolate follower ${c.nameOf(follower)} of leader ${c.nameOf(leaderId)} (term ${term}) for ${isolatedMs}ms, then heal`,
      );
      this.#later(c.now + isolatedMs, () => {
        c.network.heal();
        c.networkChanged();
        this.#trace(`episode: ${c.nameOf(follower)} healed`);
      });
      this.#later(this.#quietUntil, () => {
        end();
        const now = c.node(leaderId)?.raft.status();
        if (now === undefined) return;
        if (now.role !== "leader" || now.term !== term) {
          c.checker.fail(
            "disruptedLeader",
            `leader ${c.nameOf(leaderId)} of term ${term}, connected to a quorum, is ${now.role} in term ${now.term} after ${c.nameOf(follower)} was healed`,
          );
        }
      });
    });
  }
}

function names(cluster: SimCluster, ids: readonly NodeId[]): string {
  return ids.map((id) => cluster.nameOf(id)).join(",");
}
