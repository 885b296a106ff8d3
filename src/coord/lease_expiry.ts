import type { Clock, Timer } from "../node/index.js";
import type { LeaderDeadlines } from "./leader_deadlines.js";
import { TokenBucket } from "./token_bucket.js";

interface LeaseExpiryOptions {
  readonly clock: Clock;
  readonly deadlines: LeaderDeadlines;
  readonly checkIntervalMs: number;
  readonly revokesPerSecond: number;
  /** Proposes the lease's revoke; resolves once it is applied here, rejects if the proposal failed. */
  readonly revoke: (id: number) => Promise<unknown>;
}

/** A check this much later than its interval means our own event loop stalled (the floor absorbs timer jitter). */
const stallFloorMs = 50;

/**
 * The leader's expiry check: every `checkIntervalMs` it proposes the revoke of each lease whose
 * deadline passed, the longest overdue first, at most `revokesPerSecond` a second and each at most
 * once in flight; a failed proposal is retried by a later check.
 */
export class LeaseExpiry {
  readonly #o: LeaseExpiryOptions;
  readonly #bucket: TokenBucket;
  /** Revokes this member proposed and has not seen the outcome of; each settles (never rejects) with it. */
  readonly #inFlight = new Map<number, Promise<void>>();
  readonly #timer: Timer;
  readonly #stallMs: number;
  #expectedAt: number;
  #deferred = false;
  #closed = false;

  constructor(options: LeaseExpiryOptions) {
    this.#o = options;
    const { clock, checkIntervalMs, revokesPerSecond } = options;
    const now = clock.now();
    // One check's worth of tokens: a mass expiry is spread evenly, not let through a second at a time.
    this.#bucket = new TokenBucket({
      perSecond: revokesPerSecond,
      burst: Math.max(1, (revokesPerSecond * checkIntervalMs) / 1000),
      now,
    });
    this.#stallMs = Math.max(2 * checkIntervalMs, stallFloorMs);
    this.#expectedAt = now + checkIntervalMs;
    this.#timer = clock.every(checkIntervalMs, () => this.#tick());
  }

  /** The revoke of `id` this member proposed, if its outcome is not known yet: settles when it is. */
  inFlight(id: number): Promise<void> | undefined {
    return this.#inFlight.get(id);
  }

  close(): void {
    this.#closed = true;
    this.#timer.cancel();
  }

  #tick(): void {
    const now = this.#o.clock.now();
    const late = now - this.#expectedAt;
    this.#expectedAt = now + this.#o.checkIntervalMs;
    this.#o.deadlines.sync();
    if (late <= this.#stallMs) {
      this.#expire();
      return;
    }
    // Our own loop stalled (a long GC, a blocked CPU, SIGSTOP): timers run before the input that
    // waited meanwhile, keepalives included, so deciding now would expire leases whose clients did
    // renew. Two turns of `soon` put the decision after that input: the first lands behind the poll
    // phase that reads what waited (and accepts the connections that waited), the second behind the
    // one that reads the requests on those connections and whatever the first one's handlers started.
    if (this.#deferred) return;
    this.#deferred = true;
    this.#o.clock.soon(() =>
      this.#o.clock.soon(() => {
        this.#deferred = false;
        this.#expire();
      }),
    );
  }

  #expire(): void {
    if (this.#closed || this.#o.deadlines.sync() === undefined) return;
    const { queue } = this.#o.deadlines;
    const now = this.#o.clock.now();
    while (this.#bucket.available(now)) {
      let id = queue.takeExpired(now);
      while (id !== undefined && this.#inFlight.has(id)) id = queue.takeExpired(now);
      if (id === undefined) return;
      this.#bucket.take();
      this.#startRevoke(id);
    }
  }

  #startRevoke(id: number): void {
    const done = this.#o.revoke(id).then(
      () => {
        this.#inFlight.delete(id);
      },
      () => {
        this.#inFlight.delete(id);
        // Not applied, or the outcome is unknown: a revoke applied twice is harmless, a lease left
        // unrevoked is not, so a later check tries again if this member still leads it.
        this.#o.deadlines.queue.requeue(id);
      },
    );
    this.#inFlight.set(id, done);
  }
}
