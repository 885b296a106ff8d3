import { checkResumedSegments, checkWatch, CommittedHistory, type WatchRange } from "../check/index.js";
import { encodeCommand, type KvStore } from "../kv/index.js";
import type { NodeId } from "../raft/index.js";
import type { Prng } from "../util/prng.js";
import { membersOf } from "./leaders.js";
import { recordedEvent, WatchClient, type LogicalStream, type WatchEnv } from "./watch_client.js";

interface WatchWorkloadOptions {
  /** Watches started with each initial member as their first member. */
  readonly watchersPerMember: number;
  /** Watches start at random times up to this one. */
  readonly startMaxMs: number;
  /** The keys the KV clients write, k0 to k(keys-1); lease clients write under "l/". */
  readonly keys: number;
  /** For the watches whose reader is sometimes full: the chance, after each message, that it is. */
  readonly refuseRate: number;
}

/**
 * Watches on every member (docs/coordination.md, "Watch") and what they are checked against: the
 * committed history, recorded from every member's store as it applies each revision (two members
 * that tell different stories of a revision are a violation at once). Each watch is checked for
 * etcd's guarantees as one stream and across its reconnects (src/check/watch_checker.ts).
 */
export class WatchWorkload {
  readonly clients: WatchClient[] = [];
  readonly history = new CommittedHistory({ complete: true });
  readonly #env: WatchEnv;
  readonly #prng: Prng;
  readonly #options: WatchWorkloadOptions;
  #compactedTo = 0;
  /** After the heal, watches move to the members of the final configuration, as their application would. */
  #serving: ((id: NodeId) => boolean) | undefined;

  constructor(env: Omit<WatchEnv, "serves">, prng: Prng, options: WatchWorkloadOptions) {
    this.#env = { ...env, serves: (id) => this.#serving?.(id) ?? true };
    this.#prng = prng;
    this.#options = options;
  }

  /** Records the history member `member`'s store applies, from before its node replays anything. */
  recordStore(member: NodeId, kv: KvStore): void {
    const { cluster, counts } = this.#env;
    const name = cluster.nameOf(member);
    kv.listen({
      revision: (revision, events) => {
        const divergent = this.history.record(revision, events.map(recordedEvent), name);
        if (divergent !== undefined) cluster.checker.fail("watch", divergent.detail);
      },
      compacted: (revision) => {
        if (revision <= this.#compactedTo) return;
        this.#compactedTo = revision;
        counts.compactions++;
        cluster.trace(member, `compaction at revision ${revision} applied (the first member to)`);
      },
    });
  }

  /** Starts the watches, each on its home member at a random time, from a random revision. */
  start(homes: readonly NodeId[]): void {
    const { cluster } = this.#env;
    for (const home of homes) {
      for (let k = 0; k < this.#options.watchersPerMember; k++) {
        const name = `w${this.clients.length + k}@${cluster.nameOf(home)}`;
        const at = k === 0 ? 0 : this.#prng.int(0, this.#options.startMaxMs);
        cluster.at(at, () => this.#startClient(name, home));
      }
    }
  }

  /** Asks member `member` to compact at a revision just below its own, as a client's POST /v1/compact. */
  compact(member: NodeId): void {
    const { cluster } = this.#env;
    const kv = cluster.kv(member);
    if (kv === undefined) return;
    const revision = kv.revision() - this.#prng.int(0, 4);
    if (revision <= kv.compactRevision()) return;
    cluster.trace(member, `client asks for a compaction at revision ${revision}`);
    void cluster.request(member, (node) =>
      node.raft.propose(encodeCommand({ type: "compact", revision })).catch(() => undefined),
    );
  }

  /** Checks every watch stream and every chain of reconnects; `when` says which phase ended. */
  check(when: string): void {
    const { checker } = this.#env.cluster;
    for (const client of this.clients) {
      for (const stream of client.streams) {
        if (stream.startRevision === 0) continue;
        const segments = stream.segments.filter((s) => s.startRevision > 0);
        const found = [...checkWatch(this.history, stream), ...checkResumedSegments(stream.name, segments)];
        const first = found[0];
        if (first === undefined) continue;
        checker.fail(
          "watch",
          `${when}: ${stream.name} (${JSON.stringify(stream.range)} from revision ${stream.startRevision}) is not ${first.guarantee}: ${withTime(stream, first.detail)}` +
            (found.length > 1 ? ` (and ${found.length - 1} more)` : ""),
        );
        return;
      }
    }
  }

  /**
   * After the heal, with `leader` stable: every watch is moved off members outside its configuration,
   * and each must vouch for the leader's revision now (by an event or progress) within `livenessMs`.
   */
  async checkCaughtUp(leader: NodeId, livenessMs: number): Promise<void> {
    const { cluster } = this.#env;
    const members = membersOf(cluster, leader);
    this.#serving = (id) => members.has(id);
    for (const client of this.clients) {
      const member = client.member;
      if (member !== undefined && !members.has(member)) client.leave(member);
    }
    const target = cluster.kv(leader)?.revision() ?? 0;
    const caughtUp = (): boolean => this.clients.every((client) => client.vouched >= target);
    await cluster.runUntil(cluster.now + livenessMs, caughtUp);
    if (cluster.checker.violations.length > 0 || caughtUp()) return;
    const behind = this.clients
      .filter((client) => client.vouched < target)
      .map((c) => `${c.name} at ${c.vouched} on ${c.member === undefined ? "no member" : cluster.nameOf(c.member)}`);
    cluster.checker.fail(
      "watch",
      `after the heal, watches did not reach revision ${target} (leader ${cluster.nameOf(leader)}) within ${livenessMs}ms: ${behind.join(", ")}`,
    );
  }

  #startClient(name: string, home: NodeId): void {
    const p = this.#prng;
    const last = this.history.lastRevision;
    const roll = p.next();
    const fromRevision = roll < 0.4 ? undefined : roll < 0.8 ? Math.max(1, last - p.int(0, 40)) : last + p.int(1, 10);
    const client = new WatchClient(
      this.#env,
      {
        name,
        range: this.#range(),
        home,
        fromRevision,
        progressNotify: p.chance(0.5),
        refuseRate: p.chance(0.5) ? this.#options.refuseRate : 0,
      },
      p.fork(),
    );
    this.clients.push(client);
    client.start();
  }

  #range(): WatchRange {
    const p = this.#prng;
    const key = (): string => `k${p.int(0, this.#options.keys)}`;
    const roll = p.next();
    if (roll < 0.35) return { prefix: "" };
    if (roll < 0.55) return { key: key() };
    if (roll < 0.75) return { prefix: p.pick(["k", "l/"]) };
    if (roll < 0.9) {
      const [a, b] = [key(), key()].sort();
      return { from: a!, to: `${b!}\u0000` };
    }
    return { from: "l/" };
  }
}

/** Adds the virtual time of the first message a checker's detail names. */
function withTime(stream: LogicalStream, detail: string): string {
  const index = /message (\d+)/.exec(detail)?.[1];
  const at = index === undefined ? undefined : stream.times[Number(index)];
  return at === undefined ? detail : `${detail} (message ${index} at t=${at.toFixed(1)}ms)`;
}
