import { checkLeaseId, leaseCheckpointsMax, leaseTtlSecondsMax, type KvStore, type LeaseInfo } from "../kv/index.js";
import { NodeRequestError, type Clock } from "../node/index.js";
import { assert } from "../util/assert.js";
import { NO_NODE } from "../util/ids.js";
import { LeaderDeadlines } from "./leader_deadlines.js";
import { LeaseCheckpoints } from "./lease_checkpoints.js";
import { LeaseError } from "./lease_error.js";
import { LeaseExpiry } from "./lease_expiry.js";
import { proposeKv, type LessorNode } from "./lessor_node.js";

export interface LessorOptions {
  readonly kv: KvStore;
  readonly node: LessorNode;
  readonly clock: Clock;
  /** The node's (minimum) election timeout: the minimum TTL and a new leader's extension follow from it. */
  readonly electionTimeoutMs: number;
  /** Uniform in [0, 1): picks the ids the caller leaves to the lessor (seeded in the simulator, so runs replay). */
  readonly random: () => number;
  readonly revokesPerSecond?: number;
  readonly checkpointIntervalMs?: number;
  readonly checkIntervalMs?: number;
  /** For checks (the simulator's): what the lessor decides, as it decides it. The server passes none. */
  readonly observer?: LessorObserver;
}

/** The lessor's decisions, for a checker to hold against the rules of docs/coordination.md. */
interface LessorObserver {
  /** This member started leading in `term`, and every lease it knows has its new deadline (`deadlineOf`). */
  promoted?(term: number): void;
  /** The expiry check found lease `id` overdue and is about to propose its revoke. */
  expiring?(id: number): void;
}

export const lessorDefaults = { revokesPerSecond: 1000, checkpointIntervalMs: 300_000, checkIntervalMs: 100 } as const;

/** A lease as granted or renewed: it lives at least `ttlSeconds` from the answer. */
interface LeaseGrant {
  readonly id: number;
  readonly ttlSeconds: number;
}

interface LeaseStatus {
  readonly id: number;
  readonly ttlSeconds: number;
  /** What is left by the leader's clock (0 once its deadline passed and the revoke is on its way). */
  readonly remainingMs: number;
  /** The attached keys, in key order, when asked for. */
  readonly keys?: readonly Uint8Array[];
}

/**
 * The shortest TTL a lease is granted: 1.5 election timeouts, in whole seconds, so that a lease
 * outlives a failover (electing the next leader, then the client's round trip to find it).
 */
export function minimumTtlSeconds(electionTimeoutMs: number): number {
  return Math.ceil((1.5 * electionTimeoutMs) / 1000);
}

/** How many barriers a keepalive or grant tries before it gives up as timed out (each too slow to promise from). */
const confirmAttempts = 3;

/** How often a grant retries with another random id when the one drawn is in use. */
const randomIdAttempts = 3;

/**
 * Grants, renews and expires leases on a member (docs/coordination.md, "Leases"). Only the leader
 * decides expiry, from deadlines on its own monotonic clock; grant, keepalive and timeToLive refuse
 * with a NodeRequestError (notLeader or noLeader) on any other member, for the caller to forward.
 * Revoke and the list are served by any member. Create one per member life; `close` stops it.
 */
export class Lessor {
  readonly minTtlSeconds: number;
  readonly #kv: KvStore;
  readonly #node: LessorNode;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #electionTimeoutMs: number;
  readonly #deadlines: LeaderDeadlines;
  readonly #expiry: LeaseExpiry;
  readonly #checkpoints: LeaseCheckpoints;
  #closed = false;

  constructor(options: LessorOptions) {
    const { kv, node, clock } = options;
    this.#kv = kv;
    this.#node = node;
    this.#clock = clock;
    this.#random = options.random;
    this.#electionTimeoutMs = options.electionTimeoutMs;
    this.minTtlSeconds = minimumTtlSeconds(options.electionTimeoutMs);
    this.#deadlines = new LeaderDeadlines({
      kv,
      node,
      clock,
      electionTimeoutMs: options.electionTimeoutMs,
      promoted: (term) => options.observer?.promoted?.(term),
    });
    this.#expiry = new LeaseExpiry({
      clock,
      deadlines: this.#deadlines,
      checkIntervalMs: options.checkIntervalMs ?? lessorDefaults.checkIntervalMs,
      revokesPerSecond: options.revokesPerSecond ?? lessorDefaults.revokesPerSecond,
      revoke: (id) => {
        options.observer?.expiring?.(id);
        return proposeKv(node, { type: "leaseRevoke", id });
      },
    });
    this.#checkpoints = new LeaseCheckpoints({
      kv,
      clock,
      deadlines: this.#deadlines,
      intervalMs: options.checkpointIntervalMs ?? lessorDefaults.checkpointIntervalMs,
      checkpoint: (checkpoints) => proposeKv(node, { type: "leaseCheckpoint", checkpoints }),
    });
  }

  /**
   * Grants a lease of `ttlSeconds` (1 to leaseTtlSecondsMax; raised to the minimum TTL), as lease
   * `id` if given (a LeaseError leaseExists if it is in use), else under an id picked at random.
   * A client's grant carries its `principal`, checked when applied (a LeaseError permissionDenied).
   */
  async grant(ttlSeconds: number, id?: number, principal?: string): Promise<LeaseGrant> {
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > leaseTtlSecondsMax)
      throw new RangeError(`a lease TTL is 1 to ${leaseTtlSecondsMax} seconds, not ${ttlSeconds}`);
    if (id !== undefined && checkLeaseId(id) !== undefined) throw new RangeError(`${id}: ${checkLeaseId(id)}`);
    const term = this.#leaderTerm();
    const ttl = Math.max(ttlSeconds, this.minTtlSeconds);
    for (let attempt = 1; ; attempt++) {
      const chosen = id ?? randomLeaseId(this.#random);
      const grant = { type: "leaseGrant", id: chosen, ttlSeconds: ttl } as const;
      const result = await proposeKv(this.#node, principal === undefined ? grant : { ...grant, principal });
      if (result.type === "permissionDenied") throw new LeaseError("permissionDenied", chosen);
      if (result.type === "leaseGranted") {
        // As for a keepalive, the answer promises the TTL from now: only while this member still
        // leads. One deposed meanwhile (its loop stalled, say, while the next leader committed the
        // entry) refuses instead; the lease exists unrenewed, and expires as such.
        await this.#confirmed(term, () => Promise.resolve());
        // The TTL runs from the answer, not from the entry's apply a barrier earlier.
        this.#deadlines.extend(chosen);
        return { id: chosen, ttlSeconds: ttl };
      }
      assert(result.type === "leaseExists", `a leaseGrant entry answered ${result.type}`);
      if (id !== undefined || attempt === randomIdAttempts) throw new LeaseError("leaseExists", chosen);
    }
  }

  /**
   * Renews lease `id`: once this resolves, the lease lives at least its TTL from now, whatever
   * leader changes follow. A LeaseError leaseNotFound if it is gone (never granted, revoked, expired).
   */
  async keepAlive(id: number): Promise<LeaseGrant> {
    const [renewed] = await this.keepAliveMany([id]);
    if (renewed instanceof Error) throw renewed;
    return renewed!;
  }

  /**
   * Renews many leases with one read barrier: each answer as keepAlive's, a LeaseError for a lease
   * that is gone. Refuses as a whole (notLeader, noLeader) when this member does not lead throughout.
   */
  async keepAliveMany(ids: readonly number[]): Promise<(LeaseGrant | LeaseError)[]> {
    const term = this.#leaderTerm();
    // At once, before anything waits: after a stall of this member's loop, the expiry check decides
    // only once the input that waited meanwhile was handled, and this is how a keepalive counts.
    for (const id of ids) this.#deadlines.extend(id);
    const settled = await this.#confirmed(term, () => this.#settledLeases(ids));
    return settled.map((lease, i) => {
      if (lease instanceof LeaseError) return lease;
      this.#deadlines.extend(ids[i]!);
      return { id: ids[i]!, ttlSeconds: lease.ttlSeconds };
    });
  }

  /**
   * Ends lease `id` and deletes its keys at one revision; a LeaseError leaseNotFound if there is none,
   * permissionDenied if the client's `principal` may not write every key when the entry is applied.
   */
  async revoke(id: number, principal?: string): Promise<{ readonly revision: number; readonly deleted: number }> {
    if (checkLeaseId(id) !== undefined) throw new RangeError(`${id}: ${checkLeaseId(id)}`);
    const result = await proposeKv(
      this.#node,
      principal === undefined ? { type: "leaseRevoke", id } : { type: "leaseRevoke", id, principal },
    );
    if (result.type === "leaseNotFound" || result.type === "permissionDenied") throw new LeaseError(result.type, id);
    assert(result.type === "leaseRevoked", `a leaseRevoke entry answered ${result.type}`);
    return { revision: result.revision, deleted: result.deleted };
  }

  /** Lease `id` as the leader sees it now, with its keys unless `keys` is false. */
  async timeToLive(id: number, options: { readonly keys?: boolean } = {}): Promise<LeaseStatus> {
    const term = this.#leaderTerm();
    await this.#node.readBarrier("linearizable");
    if (this.#leaderTerm() !== term) throw this.#notLeader();
    const lease = this.#kv.leaseInfo(id);
    if (lease === undefined) throw new LeaseError("leaseNotFound", id);
    const deadline = this.#deadlines.queue.get(id);
    assert(deadline !== undefined, `lease ${id} has no deadline on its leader`);
    const status = { id, ttlSeconds: lease.ttlSeconds, remainingMs: Math.max(0, deadline - this.#clock.now()) };
    return options.keys === false ? status : { ...status, keys: this.#kv.lease(id)!.keys };
  }

  /**
   * Lease `id`'s deadline on this member's clock while it leads, else undefined. For checks: the
   * simulator compares it with what a new leader owes each lease; nothing decides by it.
   */
  deadlineOf(id: number): number | undefined {
    return this.#deadlines.queue.get(id);
  }

  /** Every lease, in ascending id order, as of a linearizable read on this member. */
  async leases(): Promise<LeaseInfo[]> {
    if (this.#closed) throw new NodeRequestError({ type: "stopped" });
    await this.#node.readBarrier("linearizable");
    return this.#kv.leases();
  }

  close(): void {
    this.#closed = true;
    this.#expiry.close();
    this.#checkpoints.close();
    this.#deadlines.close();
  }

  /**
   * The leases once nothing this member proposed can still change them: no revoke of one and no
   * checkpoint in flight, and no checkpoint in the store that a later leader could go by (those are
   * cleared, all in one entry). A lease that is gone is a LeaseError in its place.
   */
  async #settledLeases(ids: readonly number[]): Promise<(LeaseInfo | LeaseError)[]> {
    for (;;) {
      const pending = this.#checkpoints.inFlight ?? firstDefined(ids, (id) => this.#expiry.inFlight(id));
      if (pending !== undefined) {
        await pending;
        continue;
      }
      const leases = ids.map((id) => this.#kv.leaseInfo(id) ?? new LeaseError("leaseNotFound", id));
      const checkpointed = leases.filter(
        (l): l is LeaseInfo => !(l instanceof LeaseError) && l.remainingMs !== undefined,
      );
      if (checkpointed.length === 0) return leases;
      for (let i = 0; i < checkpointed.length; i += leaseCheckpointsMax) {
        const batch = checkpointed.slice(i, i + leaseCheckpointsMax);
        await proposeKv(this.#node, {
          type: "leaseCheckpoint",
          checkpoints: batch.map((l) => ({ id: l.id, remainingMs: l.ttlSeconds * 1000 })),
        });
      }
    }
  }

  /**
   * Runs `read` after a read barrier, which confirms that this member still leads in `term` and
   * applies whatever an earlier leader committed, and returns what it read once the two took at
   * most half an election timeout. A leader elected since was elected after the barrier began, and
   * owes every lease an election timeout beyond what it had left (LeaderDeadlines): that covers an
   * answer given now. When they took longer (this member's loop stalled, say, while the barrier's
   * answers waited), the leadership they confirmed is too old to promise from, and they run again.
   */
  async #confirmed<T>(term: number, read: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const started = this.#clock.now();
      // Confirms this member still leads, and applies any revoke an earlier leader committed.
      await this.#node.readBarrier("linearizable");
      const value = await read();
      if (this.#leaderTerm() !== term) throw this.#notLeader();
      if (this.#clock.now() - started <= this.#electionTimeoutMs / 2) return value;
      if (attempt === confirmAttempts) throw new NodeRequestError({ type: "timeout" });
    }
  }

  /** The term this member leads in; refuses otherwise. */
  #leaderTerm(): number {
    if (this.#closed) throw new NodeRequestError({ type: "stopped" });
    const term = this.#deadlines.sync();
    if (term === undefined) throw this.#notLeader();
    return term;
  }

  #notLeader(): NodeRequestError {
    const known = this.#node.status().leader !== NO_NODE;
    return new NodeRequestError(known ? { type: "notLeader", leader: undefined } : { type: "noLeader" });
  }
}

function firstDefined<T, R>(items: readonly T[], pick: (item: T) => R | undefined): R | undefined {
  for (const item of items) {
    const picked = pick(item);
    if (picked !== undefined) return picked;
  }
  return undefined;
}

/** A positive id below 2^53, from two draws: a 32-bit generator's one draw would reach only 2^32 ids. */
function randomLeaseId(random: () => number): number {
  for (;;) {
    const id = Math.floor(random() * 2 ** 21) * 2 ** 32 + Math.floor(random() * 2 ** 32);
    if (id >= 1) return id;
  }
}
