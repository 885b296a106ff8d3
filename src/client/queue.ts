/**
 * The queue locks and elections share, as etcd's concurrency package builds it: each contender owns
 * the key `<name>/<lease id>`, attached to a lease of its own and kept alive in the background, and
 * its turn comes when no key under `<name>/` was created before its own. A contender waits for the
 * deletion of the key just before its own only, not for any change under the prefix, so a release
 * wakes one waiter rather than all of them.
 */
import { RaftkvError, WatchCompactedError } from "./errors.js";
import type { KeepAlive } from "./keep_alive.js";
import type {
  Bytes,
  KeyValue,
  Lease,
  LeaseRevokeResult,
  RangeResult,
  RangeSelector,
  TxnRequest,
  TxnResult,
  Watch,
  WatchOptions,
  WatchSelector,
} from "./types.js";

/** What the recipes need of a client (RaftkvClient is one). */
export interface CoordinationClient {
  txn(request: TxnRequest): Promise<TxnResult>;
  range(selector: RangeSelector, options: { limit?: number }): Promise<RangeResult>;
  watch(selector: WatchSelector, options: WatchOptions): Watch;
  leaseGrant(ttlSeconds: number): Promise<Lease>;
  leaseRevoke(id: number): Promise<LeaseRevokeResult>;
  keepAlive(id: number): KeepAlive;
}

export interface QueueOptions {
  /** Seconds the lease outlives its holder's last keepalive. Default 60. */
  readonly ttl?: number;
  /** Aborting gives up waiting: the key and its lease are removed, and the call rejects. */
  readonly signal?: AbortSignal;
}

/** A contender whose turn has come. */
interface Turn {
  readonly key: string;
  /** The key's createRevision: later turns have higher ones. */
  readonly token: number;
  readonly lease: number;
  /** The key's modRevision as this contender last wrote it. */
  readonly modRevision: number;
  /** Resolves with why, if the lease is lost before `end()`; never settles after it. */
  readonly lost: Promise<RaftkvError>;
  /** Stops the keepalive and revokes the lease, which deletes the key (a lease already gone is fine). */
  readonly end: () => Promise<void>;
}

const defaultTtlSeconds = 60;
const pageKeysMax = 10_000;

export function queuePrefix(name: string): string {
  if (name === "") throw new RangeError("a lock or election name must not be empty");
  return `${name}/`;
}

/** Joins the queue with `value` and resolves when this contender's turn has come. */
export async function takeTurn(
  client: CoordinationClient,
  name: string,
  value: Bytes,
  options: QueueOptions,
): Promise<Turn> {
  const prefix = queuePrefix(name);
  const lease = await client.leaseGrant(options.ttl ?? defaultTtlSeconds);
  const keepAlive = client.keepAlive(lease.id);
  const lost = keepAlive.done.then((end) => (end.reason === "lost" ? end.error : new Promise<never>(() => undefined)));
  const end = async (): Promise<void> => {
    keepAlive.stop();
    try {
      await client.leaseRevoke(lease.id);
    } catch (error) {
      if (!(error instanceof RaftkvError && error.code === "lease_not_found")) throw error;
    }
  };
  const waiting = new AbortController();
  const giveUp = (): void => waiting.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", giveUp, { once: true });
  void lost.then((error) => waiting.abort(error));
  try {
    if (options.signal?.aborted === true) giveUp();
    const key = `${prefix}${lease.id}`;
    const own = await enqueue(client, key, value, lease.id);
    await waitForTurn(client, prefix, { key, createRevision: own.createRevision }, waiting.signal);
    return { key, token: own.createRevision, lease: lease.id, modRevision: own.modRevision, lost, end };
  } catch (error) {
    await end().catch(() => undefined);
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", giveUp);
  }
}

/**
 * Creates the key attached to the lease unless it exists: the lease is new, so it exists only when
 * this txn was applied by an attempt whose answer was lost, and its revisions are then the key's.
 */
async function enqueue(
  client: CoordinationClient,
  key: string,
  value: Bytes,
  lease: number,
): Promise<{ createRevision: number; modRevision: number }> {
  const result = await client.txn({
    compare: [{ key, modRevision: 0 }],
    success: [{ type: "put", key, value, lease }],
    failure: [{ type: "get", key }],
  });
  const existing = result.responses[0];
  if (!result.succeeded && existing?.type === "get" && existing.kv !== undefined) return existing.kv;
  return { createRevision: result.revision, modRevision: result.revision };
}

/** A key under the prefix and the revision it was read at (pages of a range are read one by one). */
interface Seen {
  readonly kv: KeyValue;
  readonly revision: number;
}

/** Every key under the prefix, ordered by createRevision, and the revision the first page was read at. */
export async function contenders(
  client: CoordinationClient,
  prefix: string,
): Promise<{ queue: Seen[]; revision: number }> {
  const queue: Seen[] = [];
  let page = await client.range({ prefix }, { limit: pageKeysMax });
  const revision = page.revision;
  for (;;) {
    for (const kv of page.kvs) queue.push({ kv, revision: page.revision });
    const last = page.kvs.at(-1);
    if (!page.more || last === undefined) break;
    // The next page starts with the last key of this one, which it repeats.
    queue.pop();
    page = await client.range({ from: last.key, to: prefixEnd(prefix) }, { limit: pageKeysMax });
  }
  return { queue: queue.sort((a, b) => a.kv.createRevision - b.kv.createRevision), revision };
}

/** The first key after every key with the prefix: the prefix with its last character raised. */
function prefixEnd(prefix: string): Uint8Array {
  const bytes = new TextEncoder().encode(prefix);
  // The prefix ends with "/" (0x2f), so raising the last byte never carries.
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) + 1;
  return bytes;
}

async function waitForTurn(
  client: CoordinationClient,
  prefix: string,
  own: { key: string; createRevision: number },
  signal: AbortSignal,
): Promise<void> {
  const { key, createRevision } = own;
  for (;;) {
    signal.throwIfAborted();
    const { queue } = await contenders(client, prefix);
    if (!queue.some((s) => s.kv.createRevision === createRevision && s.kv.keyText === key)) {
      throw new RaftkvError({ code: "lease_not_found", message: `${key} is gone: its lease was lost` });
    }
    const before = queue.filter((s) => s.kv.createRevision < createRevision).at(-1);
    if (before === undefined) return;
    await deletion(client, before, signal);
  }
}

/**
 * Resolves when the key is deleted after the revision it was seen at, when history that far back
 * is gone (the caller looks again), or when the signal is aborted.
 */
async function deletion(client: CoordinationClient, seen: Seen, signal: AbortSignal): Promise<void> {
  const watch = client.watch({ key: seen.kv.key }, { fromRevision: seen.revision + 1, signal });
  try {
    for await (const message of watch) {
      if (message.type === "events" && message.events.some((event) => event.type === "delete")) return;
    }
  } catch (error) {
    if (!(error instanceof WatchCompactedError)) throw error;
  } finally {
    watch.close();
  }
}
