/**
 * The lock workload of a fault run: a few clients take turns holding one raftkv lock and, while they
 * hold it, write to a resource that accepts a write only with a fencing token at least as new as the
 * newest it has accepted (docs/coordination.md, "Locks and elections"). Faults can make a holder's
 * lease expire while it still believes it holds the lock; the token is what keeps its late writes out.
 */
import { RaftkvClient } from "raftkv/client";
import type { ClientAccessOptions } from "./secure.js";
import { Prng } from "raftkv/raft";
import type { ProcessCluster } from "../harness.js";

const lockName = "fault-lock";
const ttlSeconds = 2;

/** The protected resource: what a storage service that honours fencing tokens would do. */
class FencedResource {
  #newest = 0;
  accepted = 0;
  refused = 0;

  write(token: number): boolean {
    if (token < this.#newest) {
      this.refused++;
      return false;
    }
    this.#newest = token;
    this.accepted++;
    return true;
  }
}

interface Tenure {
  readonly holder: number;
  readonly token: number;
  readonly requestedAt: number;
  readonly acquiredAt: number;
  releasedAt: number | undefined;
}

export interface LockReport {
  readonly acquisitions: number;
  readonly writesAccepted: number;
  /** Writes refused for a stale token: a holder whose lease had expired, kept out. */
  readonly writesFenced: number;
  /** Pairs of tenures that overlapped in time (the older one's lease had gone). */
  readonly overlaps: number;
  /** Broken promises of the lock service: a token reused, or a later holder with an older token. */
  readonly violations: readonly string[];
  readonly errors: number;
}

export class Lockers {
  readonly #resource = new FencedResource();
  readonly #tenures: Tenure[] = [];
  readonly #clients: RaftkvClient[];
  readonly #loops: Promise<void>[];
  readonly #stop = new AbortController();
  #errors = 0;
  #stopped: Promise<LockReport> | undefined;

  constructor(cluster: ProcessCluster, count: number, seed: number, clock: () => number, access: ClientAccessOptions) {
    const endpoints = cluster.members.map((m) => m.clientAddr);
    this.#clients = Array.from({ length: count }, () => new RaftkvClient({ endpoints, timeoutMs: 5_000, ...access }));
    this.#loops = this.#clients.map((client, i) => this.#loop(i, client, new Prng(seed * 31 + i), clock));
  }

  async #loop(holder: number, client: RaftkvClient, prng: Prng, clock: () => number): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const requestedAt = clock();
      try {
        const lock = await client.lock(lockName, { ttl: ttlSeconds, signal });
        const tenure: Tenure = { holder, token: lock.token, requestedAt, acquiredAt: clock(), releasedAt: undefined };
        this.#tenures.push(tenure);
        try {
          for (let i = 0; i < 3 && !signal.aborted; i++) {
            this.#resource.write(lock.token);
            await sleep(prng.int(50, 250));
          }
        } finally {
          // The holder writes no more from here: its tenure ends as it lets go, not when the release returns.
          tenure.releasedAt = clock();
        }
        await lock.release();
      } catch {
        if (signal.aborted) return;
        this.#errors++;
        await sleep(prng.int(100, 500));
      }
    }
  }

  /** Stops the loops (waiting for the attempts in flight) and reports; again: the same report. */
  stop(): Promise<LockReport> {
    return (this.#stopped ??= (async () => {
      this.#stop.abort();
      await Promise.all(this.#loops);
      for (const c of this.#clients) c.close();
      return this.#report();
    })());
  }

  #report(): LockReport {
    const tenures = this.#tenures;
    const violations: string[] = [];
    const tokens = new Set<number>();
    for (const t of tenures) {
      if (tokens.has(t.token)) violations.push(`token ${t.token} handed out twice`);
      tokens.add(t.token);
    }
    let overlaps = 0;
    for (const a of tenures) {
      for (const b of tenures) {
        if (a === b) continue;
        // b asked for the lock after a had it: b's key was created later, so its token is newer.
        if (b.requestedAt > a.acquiredAt && b.token <= a.token)
          violations.push(
            `holder ${b.holder} asked after holder ${a.holder} held the lock, yet got token ${b.token} ≤ ${a.token}`,
          );
        if (a.token < b.token && b.acquiredAt < (a.releasedAt ?? Infinity) && b.acquiredAt > a.acquiredAt) overlaps++;
      }
    }
    return {
      acquisitions: tenures.length,
      writesAccepted: this.#resource.accepted,
      writesFenced: this.#resource.refused,
      overlaps,
      violations,
      errors: this.#errors,
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
