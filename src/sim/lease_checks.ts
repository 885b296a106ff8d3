import { decodeCommand, type KvResult, type KvStore } from "../kv/index.js";
import type { NodeId } from "../raft/index.js";
import type { Applied, SimCluster } from "./cluster.js";
import type { LessorView } from "./coord_members.js";
import type { CoordinationCounts } from "./coordination_counts.js";

/** What the lease rules depend on in a run. */
export interface LeaseRules {
  /** Clock rates lie in [1 − d, 1 + d]: a deadline on a member's clock passes up to that much early or late. */
  readonly clockDrift: number;
  readonly electionTimeoutMs: number;
  readonly checkIntervalMs: number;
  readonly revokesPerSecond: number;
  /** How long a revoke takes, once proposed on a healed cluster, to apply on every member (see docs/coordination.md). */
  readonly commitBoundMs: number;
}

/** A lease as the checks follow it, from its grant's first apply on. */
export interface LeaseRecord {
  readonly id: number;
  readonly ttlSeconds: number;
  /** When its grant first applied on some member. */
  readonly grantedAt: number;
  /** When a lessor last answered a grant or keepalive of it: its promise resolved, in the leader's process. */
  lastAck: number | undefined;
  /** When a keepalive of it last reached a member's process (a leader moves the deadline at once, answered or not). */
  lastArrival: number;
  /** When its client first sent a revoke: a revoke applied after that may be the client's, not an expiry. */
  revokeRequestedAt: number | undefined;
  /** When its revoke first applied on some member. */
  revokedAt: number | undefined;
  /** The keys a put with this lease attached (on the member that applied it first). */
  readonly keys: Set<string>;
  /** Its client still renews it. */
  renewed: boolean;
}

/** A keepalive in a member's input, not yet run by its process (held back by a stall). */
interface Waiting {
  readonly lease: number;
  readonly sentAt: number;
}

/** The stall the lessor notices (lease_expiry.ts: a check more than two intervals, and 50 ms, late). */
const stallFloorMs = 50;

/**
 * The lease rules of docs/coordination.md, "How expiry is decided", checked as the simulation runs:
 *
 * - no lease expires before its last acknowledged keepalive (or grant) plus its TTL, at the fastest
 *   clock rate, across any number of leader changes;
 * - a keepalive is acknowledged only once no checkpoint of its lease is left in the store;
 * - a member that becomes leader gives each lease exactly its checkpointed remaining time (or its
 *   TTL) plus an election timeout, by its own clock;
 * - no member decides an expiry while a keepalive of that lease, held back by a stall of its loop
 *   long enough for the lessor to notice, still waits in its input;
 * - a revoke deletes every key of the lease at one revision, on every member that applies it;
 * - after the heal, a lease nobody renews is gone from every member within its bound (checkLingering).
 */
export class LeaseChecks {
  readonly #cluster: SimCluster;
  readonly #counts: CoordinationCounts;
  readonly #rules: LeaseRules;
  readonly #leases = new Map<number, LeaseRecord>();
  readonly #waiting = new Map<NodeId, Set<Waiting>>();
  readonly #stores = new Map<NodeId, KvStore>();
  readonly #promotedAt = new Map<NodeId, number>();
  /** The revision's events on the member that recorded them first (the watch history). */
  readonly #eventsAt: (revision: number) => readonly { readonly type: string; readonly key: string }[];

  constructor(options: {
    cluster: SimCluster;
    counts: CoordinationCounts;
    rules: LeaseRules;
    eventsAt: (revision: number) => readonly { readonly type: string; readonly key: string }[];
  }) {
    this.#cluster = options.cluster;
    this.#counts = options.counts;
    this.#rules = options.rules;
    this.#eventsAt = options.eventsAt;
    this.#cluster.onApplied((applied) => this.#applied(applied));
  }

  get leases(): ReadonlyMap<number, LeaseRecord> {
    return this.#leases;
  }

  /** Member `member`'s store for the life starting now. */
  store(member: NodeId, kv: KvStore): void {
    this.#stores.set(member, kv);
    // As the revoke runs, before the store tells anyone of the revision it wrote.
    kv.listen({ leaseRevoked: (id) => this.#checkKeysGone(member, kv, id) });
  }

  renewing(id: number, renewed: boolean): void {
    const lease = this.#leases.get(id);
    if (lease !== undefined) lease.renewed = renewed;
  }

  revokeRequested(id: number): void {
    const lease = this.#leases.get(id);
    if (lease !== undefined) lease.revokeRequestedAt ??= this.#cluster.now;
  }

  /** A lessor's grant or keepalive of lease `id` resolved just now, in member `member`'s process. */
  acked(member: NodeId, id: number, keepalive: boolean): void {
    const lease = this.#leases.get(id);
    if (lease === undefined) return;
    lease.lastAck = this.#cluster.now;
    if (!keepalive) return;
    this.#counts.keepalivesAcked++;
    // Else a later leader would go by the checkpoint, and give the lease less than its TTL from now.
    const checkpointed = this.#stores.get(member)?.leaseInfo(id)?.remainingMs;
    if (checkpointed !== undefined)
      this.#cluster.checker.fail(
        "lease",
        `${this.#cluster.nameOf(member)} acknowledged a keepalive of lease ${id} while the store still holds its checkpoint (${checkpointed}ms left)`,
      );
    this.#trace(
      member,
      `lease ${id} renewed: lives until t=${(this.#cluster.now + lease.ttlSeconds * 1000).toFixed(0)} at least`,
    );
  }

  /** A keepalive of lease `lease` enters member `member`'s input. */
  sent(member: NodeId, lease: number): Waiting {
    const waiting = { lease, sentAt: this.#cluster.now };
    let set = this.#waiting.get(member);
    if (set === undefined) this.#waiting.set(member, (set = new Set()));
    set.add(waiting);
    return waiting;
  }

  /** The keepalive left the input: its member's process runs it now (or the member was down). */
  arrived(member: NodeId, waiting: Waiting): void {
    if (this.#waiting.get(member)?.delete(waiting) !== true) return;
    const lease = this.#leases.get(waiting.lease);
    if (lease !== undefined) lease.lastArrival = Math.max(lease.lastArrival, this.#cluster.now);
  }

  promoted(member: NodeId, view: LessorView, term: number): void {
    this.#promotedAt.set(member, this.#cluster.now);
    const now = view.clock.now();
    const { electionTimeoutMs } = this.#rules;
    const leases = view.kv.leases();
    this.#trace(
      member,
      `lessor leads in term ${term}: ${leases.length} lease(s) get their remaining time + ${electionTimeoutMs}ms`,
    );
    for (const lease of leases) {
      const left = lease.remainingMs ?? lease.ttlSeconds * 1000;
      const owed = left + electionTimeoutMs;
      const deadline = view.lessor.deadlineOf(lease.id);
      if (deadline !== undefined && Math.abs(deadline - now - owed) <= 1e-6) continue;
      const given = deadline === undefined ? "no deadline" : `${(deadline - now).toFixed(1)}ms`;
      this.#cluster.checker.fail(
        "lease",
        `${this.#cluster.nameOf(member)} became leader in term ${term} and gave lease ${lease.id} ${given}; it owes ${owed}ms: ` +
          `${lease.remainingMs === undefined ? `its TTL ${lease.ttlSeconds}s` : `its checkpointed ${lease.remainingMs}ms`} + the election timeout ${electionTimeoutMs}ms`,
      );
      return;
    }
  }

  expiring(member: NodeId, id: number): void {
    const now = this.#cluster.now;
    this.#trace(member, `lessor: lease ${id} is overdue, proposing its revoke`);
    const { checkIntervalMs, clockDrift } = this.#rules;
    // A keepalive that waited longer than this was held back by a stall the lessor's check notices.
    const noticedMs = (Math.max(2 * checkIntervalMs, stallFloorMs) + checkIntervalMs) / (1 - clockDrift);
    for (const waiting of this.#waiting.get(member) ?? []) {
      if (waiting.lease !== id || now - waiting.sentAt <= noticedMs) continue;
      this.#cluster.checker.fail(
        "lease",
        `${this.#cluster.nameOf(member)} decided lease ${id} expired while a keepalive of it, in its input since t=${waiting.sentAt.toFixed(1)} ` +
          `(${(now - waiting.sentAt).toFixed(0)}ms, held back by a stall of its loop), was still waiting: the expiry must wait for the input that queued during the stall`,
      );
      return;
    }
  }

  /** When the latest lessor promotion on member `member` happened, if any. */
  promotedAt(member: NodeId): number | undefined {
    return this.#promotedAt.get(member);
  }

  #applied(applied: Applied): void {
    const result = applied.result as KvResult;
    if (result.type === "leaseGranted") this.#granted(applied.member, result);
    else if (result.type === "leaseRevoked") this.#revoked(applied.member, result);
    else if (result.type === "put" || result.type === "txn") this.#attached(applied);
  }

  #granted(member: NodeId, result: { readonly id: number; readonly ttlSeconds: number }): void {
    if (this.#leases.has(result.id)) return;
    const now = this.#cluster.now;
    this.#leases.set(result.id, {
      id: result.id,
      ttlSeconds: result.ttlSeconds,
      grantedAt: now,
      lastAck: undefined,
      lastArrival: now,
      revokeRequestedAt: undefined,
      revokedAt: undefined,
      keys: new Set(),
      renewed: false,
    });
    this.#counts.leasesGranted++;
    this.#trace(member, `lease ${result.id} granted (TTL ${result.ttlSeconds}s)`);
  }

  /** The keys a put or txn attached to a lease. */
  #attached(applied: Applied): void {
    const decoded = decodeCommand(applied.command);
    if (!decoded.ok) return;
    const command = decoded.command;
    const puts = command.type === "put" ? [command] : command.type === "txn" ? command.success : [];
    for (const op of puts) {
      if (op.type !== "put" || op.lease === undefined) continue;
      this.#leases.get(op.lease)?.keys.add(String.fromCharCode(...op.key));
    }
  }

  #revoked(member: NodeId, result: { readonly id: number; readonly deleted: number; readonly revision: number }): void {
    const lease = this.#leases.get(result.id);
    if (lease === undefined) return;
    this.#checkOneRevision(member, lease, result);
    if (lease.revokedAt !== undefined) return;
    const now = this.#cluster.now;
    lease.revokedAt = now;
    lease.renewed = false;
    const expired = lease.revokeRequestedAt === undefined;
    this.#counts[expired ? "leasesExpired" : "leasesRevoked"]++;
    this.#trace(
      member,
      `lease ${lease.id} ${expired ? "expired" : "revoked"}: ${result.deleted} key(s) deleted at revision ${result.revision}`,
    );
    if (!expired || lease.lastAck === undefined) return;
    const earliest = lease.lastAck + (lease.ttlSeconds * 1000) / (1 + this.#rules.clockDrift) - 1;
    if (now >= earliest) return;
    this.#cluster.checker.fail(
      "lease",
      `lease ${lease.id} (TTL ${lease.ttlSeconds}s) expired at t=${now.toFixed(1)}, ${(earliest - now).toFixed(1)}ms before its last acknowledged keepalive at t=${lease.lastAck.toFixed(1)} plus its TTL allows`,
    );
  }

  /** Member `member`'s store revoked lease `id` just now: none of its keys is left. */
  #checkKeysGone(member: NodeId, kv: KvStore, id: number): void {
    const lease = this.#leases.get(id);
    const left = lease === undefined ? [] : [...lease.keys].filter((key) => kv.get(binaryBytes(key)) !== null);
    if (left.length === 0) return;
    this.#cluster.checker.fail(
      "lease",
      `${this.#cluster.nameOf(member)} revoked lease ${id} but kept its key(s) ${left.map((k) => JSON.stringify(k)).join(", ")}`,
    );
  }

  /** The revoke just applied on `member` deleted its keys at one revision, and nothing else there. */
  #checkOneRevision(
    member: NodeId,
    lease: LeaseRecord,
    result: { readonly deleted: number; readonly revision: number },
  ): void {
    if (result.deleted === 0) return;
    const events = this.#eventsAt(result.revision);
    const ours = events.filter((e) => e.type === "delete" && lease.keys.has(e.key)).length;
    if (events.length !== result.deleted || ours !== result.deleted)
      this.#cluster.checker.fail(
        "lease",
        `${this.#cluster.nameOf(member)} revoked lease ${lease.id}, deleting ${result.deleted} key(s), but revision ${result.revision} holds ${events.length} event(s), ${ours} of them deletes of its keys`,
      );
  }

  #trace(member: NodeId, text: string): void {
    if (this.#cluster.options.tracer !== undefined) this.#cluster.trace(member, text);
  }
}

function binaryBytes(key: string): Uint8Array {
  return Uint8Array.from(key, (c) => c.charCodeAt(0));
}
