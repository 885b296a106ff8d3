import type { StoredKv } from "./stored_kv.js";

/**
 * One key's change at a revision, as watchers see it. Keys and values are binary strings (binary.ts).
 * A delete's `kv` has the key's deletion revision as modRevision and zeros elsewhere, as etcd's has.
 */
export interface KvEvent {
  readonly type: "put" | "delete";
  readonly key: string;
  readonly kv: StoredKv;
  /** The key's state before this change; undefined when it was absent. */
  readonly prev: StoredKv | undefined;
}

/**
 * What a member's own services (watches, the leader's lease clock) learn from the store as it
 * applies entries; every replica tells the same story for the same log. Listeners must not throw
 * and must not call `apply`.
 */
export interface KvListener {
  /** The changes of one revision, in the order they were made (a txn's all at once). */
  revision?(revision: number, events: readonly KvEvent[]): void;
  compacted?(compactRevision: number): void;
  /** The state was replaced by a snapshot's: what came before is gone, history included. */
  restored?(revision: number, compactRevision: number): void;
  leaseGranted?(id: number, ttlSeconds: number): void;
  leaseRevoked?(id: number): void;
  /** A checkpoint entry set the time the lease has left (undefined: its whole TTL, as after a renewal). */
  leaseCheckpointed?(id: number, remainingMs: number | undefined): void;
}

/** A delete event's kv. */
export function deletedKv(revision: number): StoredKv {
  return { value: "", createRevision: 0, modRevision: revision, version: 0, lease: 0 };
}

/**
 * The store's listeners, and the events of the command being applied (collected only while someone
 * listens, so a store nobody watches pays nothing).
 */
export class ChangeFeed {
  readonly #listeners: KvListener[] = [];
  readonly #revision: () => number;
  #events: KvEvent[] | undefined;

  constructor(revision: () => number) {
    this.#revision = revision;
  }

  listen(listener: KvListener): void {
    this.#listeners.push(listener);
  }

  tell(news: (listener: KvListener) => void): void {
    for (const listener of this.#listeners) news(listener);
  }

  push(event: KvEvent): void {
    this.#events?.push(event);
  }

  /** Runs a command; if it moved the store's revision, tells the listeners the events it pushed. */
  execute<R>(run: () => R): R {
    if (this.#listeners.length === 0) return run();
    const before = this.#revision();
    const events: KvEvent[] = [];
    this.#events = events;
    try {
      return run();
    } finally {
      this.#events = undefined;
      const after = this.#revision();
      if (after !== before) this.tell((l) => l.revision?.(after, events));
    }
  }
}
