import type { Clock, Timer } from "./clock.js";

/** The timer this many ticks late means our own loop stalled, not just a busy turn. */
const stallTicks = 3;

/**
 * Turns the clock into the core's ticks, and notices when our own event loop stalled (a GC pause,
 * a slow apply, a blocked disk call): the lease, counted in ticks, cannot be trusted across one.
 */
export class Ticker {
  readonly #clock: Clock;
  readonly #tickMs: number;
  readonly #electionTimeoutMs: number;
  readonly #onTicks: (times: number) => void;
  #timer: Timer | undefined;
  #lastTickAt: number;
  /** When our own event loop last stalled past a tick. */
  #lastStallAt = -Infinity;

  constructor(options: { clock: Clock; tickMs: number; electionTimeoutMs: number; onTicks: (times: number) => void }) {
    this.#clock = options.clock;
    this.#tickMs = options.tickMs;
    this.#electionTimeoutMs = options.electionTimeoutMs;
    this.#onTicks = options.onTicks;
    this.#lastTickAt = options.clock.now();
  }

  start(): void {
    this.#lastTickAt = this.#clock.now();
    this.#timer = this.#clock.every(this.#tickMs, () => this.#onTimer());
  }

  stop(): void {
    this.#timer?.cancel();
  }

  /**
   * A lease is void across our own stall: the core counts the lease in ticks, and the followers'
   * clocks ran on while ours did not tick. A stall the ticker has not noticed yet counts too: input
   * that waited out the stall may be handled before the overdue timer fires.
   */
  leaseVoid(): boolean {
    const now = this.#clock.now();
    return now - this.#lastStallAt <= this.#electionTimeoutMs || now - this.#lastTickAt >= stallTicks * this.#tickMs;
  }

  #onTimer(): void {
    const now = this.#clock.now();
    const due = Math.floor((now - this.#lastTickAt) / this.#tickMs);
    if (due <= 0) return;
    this.#lastTickAt += due * this.#tickMs;
    if (due < stallTicks) {
      this.#onTicks(due);
      return;
    }
    // Our own loop stalled: let the network input that waited meanwhile in first, so a live
    // leader's heartbeats count before our missed ticks do.
    this.#lastStallAt = now;
    this.#clock.soon(() => this.#onTicks(due));
  }
}
