/**
 * At most `perSecond` takes a second on average, in bursts of at most `burst`: the bucket holds up
 * to `burst` tokens and gains `perSecond` a second, by the times the caller reads from its clock.
 */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor(options: { readonly perSecond: number; readonly burst: number; readonly now: number }) {
    this.#perMs = options.perSecond / 1000;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#at = options.now;
  }

  /** Whether a token may be taken now. */
  available(now: number): boolean {
    if (now > this.#at) {
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#perMs);
      this.#at = now;
    }
    return this.#tokens >= 1;
  }

  /** Takes the token `available` found. */
  take(): void {
    this.#tokens -= 1;
  }
}
