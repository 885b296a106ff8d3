import { LeaseError, type Lessor } from "../coord/index.js";
import { encodeCommand, type KvCommand } from "../kv/index.js";
import { NodeRequestError } from "../node/index.js";
import { NO_NODE, type NodeId } from "../raft/index.js";
import { utf8 } from "../util/bytes.js";
import type { Prng } from "../util/prng.js";
import type { SimCluster } from "./cluster.js";
import type { CoordMembers } from "./coord_members.js";
import type { LeaseChecks } from "./lease_checks.js";

interface LeaseWorkloadOptions {
  readonly clients: number;
  readonly minTtlSeconds: number;
  /** Clients start within this time, and grant no new lease after it. */
  readonly untilMs: number;
}

interface LeaseEnv {
  readonly cluster: SimCluster;
  readonly coord: CoordMembers;
  readonly checks: LeaseChecks;
  readonly stopped: () => boolean;
}

/** How a request to the leader ended, as the client sees it. */
type Served<T> =
  { readonly ok: true; readonly value: T; readonly by: NodeId } | { readonly ok: false; readonly gone: boolean };

const failed = { ok: false, gone: false } as const;

/** How long a client waits for a put or txn it proposed (the node's own proposal timeout is a second). */
const proposeTimeoutMs = 1500;

/**
 * Clients of leases (docs/coordination.md, "Leases"), as raftkv's client and server use them: each
 * grants a lease (TTL from the minimum to 3 times it), attaches keys with puts or a txn, and renews it
 * every third of its TTL through the member it believes leads; a follower forwards grants and
 * keepalives to the leader it knows, as the server does. Some clients keep their lease to the end,
 * some abandon it at a random moment, some revoke it; then they may start over with a new one.
 */
export class LeaseWorkload {
  readonly #env: LeaseEnv;
  readonly #prng: Prng;
  readonly #options: LeaseWorkloadOptions;
  readonly #clients: LeaseClient[] = [];

  constructor(env: LeaseEnv, prng: Prng, options: LeaseWorkloadOptions) {
    this.#env = env;
    this.#prng = prng;
    this.#options = options;
  }

  start(): void {
    for (let k = 0; k < this.#options.clients; k++) {
      const client = new LeaseClient(this.#env, this.#prng.fork(), `lc${k}`, this.#options);
      this.#clients.push(client);
      void client.run();
    }
  }

  /** The heal: the clients that were to give their lease up do so now, so that its expiry is checked after the heal. */
  heal(): void {
    for (const client of this.#clients) client.heal();
  }
}

class LeaseClient {
  readonly #env: LeaseEnv;
  readonly #prng: Prng;
  readonly #name: string;
  readonly #options: LeaseWorkloadOptions;
  /** Where it sends grants and keepalives: the member that served the last one, or a guess. */
  #believed: NodeId | undefined;
  /** The lease it renews now, and whether it keeps it to the end. */
  #holding: { readonly id: number; readonly keep: boolean } | undefined;
  #healed = false;

  constructor(env: LeaseEnv, prng: Prng, name: string, options: LeaseWorkloadOptions) {
    this.#env = env;
    this.#prng = prng;
    this.#name = name;
    this.#options = options;
  }

  async run(): Promise<void> {
    const { cluster, checks, stopped } = this.#env;
    const p = this.#prng;
    await cluster.sleep(p.int(0, this.#options.untilMs));
    for (let round = 0; !stopped() && cluster.now < this.#options.untilMs; round++) {
      const ttlSeconds = this.#options.minTtlSeconds * p.int(1, 4);
      const granted = await this.#toLeader(
        (lessor) => lessor.grant(ttlSeconds),
        (g) => g.id,
        ttlSeconds * 333,
      );
      if (!granted.ok) {
        await cluster.sleep(p.int(20, 100));
        continue;
      }
      const id = granted.value.id;
      checks.renewing(id, true);
      await this.#attach(id, round);
      const plan = p.pick(["keep", "abandon", "revoke"] as const);
      const until = plan === "keep" ? Infinity : cluster.now + p.int(0, 3 * ttlSeconds * 1000);
      this.#holding = { id, keep: plan === "keep" };
      const lost = await this.#renew(id, ttlSeconds, until);
      this.#holding = undefined;
      checks.renewing(id, false);
      if (!lost && plan === "revoke" && !stopped()) this.#revoke(id);
      await cluster.sleep(p.int(0, 500));
    }
  }

  heal(): void {
    this.#healed = true;
    if (this.#holding !== undefined && !this.#holding.keep) this.#env.checks.renewing(this.#holding.id, false);
  }

  /** Renews every third of the TTL until `until` (or the heal); true if the lease turned out to be gone. */
  async #renew(id: number, ttlSeconds: number, until: number): Promise<boolean> {
    const { cluster, stopped } = this.#env;
    const everyMs = (ttlSeconds * 1000) / 3;
    for (;;) {
      await cluster.sleep(everyMs);
      if (stopped() || cluster.now >= until || (this.#healed && !this.#holding!.keep)) return false;
      const renewed = await this.#toLeader(
        (lessor) => lessor.keepAlive(id),
        () => id,
        everyMs,
        id,
      );
      if (!renewed.ok && renewed.gone) {
        cluster.trace(undefined, `${this.#name}: lease ${id} is gone`);
        return true;
      }
    }
  }

  async #attach(id: number, round: number): Promise<void> {
    const p = this.#prng;
    const keys = Array.from({ length: p.int(1, 4) }, (_, k) => utf8(`l/${this.#name}/${round}/${k}`));
    const value = utf8(`${this.#name}-${id}`);
    if (keys.length > 1 && p.chance(0.5)) {
      await this.#propose({
        type: "txn",
        compare: [],
        success: keys.map((key) => ({ type: "put", key, value, lease: id })),
        failure: [],
      });
      return;
    }
    for (const key of keys) await this.#propose({ type: "put", key, value, lease: id });
  }

  /** A revoke: any member serves it (a log entry). The client does not wait for the answer. */
  #revoke(id: number): void {
    const { cluster, coord, checks } = this.#env;
    const live = cluster.liveIds();
    if (live.length === 0) return;
    const member = this.#prng.pick(live);
    checks.revokeRequested(id);
    cluster.trace(member, `${this.#name} revokes lease ${id}`);
    void cluster.request(
      member,
      () =>
        coord
          .lessor(member)
          ?.revoke(id)
          .catch(() => undefined) ?? Promise.resolve(undefined),
    );
  }

  /** Proposes `command` at a random member; gives up after a while (a member that died never answers). */
  async #propose(command: KvCommand): Promise<void> {
    const { cluster } = this.#env;
    const live = cluster.liveIds();
    if (live.length === 0) return;
    const proposed = cluster.request(this.#prng.pick(live), (node) =>
      node.raft.propose(encodeCommand(command)).catch(() => undefined),
    );
    await Promise.race([proposed, cluster.sleep(proposeTimeoutMs)]);
  }

  /**
   * A grant or keepalive: sent to the member believed to lead, forwarded by it if it does not, given up
   * after `timeoutMs` (the next try goes elsewhere). `leaseOf` names the lease the lessor's answer renews.
   */
  #toLeader<T>(
    call: (lessor: Lessor) => Promise<T>,
    leaseOf: (value: T) => number,
    timeoutMs: number,
    keepalive?: number,
  ): Promise<Served<T>> {
    const { cluster } = this.#env;
    const live = cluster.liveIds();
    const target =
      this.#believed !== undefined && live.includes(this.#believed)
        ? this.#believed
        : live.length > 0
          ? this.#prng.pick(live)
          : undefined;
    if (target === undefined) return Promise.resolve(failed);
    return new Promise((resolve) => {
      let settled = false;
      const settle = (served: Served<T>): void => {
        if (settled) return;
        settled = true;
        this.#believed = served.ok ? served.by : undefined;
        resolve(served);
      };
      cluster.at(cluster.now + timeoutMs, () => settle(failed));
      void this.#serve(target, call, leaseOf, keepalive, true).then(settle);
    });
  }

  /** Runs `call` in member `member`'s process; if its lessor does not lead, forwards it once to the leader it knows. */
  #serve<T>(
    member: NodeId,
    call: (lessor: Lessor) => Promise<T>,
    leaseOf: (value: T) => number,
    keepalive: number | undefined,
    mayForward: boolean,
  ): Promise<Served<T>> {
    const { cluster, coord, checks } = this.#env;
    const waiting = keepalive === undefined ? undefined : checks.sent(member, keepalive);
    const served = cluster.request(member, async (node): Promise<Served<T>> => {
      if (waiting !== undefined) checks.arrived(member, waiting);
      const life = cluster.member(member).life;
      const lessor = coord.lessor(member);
      if (lessor === undefined) return failed;
      try {
        const value = await call(lessor);
        if (cluster.member(member).life !== life) return failed;
        checks.acked(member, leaseOf(value), keepalive !== undefined);
        return { ok: true, value, by: member };
      } catch (error) {
        if (error instanceof LeaseError) return { ok: false, gone: error.code === "leaseNotFound" };
        if (!(error instanceof NodeRequestError)) {
          cluster.checker.fail(
            "lease",
            `${cluster.nameOf(member)}'s lessor failed: ${error instanceof Error ? error.message : String(error)}`,
          );
          return failed;
        }
        const leader = node.raft.status().leader;
        if (!mayForward || error.detail.type !== "notLeader" || leader === NO_NODE || leader === member) return failed;
        const forwarded = await this.#serve(leader, call, leaseOf, keepalive, false);
        // The answer goes back through the member that forwarded it.
        return cluster.member(member).life === life ? forwarded : failed;
      }
    });
    return served.then((outcome) => {
      if (waiting !== undefined) checks.arrived(member, waiting);
      return outcome ?? failed;
    });
  }
}
