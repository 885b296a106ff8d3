/**
 * Leader election from the contender queue (queue.ts), as etcd's concurrency package has it: the
 * leader is the contender whose key under `<name>/` is the oldest, its value the leader's value.
 */
import { electionLost, RaftkvError, WatchCompactedError } from "./errors.js";
import { contenders, queuePrefix, takeTurn, type CoordinationClient, type QueueOptions } from "./queue.js";
import type { Bytes, KeyValue, WatchSelector } from "./types.js";

export interface Election {
  /** `<name>/<lease id>`: the leader's key. */
  readonly key: string;
  /** The key's createRevision: a later leader's is higher (a fencing token, as for locks). */
  readonly token: number;
  readonly lease: number;
  /** Resolves with why, if the lease is lost while leading: this contender no longer leads. */
  readonly lost: Promise<RaftkvError>;
  /** Sets the leader's value; fails with `election_lost` when the key is no longer this leader's. */
  proclaim(value: Bytes): Promise<void>;
  /** Gives up leadership: deletes the key (by revoking its lease) and stops the keepalive. */
  resign(): Promise<void>;
}

/** Waits until this contender leads `name`, with `value` as the leader's value. */
export async function campaign(
  client: CoordinationClient,
  name: string,
  value: Bytes,
  options: QueueOptions,
): Promise<Election> {
  const turn = await takeTurn(client, name, value, options);
  let modRevision = turn.modRevision;
  return {
    key: turn.key,
    token: turn.token,
    lease: turn.lease,
    lost: turn.lost,
    async proclaim(next: Bytes): Promise<void> {
      const result = await client.txn({
        compare: [{ key: turn.key, modRevision }],
        success: [{ type: "put", key: turn.key, value: next, lease: turn.lease }],
      });
      if (!result.succeeded) {
        throw new RaftkvError({ code: electionLost, message: `${turn.key} is not this leader's key any more` });
      }
      modRevision = result.revision;
    },
    resign: turn.end,
  };
}

/**
 * The leader's value each time it changes: a new leader, or a proclamation. Nothing is yielded
 * while there is no leader. Ends when the signal is aborted.
 */
export async function* observe(
  client: CoordinationClient,
  name: string,
  options: { signal?: AbortSignal },
): AsyncGenerator<KeyValue, void, undefined> {
  const prefix = queuePrefix(name);
  let last: KeyValue | undefined;
  while (options.signal?.aborted !== true) {
    const { queue, revision } = await contenders(client, prefix);
    const leader = queue[0];
    if (leader !== undefined && !sameWrite(leader.kv, last)) {
      last = leader.kv;
      yield leader.kv;
    }
    // Without a leader, any new contender may be one; with one, only its own key matters.
    const selector: WatchSelector = leader === undefined ? { prefix } : { key: leader.kv.key };
    const fromRevision = (leader?.revision ?? revision) + 1;
    const signal = options.signal === undefined ? {} : { signal: options.signal };
    const watch = client.watch(selector, { fromRevision, ...signal });
    try {
      for await (const message of watch) {
        if (message.type !== "events") continue;
        if (leader === undefined || message.events.some((event) => event.type === "delete")) break;
        last = message.events.at(-1)?.kv;
        if (last !== undefined) yield last;
      }
    } catch (error) {
      if (!(error instanceof WatchCompactedError)) throw error;
    } finally {
      watch.close();
    }
  }
}

function sameWrite(a: KeyValue, b: KeyValue | undefined): boolean {
  return b !== undefined && a.keyText === b.keyText && a.modRevision === b.modRevision;
}
