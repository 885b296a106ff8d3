/**
 * Background keepalives: renew a lease every third of its TTL until stopped, and say when it is
 * lost. Lost means either the cluster answered that it is gone (revoked, or expired: 404
 * lease_not_found), or no renewal was acknowledged within the TTL of the last one — the leader may
 * then have expired it, so whatever depends on the lease (a lock, a leadership) must be taken as
 * gone at that moment, not when the cluster can next be asked.
 */
import { leaseExpired, RaftkvError } from "./errors.js";
import type { KeepAliveBatcher } from "./keep_alive_batch.js";
import { checkLeaseId } from "./leases.js";
import type { Lease } from "./types.js";

export interface KeepAliveOptions {
  /** Renew this often. Default: a third of the TTL the last renewal guaranteed. */
  readonly intervalMs?: number;
  /** Called after each acknowledged renewal, with the TTL it guarantees from its answer. */
  readonly onRenewed?: (lease: Lease) => void;
}

/** How the renewals ended: stopped by the owner, or the lease was lost (with why). */
export type KeepAliveEnd = { readonly reason: "stopped" } | { readonly reason: "lost"; readonly error: RaftkvError };

export interface KeepAlive {
  readonly id: number;
  /** Settles, never rejects, when the renewals end. */
  readonly done: Promise<KeepAliveEnd>;
  stop(): void;
}

/** A failed renewal is tried again after this long (or the interval, if shorter). */
const retryMsMax = 500;

export class BackgroundKeepAlive implements KeepAlive {
  readonly id: number;
  readonly done: Promise<KeepAliveEnd>;
  readonly #batcher: KeepAliveBatcher;
  readonly #options: KeepAliveOptions;
  #end: (end: KeepAliveEnd) => void = () => undefined;
  #ended = false;
  #ttlSeconds: number | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;

  /**
   * Starts renewing at once: the first answer also says the TTL, and so the interval. Renewals go
   * through the client's batcher, with the renewals of its other keepalives that come due together.
   */
  constructor(batcher: KeepAliveBatcher, id: number, options: KeepAliveOptions) {
    if (options.intervalMs !== undefined && !(options.intervalMs > 0))
      throw new RangeError(`intervalMs must be positive, got ${options.intervalMs}`);
    this.id = checkLeaseId(id);
    this.#batcher = batcher;
    this.#options = options;
    this.done = new Promise((resolve) => (this.#end = resolve));
    void this.#renew();
  }

  stop(): void {
    this.#finish({ reason: "stopped" });
  }

  async #renew(): Promise<void> {
    const sentAt = performance.now();
    try {
      const lease = await this.#batcher.renew(this.id);
      if (this.#ended) return;
      this.#renewed(lease, sentAt);
      this.#options.onRenewed?.(lease);
    } catch (error) {
      if (this.#ended) return;
      // A definite refusal (404 lease_not_found) will not change; no answer might.
      if (!(error instanceof RaftkvError) || error.status !== undefined) {
        this.#finish({ reason: "lost", error: asRaftkvError(error) });
        return;
      }
      this.#schedule(Math.min(this.#intervalMs(), retryMsMax));
    }
  }

  /** The lease lives at least `ttl` from the answer, so surely from when the request was sent. */
  #renewed(lease: Lease, sentAt: number): void {
    this.#ttlSeconds = lease.ttl;
    clearTimeout(this.#expiryTimer);
    const ttlMs = lease.ttl * 1000;
    this.#expiryTimer = setTimeout(
      () =>
        this.#finish({
          reason: "lost",
          error: new RaftkvError({
            code: leaseExpired,
            message: `lease ${this.id}: no keepalive was acknowledged within its TTL of ${lease.ttl} s`,
          }),
        }),
      Math.max(0, sentAt + ttlMs - performance.now()),
    );
    this.#schedule(this.#intervalMs());
  }

  /** Before the first answer the TTL is unknown; the retry delay is then the bound. */
  #intervalMs(): number {
    return this.#options.intervalMs ?? (this.#ttlSeconds === undefined ? retryMsMax : (this.#ttlSeconds * 1000) / 3);
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#renewTimer);
    this.#renewTimer = setTimeout(() => void this.#renew(), delayMs);
  }

  #finish(end: KeepAliveEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#expiryTimer);
    this.#end(end);
  }
}

function asRaftkvError(error: unknown): RaftkvError {
  if (error instanceof RaftkvError) return error;
  return new RaftkvError({ code: "internal", message: String(error), cause: error });
}
