import assert from "node:assert/strict";
import { Lessor, type LessorOptions } from "../coord/index.js";
import { decodeCommand, encodeCommand, type KvCommand, type KvResult } from "../kv/index.js";
import type { NodeId } from "../raft/index.js";
import { Prng } from "../util/prng.js";
import type { ClusterOptions, SimCluster } from "./cluster.js";
import { electionTimeoutMs, steadyCluster } from "./steady_cluster.test.helper.js";

export { electionTimeoutMs };

type LessorTuning = Partial<Pick<LessorOptions, "revokesPerSecond" | "checkpointIntervalMs" | "checkIntervalMs">>;

/**
 * A steady simulated cluster with a Lessor beside each member's node (a new one each life), and the
 * virtual time at which each lease's revoke was first applied anywhere.
 */
export class LessorCluster {
  readonly cluster: SimCluster;
  leader: NodeId;
  /** Lease id → when its revoke was first applied, on any member. */
  readonly revokedAt = new Map<number, number>();
  readonly #lessors: Map<NodeId, Lessor>;

  private constructor(cluster: SimCluster, leader: NodeId, lessors: Map<NodeId, Lessor>) {
    this.cluster = cluster;
    this.leader = leader;
    this.#lessors = lessors;
    cluster.onApplied(({ command, result }) => {
      const decoded = decodeCommand(command);
      const { type } = result as KvResult;
      if (decoded.ok && decoded.command.type === "leaseRevoke" && type === "leaseRevoked") {
        if (!this.revokedAt.has(decoded.command.id)) this.revokedAt.set(decoded.command.id, cluster.now);
      }
    });
  }

  static async start(
    options: Partial<ClusterOptions> & { seed: number; lessor?: LessorTuning },
  ): Promise<LessorCluster> {
    const lessors = new Map<NodeId, Lessor>();
    const ids = new Prng(options.seed);
    const { cluster, leader } = await steadyCluster({
      ...options,
      services: (life) => {
        const lessor = new Lessor({
          kv: life.kv!,
          node: life.node.raft,
          clock: life.clock,
          electionTimeoutMs: options.electionTimeoutMs ?? electionTimeoutMs,
          random: () => ids.next(),
          ...options.lessor,
        });
        lessors.set(life.id, lessor);
        return {
          close: () => {
            lessor.close();
            if (lessors.get(life.id) === lessor) lessors.delete(life.id);
          },
        };
      },
    });
    return new LessorCluster(cluster, leader, lessors);
  }

  get now(): number {
    return this.cluster.now;
  }

  /** The lessor of member `id`'s current life, if it is up. */
  lessor(id: NodeId): Lessor | undefined {
    return this.#lessors.get(id);
  }

  /**
   * Starts `call` in member `id`'s process with its lessor, as a client's request reaching it
   * would; it finishes as the simulation runs. Rejects if the member was down.
   */
  request<T>(id: NodeId, call: (lessor: Lessor) => Promise<T>): Promise<T> {
    return this.cluster
      .request(id, () => {
        const lessor = this.#lessors.get(id);
        assert.ok(lessor !== undefined, `member ${id} runs a lessor`);
        return call(lessor).then((value) => ({ value }));
      })
      .then((answer) => {
        if (answer === undefined) throw new Error(`member ${id} was down`);
        return answer.value;
      });
  }

  /** `request`, run to its end. */
  on<T>(id: NodeId, call: (lessor: Lessor) => Promise<T>): Promise<T> {
    return this.settle(this.request(id, call));
  }

  /** Proposes `command` on member `id` and resolves with its result there. */
  async propose(id: NodeId, command: KvCommand): Promise<KvResult> {
    const result = await this.settle(this.cluster.request(id, (node) => node.raft.propose(encodeCommand(command))));
    return result as KvResult;
  }

  /** Runs the simulation until `promise` settles (or 30 s of virtual time pass), and settles as it did. */
  async settle<T>(promise: Promise<T>): Promise<T> {
    let outcome: { readonly value: T } | { readonly error: unknown } | undefined;
    promise.then(
      (value) => (outcome = { value }),
      (error: unknown) => (outcome = { error }),
    );
    await this.cluster.runUntil(this.now + 30_000, () => outcome !== undefined);
    assert.ok(outcome !== undefined, "the request settled within 30 s of virtual time");
    if ("error" in outcome) throw outcome.error;
    return outcome.value;
  }

  /** Runs until virtual time `until`, or until `stop` holds. */
  async runUntil(until: number, stop?: () => boolean): Promise<void> {
    await this.cluster.runUntil(until, stop);
    assert.deepEqual(this.cluster.checker.violations, []);
  }

  /** A member other than `except` that is leader now (its own view), if any. */
  otherLeader(except: NodeId): NodeId | undefined {
    return this.cluster.liveIds().find((id) => id !== except && this.cluster.node(id)!.raft.status().role === "leader");
  }
}

/**
 * A client renewing lease `id` every `everyMs` on whichever member leads, one keepalive at a time as
 * an HTTP client would; `acks` are the virtual times its keepalives were answered.
 */
export class Renewer {
  readonly acks: number[] = [];
  readonly failures: unknown[] = [];
  /** Called with each answer's time, inside the instant it arrived. */
  onAck: ((at: number) => void) | undefined;
  #stopped = false;
  readonly #lc: LessorCluster;
  readonly #id: number;
  readonly #everyMs: number;

  constructor(lc: LessorCluster, id: number, everyMs: number) {
    this.#lc = lc;
    this.#id = id;
    this.#everyMs = everyMs;
    this.#next();
  }

  stop(): void {
    this.#stopped = true;
  }

  #next(): void {
    const { cluster } = this.#lc;
    cluster.at(cluster.now + this.#everyMs, () => {
      if (this.#stopped) return;
      const target = cluster.liveIds().find((id) => cluster.node(id)!.raft.status().role === "leader");
      if (target === undefined) {
        this.#next();
        return;
      }
      void cluster
        .request(target, () => this.#lc.lessor(target)!.keepAlive(this.#id))
        .then(
          (renewed) => {
            if (this.#stopped || renewed === undefined) return;
            this.acks.push(cluster.now);
            this.onAck?.(cluster.now);
          },
          (error: unknown) => this.failures.push(error),
        )
        .finally(() => this.#next());
    });
  }
}
