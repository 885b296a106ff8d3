/**
 * Watchers on every member during a fault run: each a client watch of the whole keyspace from
 * revision 1, starting at its own member and moving to the others as the client resumes (member
 * killed, history not held there). What each delivered is recorded and checked for etcd's six
 * guarantees against the history all of them observed (docs/coordination.md, "Watch").
 */
import { RaftkvClient, WatchCompactedError, type Watch } from "raftkv/client";
import type { ClientAccessOptions } from "./secure.js";
import {
  checkWatch,
  historyFromObservations,
  type RecordedWatch,
  type WatchMessage,
  type WatchViolation,
} from "raftkv/testing";
import type { ProcessCluster } from "../harness.js";

interface Watcher {
  readonly name: string;
  readonly client: RaftkvClient;
  readonly watch: Watch;
  readonly messages: WatchMessage[];
  /** The highest revision the stream has vouched for (an event's or a progress notification's). */
  vouched: number;
  done: Promise<void>;
}

/** What the watchers saw, once checked. */
export interface WatchReport {
  readonly watchers: number;
  /** What each watcher delivered, as checked. */
  readonly streams: readonly RecordedWatch[];
  readonly messages: number;
  readonly events: number;
  readonly violations: readonly WatchViolation[];
  /** Acknowledged puts (key=value) that no watcher saw. */
  readonly missedWrites: readonly string[];
}

export class Watchers {
  readonly #watchers: Watcher[];

  constructor(cluster: ProcessCluster, access: ClientAccessOptions) {
    const addresses = cluster.members.map((m) => m.clientAddr);
    this.#watchers = cluster.members.map((m, i) => {
      // Its own member first, then the others, so each member serves a watcher while it is up.
      const endpoints = [...addresses.slice(i), ...addresses.slice(0, i)];
      const client = new RaftkvClient({ endpoints, timeoutMs: 5_000, ...access });
      const watch = client.watch({ prefix: "" }, { fromRevision: 1 });
      const watcher: Watcher = {
        name: `watch-${m.name}`,
        client,
        watch,
        messages: [],
        vouched: 0,
        done: Promise.resolve(),
      };
      watcher.done = this.#drain(watcher);
      return watcher;
    });
  }

  async #drain(watcher: Watcher): Promise<void> {
    try {
      for await (const message of watcher.watch) {
        if (message.type === "progress") {
          watcher.messages.push({ kind: "progress", revision: message.revision });
        } else {
          watcher.messages.push({
            kind: "events",
            events: message.events.map((e) => ({
              type: e.type,
              key: e.kv.keyText,
              value: e.type === "put" ? e.kv.text : "",
              revision: e.kv.modRevision,
            })),
          });
        }
        watcher.vouched = Math.max(watcher.vouched, message.revision);
      }
    } catch (error) {
      const compacted = error instanceof WatchCompactedError;
      watcher.messages.push({
        kind: "canceled",
        reason: compacted ? "compacted" : String(error),
        ...(compacted ? { compactRevision: error.compactRevision } : {}),
      });
    }
  }

  /** Whether every watcher has vouched for `revision`; asks the laggards for a progress notification. */
  async caughtUp(revision: number): Promise<boolean> {
    const behind = this.#watchers.filter((w) => w.vouched < revision);
    await Promise.all(behind.map((w) => w.watch.requestProgress().catch(() => undefined)));
    return behind.length === 0;
  }

  /** Ends the watches (again: nothing). */
  async close(): Promise<void> {
    for (const w of this.#watchers) w.watch.close();
    await Promise.all(this.#watchers.map((w) => w.done));
    for (const w of this.#watchers) w.client.close();
  }

  /** Ends the watches and checks what they delivered; `writes` are the acknowledged puts, as key=value. */
  async finish(writes: readonly { key: string; value: string }[]): Promise<WatchReport> {
    await this.close();
    const recorded: RecordedWatch[] = this.#watchers.map((w) => ({
      name: w.name,
      range: { prefix: "" },
      startRevision: 1,
      messages: w.messages,
    }));
    const observed = historyFromObservations(recorded);
    const violations = [...observed.violations, ...recorded.flatMap((w) => checkWatch(observed.history, w))];
    const seen = new Set<string>();
    for (const w of recorded)
      for (const m of w.messages) if (m.kind === "events") for (const e of m.events) seen.add(`${e.key}=${e.value}`);
    const missedWrites = writes.map((w) => `${w.key}=${w.value}`).filter((w) => !seen.has(w));
    return {
      watchers: recorded.length,
      streams: recorded,
      messages: recorded.reduce((n, w) => n + w.messages.length, 0),
      events: recorded.reduce(
        (n, w) => n + w.messages.reduce((k, m) => k + (m.kind === "events" ? m.events.length : 0), 0),
        0,
      ),
      violations,
      missedWrites,
    };
  }
}
