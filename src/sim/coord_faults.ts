import type { NodeId } from "../raft/index.js";
import type { Prng } from "../util/prng.js";
import type { SimCluster } from "./cluster.js";
import type { CoordMembers } from "./coord_members.js";
import { currentLeader } from "./leaders.js";
import type { WatchWorkload } from "./watch_workload.js";

/**
 * The faults the coordination checks need, mixed into a KV run's fault schedule: the leader's loop
 * stalled past its leases' deadlines while clients renew them; the members serving watches crashed
 * or stopped (SIGTERM: their streams end with `stopping`); the leader crashed while leases are kept
 * alive; and compactions asked for while watches catch up.
 */
export class CoordFaults {
  readonly #cluster: SimCluster;
  readonly #coord: CoordMembers;
  readonly #watches: WatchWorkload;
  readonly #prng: Prng;
  readonly #electionTimeoutMs: number;
  readonly #safetyMs: number;
  /** Runs an action later if the safety phase has not ended by then. */
  readonly #later: (time: number, action: () => void) => void;

  constructor(options: {
    cluster: SimCluster;
    coord: CoordMembers;
    watches: WatchWorkload;
    prng: Prng;
    electionTimeoutMs: number;
    safetyMs: number;
    later: (time: number, action: () => void) => void;
  }) {
    this.#cluster = options.cluster;
    this.#coord = options.coord;
    this.#watches = options.watches;
    this.#prng = options.prng;
    this.#electionTimeoutMs = options.electionTimeoutMs;
    this.#safetyMs = options.safetyMs;
    this.#later = options.later;
  }

  /** Injects one fault; returns how long the rest of the schedule should leave the cluster alone. */
  inject(): number {
    const roll = this.#prng.next();
    if (roll < 0.2) return this.#stallLeaderPastLeases();
    if (roll < 0.4) return this.#crashWatched(false);
    if (roll < 0.6) return this.#crashWatched(true);
    if (roll < 0.75) return this.#crashLeader();
    const live = this.#cluster.liveIds();
    if (live.length > 0) this.#watches.compact(this.#prng.pick(live));
    return 0;
  }

  /**
   * The leader's own loop stalls (not cut off) for longer than any of its leases has left: the
   * keepalives sent meanwhile wait in its input, and must count before it decides any expiry.
   */
  #stallLeaderPastLeases(): number {
    const c = this.#cluster;
    const leader = currentLeader(c);
    const lessor = leader === undefined ? undefined : this.#coord.lessor(leader);
    const kv = leader === undefined ? undefined : c.kv(leader);
    if (leader === undefined || lessor === undefined || kv === undefined) return 0;
    const rate = c.member(leader).rate;
    const now = c.now * rate;
    let leftMs = 0;
    for (const lease of kv.leases()) leftMs = Math.max(leftMs, ((lessor.deadlineOf(lease.id) ?? now) - now) / rate);
    const election = this.#electionTimeoutMs;
    // Over within two election timeouts of the heal, as the liveness phase expects of every stall.
    const stallMs = Math.min(
      leftMs + this.#prng.int(Math.ceil(election / 2), 2 * election),
      this.#safetyMs + 2 * election - c.now,
    );
    c.stall(leader, stallMs);
    c.trace(
      undefined,
      `stall leader ${c.nameOf(leader)} for ${stallMs.toFixed(0)}ms, past its leases' deadlines (the last in ${leftMs.toFixed(0)}ms)`,
    );
    return stallMs + election;
  }

  /** Crashes the member serving the most watches, or stops it as SIGTERM does; it restarts a little later. */
  #crashWatched(graceful: boolean): number {
    const c = this.#cluster;
    const serving = new Map<NodeId, number>();
    for (const client of this.#watches.clients)
      if (client.member !== undefined) serving.set(client.member, (serving.get(client.member) ?? 0) + 1);
    const busiest = [...serving].sort((a, b) => b[1] - a[1])[0]?.[0];
    if (busiest === undefined) return 0;
    if (graceful) {
      c.trace(busiest, "SIGTERM: watch streams end with stopping, then the process exits");
      void c.request(busiest, () => {
        // Held back by a stall past the heal, the signal is ignored: the liveness phase stops nothing.
        if (c.now >= this.#safetyMs) return Promise.resolve();
        this.#coord.stopWatches(busiest);
        c.crash(busiest, "process");
        return Promise.resolve();
      });
    } else c.crash(busiest, this.#prng.chance(0.5) ? "power" : "process");
    this.#restartLater(busiest);
    return 0;
  }

  /** The leader crashes while clients keep their leases alive: the next one owes them an election timeout. */
  #crashLeader(): number {
    const c = this.#cluster;
    const leader = currentLeader(c);
    if (leader === undefined) return 0;
    c.crash(leader, "process");
    this.#restartLater(leader);
    return this.#electionTimeoutMs;
  }

  #restartLater(id: NodeId): void {
    const election = this.#electionTimeoutMs;
    this.#later(this.#cluster.now + this.#prng.int(election, 4 * election), () => this.#cluster.restart(id));
  }
}
