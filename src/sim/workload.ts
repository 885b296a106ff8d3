import { HistoryRecorder, type KvOp } from "../check/index.js";
import { decodeCommand, encodeCommand, sessionOf, type KvResult, type SessionCommand } from "../kv/index.js";
import { NodeRequestError, type ReadConsistency } from "../node/index.js";
import type { NodeId } from "../raft/index.js";
import { fromUtf8, utf8 } from "../util/bytes.js";
import type { Prng } from "../util/prng.js";
import type { Applied, SimCluster } from "./cluster.js";
import { etcdWrites } from "./etcd_writes.js";

export interface WorkloadCounts {
  committed: number;
  failed: number;
  unknown: number;
  reads: number;
}

/** How one attempt at a request ended, as a client sees it. */
type Attempt = { readonly outcome: "ok"; readonly result: unknown } | { readonly outcome: "fail" | "unknown" };

/**
 * Errors that prove the request was never proposed (or certainly not applied); any other failure
 * leaves its outcome unknown.
 */
const definiteFailures = new Set(["notLeader", "noLeader", "tooBusy", "notApplied", "stopped"]);

/** Sends `command` to member `member`; the reply counts only if the process that took it lives to give it. */
async function attempt(cluster: SimCluster, member: NodeId, command: Uint8Array): Promise<Attempt> {
  const reply = await cluster.request(member, async (node): Promise<Attempt> => {
    const life = cluster.member(member).life;
    try {
      const result = await node.raft.propose(command);
      return cluster.member(member).life === life ? { outcome: "ok", result } : { outcome: "unknown" };
    } catch (error) {
      if (!(error instanceof NodeRequestError)) throw error;
      return definiteFailures.has(error.detail.type) ? { outcome: "fail" } : { outcome: "unknown" };
    }
  });
  // Not up when the request arrived: a refused connection, certainly not applied.
  return reply ?? { outcome: "fail" };
}

/**
 * Waits for `member`'s read barrier and reads its state: undefined when the member was down, failed
 * the barrier, or died before answering (the client then knows nothing).
 */
async function barrierRead<T>(
  cluster: SimCluster,
  member: NodeId,
  mode: "linearizable" | "lease",
  read: () => T,
): Promise<{ ok: true; value: T } | { ok: false } | undefined> {
  // What was committed when the client sent the read (it may reach a stalled member much later).
  const floor = cluster.committedIndex();
  return cluster.request(member, async (node) => {
    const life = cluster.member(member).life;
    // The server forwards lease reads to the leader; a follower's own reads take a ReadIndex round.
    const consistency: ReadConsistency =
      mode === "lease" && node.raft.status().role === "leader" ? "lease" : "linearizable";
    try {
      await node.raft.readBarrier(consistency);
    } catch (error) {
      if (!(error instanceof NodeRequestError)) throw error;
      return { ok: false };
    }
    if (cluster.member(member).life !== life || cluster.node(member) === undefined) return undefined;
    checkReadFloor(cluster, member, floor);
    return { ok: true, value: read() };
  });
}

/** The linearizable read point a member's reads wait for may never fall below what was committed when they began. */
function checkReadFloor(cluster: SimCluster, member: NodeId, floor: number): void {
  const applied = cluster.appliedIndex(member);
  if (applied < floor)
    cluster.checker.fail(
      "staleRead",
      `${cluster.nameOf(member)} served a read at applied index ${applied}, but ${floor} was committed before the read began`,
    );
}

interface Client {
  readonly name: string;
  seq: number;
}

/**
 * Clients of the KV store, as raftkv's server uses the node: writes are proposed with a session
 * (client id and sequence number) and retried with the same sequence when their outcome is unknown;
 * reads wait on the node's read barrier (linearizable, or the leader's lease) and read the member's
 * store. Every operation goes into a history for the linearizability checker, and the store's
 * exactly-once rule is checked on every apply.
 */
export class KvWorkload {
  readonly recorder = new HistoryRecorder();
  readonly counts: WorkloadCounts = { committed: 0, failed: 0, unknown: 0, reads: 0 };
  readonly #cluster: SimCluster;
  readonly #prng: Prng;
  readonly #keys: string[];
  readonly #readMode: "linearizable" | "lease";
  #nextValue = 1;
  /** Session "client:seq" → the index it first applied at and its result there (JSON). */
  readonly #firstApply = new Map<string, { index: number; result: string }>();

  constructor(cluster: SimCluster, prng: Prng, options: { keys: number; readMode: "linearizable" | "lease" }) {
    this.#cluster = cluster;
    this.#prng = prng;
    this.#keys = Array.from({ length: options.keys }, (_, k) => `k${k}`);
    this.#readMode = options.readMode;
    cluster.onApplied((applied) => this.#checkExactlyOnce(applied));
  }

  /** Starts `clients` clients that issue requests until virtual time `until`, pausing up to `thinkMaxMs` between them. */
  start(clients: number, until: number, thinkMaxMs: number): void {
    for (let k = 0; k < clients; k++) void this.#runClient({ name: `c${k}`, seq: 0 }, until, thinkMaxMs);
  }

  /** Proposes a write at `member` once (no retry); resolves with the index it applied at, if it did. */
  async writeOnce(member: NodeId, key: string): Promise<number | undefined> {
    const command = encodeCommand({ type: "put", key: utf8(key), value: utf8(`v${this.#nextValue++}`) });
    let index: number | undefined;
    this.#cluster.onApplied((applied) => {
      if (
        index === undefined &&
        applied.command.length === command.length &&
        applied.command.every((b, i) => b === command[i])
      )
        index = applied.index;
    });
    const outcome = await attempt(this.#cluster, member, command);
    return outcome.outcome === "ok" ? index : undefined;
  }

  /**
   * Reads at `member` every millisecond or two until `until`, as clients that keep asking one member
   * would: a member that was just cut off is probed right through the end of its lease.
   */
  probe(member: NodeId, until: number): void {
    void (async () => {
      const client: Client = { name: `probe-${this.#cluster.nameOf(member)}`, seq: 0 };
      while (this.#cluster.now < until && this.#cluster.checker.violations.length === 0) {
        void this.#read(client, this.#prng.pick(this.#keys), member);
        await this.#cluster.sleep(this.#prng.int(1, 3));
      }
    })();
  }

  async #runClient(client: Client, until: number, thinkMaxMs: number): Promise<void> {
    while (this.#cluster.now < until && this.#cluster.checker.violations.length === 0) {
      await this.#operation(client);
      await this.#cluster.sleep(this.#prng.int(1, thinkMaxMs + 1));
    }
  }

  #operation(client: Client): Promise<void> {
    const key = this.#prng.pick(this.#keys);
    const roll = this.#prng.next();
    if (roll < 0.4) return this.#read(client, key);
    const value = `${client.name}-${this.#nextValue++}`;
    // Every other write takes etcd's form; decided without a draw, so the random sequence stays as it was.
    const etcd = this.#nextValue % 2 === 0;
    if (roll < 0.65) {
      const put: SessionCommand = etcd
        ? etcdWrites.put(key, value)
        : { type: "put", key: utf8(key), value: utf8(value) };
      return this.#write(client, key, { type: "put", value }, put);
    }
    if (roll < 0.8) {
      const remove: SessionCommand = etcd ? etcdWrites.remove(key) : { type: "delete", key: utf8(key) };
      return this.#write(client, key, { type: "delete" }, remove);
    }
    const expected = this.#prng.chance(0.3) ? null : `${client.name}-${this.#prng.int(1, this.#nextValue)}`;
    const compare = expected === null ? { key: utf8(key), modRevision: 0 } : { key: utf8(key), value: utf8(expected) };
    const command: SessionCommand = etcd
      ? etcdWrites.compareAndSet(key, expected, value)
      : {
          type: "txn",
          compare: [compare],
          success: [{ type: "put", key: utf8(key), value: utf8(value) }],
          failure: [],
        };
    return this.#write(client, key, { type: "cas", expected, value }, command);
  }

  /** One write: tried at up to four members with the same session, until a reply says what happened. */
  async #write(client: Client, key: string, op: KvOp, command: SessionCommand): Promise<void> {
    const seq = ++client.seq;
    const bytes = encodeCommand({ ...command, session: { clientId: client.name, seq } });
    const handle = this.recorder.invoke({ client: client.name, key, op, at: this.#cluster.now });
    let known: "fail" | "unknown" = "fail";
    for (let tries = 0; tries < 4; tries++) {
      const live = this.#cluster.liveIds();
      if (live.length > 0) {
        const reply = await attempt(this.#cluster, this.#prng.pick(live), bytes);
        if (reply.outcome === "ok") {
          this.#completeWrite(handle, op, reply.result as KvResult);
          return;
        }
        if (reply.outcome === "unknown") known = "unknown";
      }
      // A client backs off before it tries another member (no leader, a member down).
      await this.#cluster.sleep(this.#prng.int(10, 60));
    }
    if (known === "fail") this.recorder.complete(handle, { outcome: "fail", at: this.#cluster.now });
    this.counts[known === "fail" ? "failed" : "unknown"]++;
  }

  #completeWrite(handle: { id: number }, op: KvOp, result: KvResult): void {
    if (result.type === "invalid") {
      this.#cluster.checker.fail("exactlyOnce", `a write retried with its own session was refused: ${result.error}`);
      return;
    }
    this.counts.committed++;
    const at = this.#cluster.now;
    if (op.type === "cas")
      this.recorder.complete(handle, {
        outcome: "ok",
        at,
        result: (result.type === "txn" || result.type === "etcdTxn") && result.succeeded,
      });
    else this.recorder.complete(handle, { outcome: "ok", at });
  }

  async #read(client: Client, key: string, at?: NodeId): Promise<void> {
    const live = this.#cluster.liveIds();
    if (live.length === 0) return;
    const member = at ?? this.#prng.pick(live);
    const handle = this.recorder.invoke({ client: client.name, key, op: { type: "get" }, at: this.#cluster.now });
    const read = await barrierRead(this.#cluster, member, this.#readMode, () =>
      this.#cluster.kv(member)!.get(utf8(key)),
    );
    if (read === undefined) return;
    if (!read.ok) {
      this.recorder.complete(handle, { outcome: "fail", at: this.#cluster.now });
      return;
    }
    this.counts.reads++;
    this.recorder.complete(handle, {
      outcome: "ok",
      at: this.#cluster.now,
      result: read.value === null ? null : fromUtf8(read.value.value),
    });
  }

  /** A session's command may appear at several indexes (retries): only the first may change the store, and every one answers alike. */
  #checkExactlyOnce(applied: Applied): void {
    const decoded = decodeCommand(applied.command);
    const session = decoded.ok ? sessionOf(decoded.command) : undefined;
    if (session === undefined) return;
    const id = `${session.clientId}:${session.seq}`;
    const result = JSON.stringify(applied.result);
    const first = this.#firstApply.get(id);
    if (first === undefined) {
      this.#firstApply.set(id, { index: applied.index, result });
      return;
    }
    if (first.index === applied.index) return;
    // A late copy that arrives after the client's next write is refused as stale, which is fine.
    const stale = (applied.result as KvResult).type === "invalid";
    if (applied.wrote) {
      this.#cluster.checker.fail(
        "exactlyOnce",
        `${this.#cluster.nameOf(applied.member)} executed ${id} again at index ${applied.index} (first at ${first.index})`,
      );
    } else if (result !== first.result && !stale) {
      this.#cluster.checker.fail(
        "exactlyOnce",
        `${this.#cluster.nameOf(applied.member)} answered the retry of ${id} at index ${applied.index} differently from its first application at ${first.index}`,
      );
    }
  }
}

/**
 * Clients of the ID allocator, the state machine that is not idempotent: an ID handed out at two
 * indexes means a command ran twice. They propose at random members and read through the read
 * barrier, whose applied index must cover what was committed when the read began.
 */
export class IdWorkload {
  readonly counts: WorkloadCounts = { committed: 0, failed: 0, unknown: 0, reads: 0 };
  readonly #cluster: SimCluster;
  readonly #prng: Prng;
  readonly #indexOfId = new Map<unknown, number>();
  readonly #readMode: "linearizable" | "lease";

  constructor(cluster: SimCluster, prng: Prng, options: { readMode: "linearizable" | "lease" }) {
    this.#cluster = cluster;
    this.#prng = prng;
    this.#readMode = options.readMode;
    cluster.onApplied((applied) => {
      const earlier = this.#indexOfId.get(applied.result);
      if (earlier === undefined) this.#indexOfId.set(applied.result, applied.index);
      else if (earlier !== applied.index)
        cluster.checker.failStateMachine(
          `${cluster.nameOf(applied.member)} handed out ID ${String(applied.result)} at index ${applied.index}; it was handed out at ${earlier}`,
        );
    });
  }

  start(clients: number, until: number, thinkMaxMs: number): void {
    for (let k = 0; k < clients; k++) void this.#runClient(until, thinkMaxMs);
  }

  /** Reads at `member` every millisecond or two until `until` (see KvWorkload.probe). */
  probe(member: NodeId, until: number): void {
    void (async () => {
      while (this.#cluster.now < until && this.#cluster.checker.violations.length === 0) {
        void this.#read(member);
        await this.#cluster.sleep(this.#prng.int(1, 3));
      }
    })();
  }

  async #read(member: NodeId): Promise<void> {
    const read = await barrierRead(this.#cluster, member, this.#readMode, () => undefined);
    if (read?.ok === true) this.counts.reads++;
  }

  async #runClient(until: number, thinkMaxMs: number): Promise<void> {
    while (this.#cluster.now < until && this.#cluster.checker.violations.length === 0) {
      const live = this.#cluster.liveIds();
      if (live.length > 0) {
        const member = this.#prng.pick(live);
        if (this.#prng.chance(0.3)) {
          await this.#read(member);
        } else {
          const reply = await attempt(this.#cluster, member, new Uint8Array([0x50, this.#prng.int(0, 256)]));
          this.counts[reply.outcome === "ok" ? "committed" : reply.outcome === "fail" ? "failed" : "unknown"]++;
          // A client backs off after a refusal (no leader, a member down).
          if (reply.outcome === "fail") await this.#cluster.sleep(this.#prng.int(10, 60));
        }
      }
      await this.#cluster.sleep(this.#prng.int(1, thinkMaxMs + 1));
    }
  }
}
