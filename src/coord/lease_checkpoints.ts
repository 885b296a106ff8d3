import { leaseCheckpointsMax, type KvStore, type LeaseCheckpoint } from "../kv/index.js";
import type { Clock, Timer } from "../node/index.js";
import type { LeaderDeadlines } from "./leader_deadlines.js";

interface LeaseCheckpointsOptions {
  readonly kv: KvStore;
  readonly clock: Clock;
  readonly deadlines: LeaderDeadlines;
  readonly intervalMs: number;
  /** Proposes one checkpoint entry; resolves once it is applied here. */
  readonly checkpoint: (checkpoints: readonly LeaseCheckpoint[]) => Promise<unknown>;
}

/**
 * Every `intervalMs` the leader writes down how long each lease with a TTL over the interval has
 * left, so that a leader change does not give a long lease its whole TTL again. Shorter leases are
 * left alone: a new leader's extension costs them less than an interval.
 */
export class LeaseCheckpoints {
  readonly #o: LeaseCheckpointsOptions;
  readonly #timer: Timer;
  #inFlight: Promise<void> | undefined;

  constructor(options: LeaseCheckpointsOptions) {
    this.#o = options;
    this.#timer = options.clock.every(options.intervalMs, () => this.#write());
  }

  /**
   * The checkpoint entries being written, if any: settles once each is applied or failed. A keepalive
   * waits for them before it looks for a checkpoint to clear, or one computed before it arrived could
   * land after its answer and shorten the lease it renewed.
   */
  get inFlight(): Promise<void> | undefined {
    return this.#inFlight;
  }

  close(): void {
    this.#timer.cancel();
  }

  #write(): void {
    if (this.#inFlight !== undefined || this.#o.deadlines.sync() === undefined) return;
    const batches = this.#batches();
    if (batches.length === 0) return;
    // A failed entry is simply written again, up to date, at the next interval.
    const written = Promise.allSettled(batches.map((batch) => this.#o.checkpoint(batch))).then(() => {
      this.#inFlight = undefined;
    });
    this.#inFlight = written;
  }

  #batches(): LeaseCheckpoint[][] {
    const { kv, clock, deadlines, intervalMs } = this.#o;
    const now = clock.now();
    const batches: LeaseCheckpoint[][] = [];
    let batch: LeaseCheckpoint[] = [];
    for (const lease of kv.leases()) {
      const ttlMs = lease.ttlSeconds * 1000;
      const deadline = deadlines.queue.get(lease.id);
      if (ttlMs <= intervalMs || deadline === undefined) continue;
      // Rounded up, and capped at the TTL: the most a checkpoint can say.
      batch.push({ id: lease.id, remainingMs: Math.min(ttlMs, Math.max(0, Math.ceil(deadline - now))) });
      if (batch.length === leaseCheckpointsMax) {
        batches.push(batch);
        batch = [];
      }
    }
    if (batch.length > 0) batches.push(batch);
    return batches;
  }
}
