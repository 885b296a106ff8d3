/**
 * Coalesces one client's background renewals into batch keepalives (`POST /v1/lease/keepalive`,
 * docs/coordination.md "Leases"): renewals asked for within a short window go out together, at most
 * 1,000 ids a request, so a process holding thousands of leases renews them in a few requests whose
 * read barriers share one round on the leader. Each renewal is answered as the single keepalive
 * would be: the lease with its TTL, a RaftkvError with a status for a definite refusal (404
 * lease_not_found), one without (unavailable, unknown_outcome) when no node answered.
 */
import { jsonBody, type Caller } from "./caller.js";
import { array, integer, object, string } from "./codec.js";
import { badResponse, RaftkvError } from "./errors.js";
import type { Lease } from "./types.js";

/** The server's bound on ids in one batch keepalive. */
export const keepAliveBatchMax = 1000;

/**
 * Renewals asked for within this long of the first go out as one batch. Keepalives answered by one
 * batch set their next timers a few ms apart (each answer's handling takes its turn): a window of a
 * few ms keeps them in one batch round after round. The renewal's TTL is counted from before the
 * wait, so the window only makes the expiry bound more conservative.
 */
const windowMs = 10;

type Renewed = { readonly id: number; readonly ttl: number } | { readonly id: number; readonly error: string };

interface Waiter {
  resolve(lease: Lease): void;
  reject(error: unknown): void;
}

export class KeepAliveBatcher {
  readonly #caller: Caller;
  /** Renewals waiting for the window to close, by lease id (one id may be kept alive twice). */
  #pending = new Map<number, Waiter[]>();
  #flushScheduled = false;

  constructor(caller: Caller) {
    this.#caller = caller;
  }

  /** Renews lease `id` in the next batch. */
  renew(id: number): Promise<Lease> {
    return new Promise((resolve, reject) => {
      const waiters = this.#pending.get(id);
      if (waiters === undefined) this.#pending.set(id, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
      if (this.#flushScheduled) return;
      this.#flushScheduled = true;
      setTimeout(() => this.#flush(), windowMs);
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const pending = [...this.#pending];
    this.#pending = new Map();
    for (let i = 0; i < pending.length; i += keepAliveBatchMax)
      void this.#send(new Map(pending.slice(i, i + keepAliveBatchMax)));
  }

  async #send(batch: Map<number, Waiter[]>): Promise<void> {
    const ids = [...batch.keys()];
    let answered: Map<number, Renewed>;
    let endpoint: string;
    try {
      const answer = this.#caller.ok(
        await this.#caller.send({
          method: "POST",
          path: "/v1/lease/keepalive",
          ...jsonBody({ ids }),
          write: true,
          session: false,
        }),
      );
      endpoint = answer.endpoint;
      answered = new Map(this.#caller.decode(answer, decodeKeepAlives).map((r) => [r.id, r]));
      const missing = ids.find((id) => !answered.has(id));
      if (missing !== undefined) {
        throw new RaftkvError({
          code: badResponse,
          message: `${endpoint} answered a batch keepalive without lease ${missing}`,
          status: answer.status,
          endpoint,
        });
      }
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
      return;
    }
    for (const [id, waiters] of batch) {
      const renewed = answered.get(id) as Renewed;
      for (const waiter of waiters) {
        if ("ttl" in renewed) waiter.resolve({ id, ttl: renewed.ttl });
        else waiter.reject(leaseError(id, renewed.error, endpoint));
      }
    }
  }
}

/** A refusal of one id, as the single keepalive would have thrown it (404 for lease_not_found). */
function leaseError(id: number, code: string, endpoint: string): RaftkvError {
  const notFound = code === "lease_not_found";
  return new RaftkvError({
    code,
    message: notFound
      ? `lease ${id} does not exist (never granted, revoked, or expired)`
      : `lease ${id}: the batch keepalive answered ${code}`,
    status: notFound ? 404 : 200,
    endpoint,
  });
}

/** `{"leases":[{"id":N,"ttl":S} or {"id":N,"error":CODE},...]}`. */
function decodeKeepAlives(value: unknown): Renewed[] {
  return array(object(value, "a batch keepalive answer")["leases"], '"leases"').map((item) => {
    const json = object(item, "a lease");
    const id = integer(json, "id");
    return json["error"] === undefined ? { id, ttl: integer(json, "ttl") } : { id, error: string(json, "error") };
  });
}
