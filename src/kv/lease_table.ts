import type { Reader, Writer } from "./binary.js";
import type { LeaseCheckpoint } from "./commands.js";
import { leaseTtlSecondsMax } from "./limits.js";

/** A lease as the replicated state holds it; when it runs out is the leader's clock's business. */
export interface LeaseInfo {
  readonly id: number;
  readonly ttlSeconds: number;
  /** What the last checkpoint said was left, or undefined: the whole TTL (never checkpointed, or renewed since). */
  readonly remainingMs: number | undefined;
}

/** Also its own LeaseInfo, so that looking a lease up allocates nothing (keepalives do it often). */
interface LeaseState {
  readonly id: number;
  readonly ttlSeconds: number;
  remainingMs: number | undefined;
  /** The keys attached (binary strings). */
  readonly keys: Set<string>;
}

/**
 * The leases and the keys attached to each. Keys hold their lease's id too (StoredKv.lease), so the
 * snapshot records the attachments once, with the keys, and `attach` rebuilds the sets on restore.
 */
export class LeaseTable {
  readonly #leases = new Map<number, LeaseState>();

  get size(): number {
    return this.#leases.size;
  }

  has(id: number): boolean {
    return this.#leases.has(id);
  }

  /** The lease as it is now: a live view, not a copy (it changes with later checkpoints). */
  info(id: number): LeaseInfo | undefined {
    return this.#leases.get(id);
  }

  /** The attached keys (binary strings), in no particular order. */
  keys(id: number): readonly string[] {
    return [...(this.#leases.get(id)?.keys ?? [])];
  }

  /** Every lease, in ascending id order. */
  all(): LeaseInfo[] {
    return [...this.#leases.keys()]
      .sort((a, b) => a - b)
      .map((id) => {
        const { ttlSeconds, remainingMs } = this.#leases.get(id)!;
        return { id, ttlSeconds, remainingMs };
      });
  }

  grant(id: number, ttlSeconds: number, remainingMs?: number): void {
    this.#leases.set(id, { id, ttlSeconds, remainingMs, keys: new Set() });
  }

  /** Forgets the lease; returns its keys, which the caller deletes. */
  revoke(id: number): readonly string[] {
    const lease = this.#leases.get(id);
    this.#leases.delete(id);
    return lease === undefined ? [] : [...lease.keys];
  }

  /**
   * Records what the leases have left; a remaining time of the whole TTL or more clears a checkpoint.
   * Unknown leases (revoked since) are skipped. Returns what was recorded (undefined: the whole TTL).
   */
  checkpoint(
    checkpoints: readonly LeaseCheckpoint[],
  ): readonly { readonly id: number; readonly remainingMs: number | undefined }[] {
    const recorded = [];
    for (const { id, remainingMs } of checkpoints) {
      const lease = this.#leases.get(id);
      if (lease === undefined) continue;
      lease.remainingMs = remainingMs >= lease.ttlSeconds * 1000 ? undefined : remainingMs;
      recorded.push({ id, remainingMs: lease.remainingMs });
    }
    return recorded;
  }

  /** Moves `key` from lease `from` to lease `to` (0: none); both must exist or be 0. */
  move(key: string, from: number, to: number): void {
    if (from === to) return;
    if (from !== 0) this.#leases.get(from)?.keys.delete(key);
    if (to !== 0) this.#leases.get(to)?.keys.add(key);
  }

  encodedSize(): number {
    return 4 + 24 * this.#leases.size;
  }

  /** u32 count, then by ascending id: u64 id, u64 ttlSeconds, u64 remainingMs + 1 (0: none). */
  write(w: Writer): void {
    w.u32(this.#leases.size);
    for (const lease of this.all()) {
      w.u64(lease.id);
      w.u64(lease.ttlSeconds);
      w.u64(lease.remainingMs === undefined ? 0 : lease.remainingMs + 1);
    }
  }

  /** The table `write` wrote (without keys: the caller attaches them), or why the bytes are not one. */
  static read(r: Reader): LeaseTable | string {
    const count = r.u32();
    if (count === undefined) return "truncated lease count";
    const table = new LeaseTable();
    let previous = 0;
    for (let i = 0; i < count; i++) {
      const id = r.u64();
      const ttlSeconds = r.u64();
      const remaining = r.u64();
      if (id === undefined || ttlSeconds === undefined || remaining === undefined) return `lease ${i}: truncated`;
      if (id <= previous) return `lease ${i}: ids out of order or repeated`;
      if (ttlSeconds < 1 || ttlSeconds > leaseTtlSecondsMax) return `lease ${id}: TTL ${ttlSeconds}`;
      if (remaining > ttlSeconds * 1000) return `lease ${id}: ${remaining - 1} ms left of a ${ttlSeconds} s TTL`;
      table.grant(id, ttlSeconds, remaining === 0 ? undefined : remaining - 1);
      previous = id;
    }
    return table;
  }
}
