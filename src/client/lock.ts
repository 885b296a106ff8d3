/**
 * `client.lock()`: a distributed lock from the contender queue (queue.ts).
 *
 * A lock without fencing cannot guarantee mutual exclusion. Its holder can stop for longer than the
 * lease's TTL — a GC pause, a stopped VM, a slow disk, a network partition — and then the lease
 * expires, the next waiter takes the lock, and the first holder, which could not notice its own
 * pause, still believes it holds it: for a while both act. No lock service can prevent that. So each
 * write the lock protects must carry `token` (the key's createRevision, higher for each later
 * holder), and the protected resource must refuse a token lower than the highest it has seen — or
 * the write must be a raftkv txn that also compares the lock key's modRevision with `token` (a lock
 * key is never rewritten, so the two are equal while the lock is held).
 */
import type { RaftkvError } from "./errors.js";
import { takeTurn, type CoordinationClient, type QueueOptions } from "./queue.js";

export interface Lock {
  /** `<name>/<lease id>`: the key whose existence is the lock. */
  readonly key: string;
  /** The fencing token: the key's createRevision; a later holder's is higher. */
  readonly token: number;
  /** The lease the key is attached to, kept alive in the background until `release()`. */
  readonly lease: number;
  /** Resolves with why, if the lease is lost while the lock is held: it is then no longer held. */
  readonly lost: Promise<RaftkvError>;
  /** Deletes the key (by revoking its lease) and stops the keepalive. */
  release(): Promise<void>;
}

/** Waits until the lock `name` is this caller's. */
export async function lock(client: CoordinationClient, name: string, options: QueueOptions): Promise<Lock> {
  const turn = await takeTurn(client, name, "", options);
  return { key: turn.key, token: turn.token, lease: turn.lease, lost: turn.lost, release: turn.end };
}
