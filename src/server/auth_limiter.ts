import { TokenBucket } from "../coord/index.js";

/** Failures a source may make at once, then how many more a second (etcd has none; this is OpenSSH-like). */
const failuresBurst = 5;
const failuresPerSecond = 1;
/** Sources remembered; the longest unseen is forgotten first, so a flood of addresses cannot grow memory. */
const sourcesMax = 10_000;

/**
 * Rate-limits failed authentications per source address: each failure takes a token from the
 * source's bucket, and a source whose bucket is empty is refused before its password is checked.
 */
export class AuthFailureLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Whole seconds until `source` may try again, or 0 if it may now. */
  retryAfterSeconds(source: string): number {
    const bucket = this.#buckets.get(source);
    if (bucket === undefined || bucket.available(this.#now())) return 0;
    return Math.ceil(1 / failuresPerSecond);
  }

  failed(source: string): void {
    let bucket = this.#buckets.get(source);
    if (bucket === undefined) {
      if (this.#buckets.size >= sourcesMax) this.#buckets.delete(this.#buckets.keys().next().value!);
      bucket = new TokenBucket({ perSecond: failuresPerSecond, burst: failuresBurst, now: this.#now() });
    } else this.#buckets.delete(source);
    this.#buckets.set(source, bucket);
    if (bucket.available(this.#now())) bucket.take();
  }
}
