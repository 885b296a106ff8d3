import { minimumTtlSeconds } from "../coord/index.js";
import type { NodeId } from "../raft/index.js";
import { Prng } from "../util/prng.js";
import type { ClusterOptions, SimCluster } from "./cluster.js";
import { CoordFaults } from "./coord_faults.js";
import { CoordMembers, type CoordTuning } from "./coord_members.js";
import { noCoordination } from "./coordination_counts.js";
import { LeaseChecks, type LeaseRules } from "./lease_checks.js";
import { checkLingering } from "./lease_liveness.js";
import { LeaseWorkload } from "./lease_workload.js";
import { WatchWorkload } from "./watch_workload.js";

/** What a KV run draws for its watches and leases (small bounds, so that the limits are reached). */
export interface CoordinationOptions {
  readonly tuning: CoordTuning;
  readonly watchersPerMember: number;
  /** For the watches whose reader is sometimes full: the chance, after each message, that it is. */
  readonly refuseRate: number;
  readonly leaseClients: number;
}

export function drawCoordination(prng: Prng): CoordinationOptions {
  return {
    tuning: {
      bufferEventsMax: prng.int(3, 51),
      progressIntervalMs: prng.int(100, 1001),
      historyRevisionsMax: prng.int(10, 61),
      revokesPerSecond: prng.pick([2, 10, 1000]),
      checkpointIntervalMs: prng.int(200, 2001),
      checkIntervalMs: 100,
    },
    // Some runs go without watches or without leases: each changes the others' timing (runs
    // without watches found two lessor bugs that runs with them had not).
    watchersPerMember: prng.pick([0, 1, 1, 2]),
    refuseRate: prng.pick([0.05, 0.2, 0.5]),
    leaseClients: prng.int(0, 5),
  };
}

/** The parts of a run the coordination depends on. */
interface Run {
  readonly cluster: ClusterOptions;
  readonly safetyMs: number;
  readonly keys: number;
  readonly livenessMs: number;
}

interface Attached {
  readonly cluster: SimCluster;
  readonly watches: WatchWorkload;
  readonly leases: LeaseChecks;
  readonly leaseClients: LeaseWorkload;
  readonly rules: LeaseRules;
  readonly prng: Prng;
}

/**
 * Watches and leases in a KV run: the services on every member life (CoordMembers), the watch and
 * lease clients, the faults they need, and their checks: on every step as things happen, at the
 * end of the safety phase, and after the heal.
 */
export class Coordination {
  readonly counts = noCoordination();
  readonly members: CoordMembers;
  readonly #run: Run;
  readonly #options: CoordinationOptions;
  #attached: Attached | undefined;
  #stopped = false;

  constructor(run: Run, options: CoordinationOptions) {
    this.#run = run;
    this.#options = options;
    this.members = new CoordMembers({
      tuning: options.tuning,
      electionTimeoutMs: run.cluster.electionTimeoutMs,
      random: new Prng(run.cluster.seed ^ 0x1ea5e),
      observer: {
        // The lease checks listen first: a revoke is checked before the history records its revision.
        store: (member, kv) => {
          this.#attached?.leases.store(member, kv);
          this.#attached?.watches.recordStore(member, kv);
        },
        promoted: (member, view, term) => this.#attached?.leases.promoted(member, view, term),
        expiring: (member, id) => this.#attached?.leases.expiring(member, id),
      },
    });
  }

  /** A run's coordination, if it has one: KV runs only (a test may swap in a state machine of its own). */
  static ofRun(run: Run & { readonly coordination: CoordinationOptions | undefined }): Coordination | undefined {
    const kv = run.cluster.stateMachine === "kv";
    return run.coordination === undefined || !kv ? undefined : new Coordination(run, run.coordination);
  }

  /** `options` with the services started on every member life. */
  clusterOptions(options: ClusterOptions): ClusterOptions {
    return { ...options, beforeStart: this.members.beforeStart, services: this.members.services };
  }

  /** Sets up the clients and the checks on `cluster` (before it starts: they see every store). */
  attach(cluster: SimCluster, prng: Prng): void {
    const run = this.#run;
    const tuning = this.#options.tuning;
    const stopped = (): boolean => this.#stopped || cluster.checker.violations.length > 0;
    const watches = new WatchWorkload({ cluster, coord: this.members, counts: this.counts, stopped }, prng.fork(), {
      watchersPerMember: this.#options.watchersPerMember,
      startMaxMs: run.safetyMs,
      keys: run.keys,
      refuseRate: this.#options.refuseRate,
    });
    const rules: LeaseRules = {
      clockDrift: run.cluster.clockDrift,
      electionTimeoutMs: run.cluster.electionTimeoutMs,
      checkIntervalMs: tuning.checkIntervalMs,
      revokesPerSecond: tuning.revokesPerSecond,
      commitBoundMs: 2 * run.cluster.electionTimeoutMs + 2 * run.cluster.disk.slowSyncMaxMs,
    };
    const leases = new LeaseChecks({
      cluster,
      counts: this.counts,
      rules,
      eventsAt: (revision) => watches.history.eventsAt(revision),
    });
    const leaseClients = new LeaseWorkload({ cluster, coord: this.members, checks: leases, stopped }, prng.fork(), {
      clients: this.#options.leaseClients,
      minTtlSeconds: minimumTtlSeconds(run.cluster.electionTimeoutMs),
      untilMs: run.safetyMs,
    });
    this.#attached = { cluster, watches, leases, leaseClients, rules, prng };
    leaseClients.start();
    watches.start(cluster.initialIds);
  }

  /** The coordination faults, for the run's fault schedule to mix in. */
  faults(later: (time: number, action: () => void) => void): CoordFaults {
    const { cluster, watches, prng } = this.#required();
    return new CoordFaults({
      cluster,
      coord: this.members,
      watches,
      prng: prng.fork(),
      electionTimeoutMs: this.#run.cluster.electionTimeoutMs,
      safetyMs: this.#run.safetyMs,
      later,
    });
  }

  /** Every watch stream so far keeps the watch guarantees; then the lease clients that were to give up their leases do. */
  endSafetyPhase(): void {
    const { watches, leaseClients } = this.#required();
    watches.check("at the end of the safety phase");
    leaseClients.heal();
  }

  /** After the heal, with `leader` stable: unrenewed leases go within their bound, watches catch up, streams stay correct. */
  async checkLiveness(leader: NodeId): Promise<void> {
    const { cluster, watches, leases, rules } = this.#required();
    await checkLingering(cluster, leases, rules, leader);
    if (cluster.checker.violations.length > 0) return;
    await watches.checkCaughtUp(leader, this.#run.livenessMs);
    if (cluster.checker.violations.length === 0) watches.check("after the liveness phase");
  }

  /** The run is over: the clients stop. */
  stop(): void {
    this.#stopped = true;
  }

  #required(): Attached {
    if (this.#attached === undefined) throw new Error("the coordination is not attached to a cluster yet");
    return this.#attached;
  }
}
