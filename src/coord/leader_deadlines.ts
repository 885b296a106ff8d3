import type { KvListener, KvStore } from "../kv/index.js";
import type { Clock } from "../node/index.js";
import { DeadlineQueue } from "./deadline_queue.js";
import type { LessorNode } from "./lessor_node.js";

interface LeaderDeadlinesOptions {
  readonly kv: KvStore;
  readonly node: LessorNode;
  readonly clock: Clock;
  readonly electionTimeoutMs: number;
  /** Called once a promotion has set every deadline. */
  readonly promoted: (term: number) => void;
}

/**
 * Each lease's deadline on this member's monotonic clock, kept only while it leads (docs/coordination.md,
 * "How expiry is decided"). Leadership is noticed by polling the node's role and term (`sync`), the
 * leases' comings and goings by listening to the store.
 */
export class LeaderDeadlines implements KvListener {
  readonly queue = new DeadlineQueue();
  readonly #o: LeaderDeadlinesOptions;
  /** The term this member leads in, as last seen; undefined while it does not lead. */
  #term: number | undefined;
  #closed = false;

  constructor(options: LeaderDeadlinesOptions) {
    this.#o = options;
    options.kv.listen(this);
  }

  /** The term this member leads in now, or undefined; a change of role or term is acted on first. */
  sync(): number | undefined {
    if (this.#closed) return undefined;
    const { role, term } = this.#o.node.status();
    if (role !== "leader") {
      if (this.#term !== undefined) this.#stepDown();
      return undefined;
    }
    if (this.#term !== term) this.#promote(term);
    return term;
  }

  /** Moves the lease's deadline to a whole TTL from now; false if this member leads no such lease. */
  extend(id: number): boolean {
    if (this.#term === undefined) return false;
    const lease = this.#o.kv.leaseInfo(id);
    if (lease === undefined) return false;
    this.queue.set(id, this.#o.clock.now() + lease.ttlSeconds * 1000);
    return true;
  }

  close(): void {
    this.#closed = true;
    this.#stepDown();
  }

  leaseGranted(id: number, ttlSeconds: number): void {
    if (this.#term !== undefined) this.queue.set(id, this.#o.clock.now() + ttlSeconds * 1000);
  }

  leaseRevoked(id: number): void {
    this.queue.delete(id);
  }

  /** The leases were replaced wholesale: start over, and if this member still leads, the next sync extends them all. */
  restored(): void {
    this.#stepDown();
  }

  /**
   * A new leader cannot know which keepalives its predecessor acknowledged last, and the clients
   * need an election's time to find it: every lease gets its remaining time and an election
   * timeout before this member may expire it.
   */
  #promote(term: number): void {
    const now = this.#o.clock.now();
    this.queue.clear();
    for (const lease of this.#o.kv.leases()) {
      const remainingMs = lease.remainingMs ?? lease.ttlSeconds * 1000;
      this.queue.set(lease.id, now + remainingMs + this.#o.electionTimeoutMs);
    }
    this.#term = term;
    this.#o.promoted(term);
  }

  #stepDown(): void {
    this.#term = undefined;
    this.queue.clear();
  }
}
