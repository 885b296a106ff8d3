import { KvStore } from "../kv/index.js";
import {
  createNode,
  nodeIdOf,
  type Node,
  type NodeObserver,
  type PeerEndpoint,
  type RaftTuning,
} from "../node/index.js";
import type { EngineEntry, EngineName, EngineTypes } from "../engine/engine.js";
import type { ZabTuning } from "../engine/zab.js";
import type { NodeId, Term } from "../raft/index.js";
import { decodeWireMessage } from "../transport/index.js";
import { AssertionError } from "../util/assert.js";
import { Prng } from "../util/prng.js";
import { SafetyChecker } from "./checkers.js";
import type { DiskModel } from "./disk/disk_model.js";
import { SimDisk } from "./disk/sim_disk.js";
import { IdAllocator } from "./id_allocator.js";
import type { MemberLife, MemberServices, MemberStart } from "./member_services.js";
import { SimNetwork, type NetworkFaults } from "./network.js";
import { SimClock } from "./sim_clock.js";
import { SimTransport } from "./sim_transport.js";
import type { Tracer } from "./trace.js";
import type { Member } from "./member.js";
import { nextTurn } from "./turn.js";
import { WatchedStateMachine, type SimStateMachine } from "./watched_state_machine.js";
import { World } from "./world.js";
import { corruptOldestRecord } from "./wal_corruption.js";
import { RaftSim } from "./raft_sim.js";
import { PaxosSim } from "./paxos_sim.js";
import { ZabSim } from "./zab_sim.js";
import type { SimContext, SimEngine } from "./sim_engine.js";

export interface ClusterOptions {
  readonly seed: number;
  /** The consensus engine every member runs (Raft when absent). */
  readonly engine?: EngineName | undefined;
  readonly nodeCount: number;
  /** Machines beyond the initial members, started empty with --join, that membership changes may add. */
  readonly spareNodes: number;
  readonly electionTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly readiesInFlightMax: number;
  readonly raft: RaftTuning;
  /** ZAB's core settings when the engine is ZAB (its zxid counter width). */
  readonly zab?: ZabTuning | undefined;
  readonly disk: DiskModel;
  readonly network: NetworkFaults;
  readonly snapshotEntries: number;
  readonly snapshotKeepEntries: number;
  /**
   * The replicated state machine: the KV store users run, the non-idempotent ID allocator, or one
   * of your own (each start of a member gets a new one).
   */
  readonly stateMachine: "kv" | "ids" | { readonly create: () => SimStateMachine<unknown> };
  /** Each machine's clock runs at a rate drawn from [1 − d, 1 + d]. */
  readonly clockDrift: number;
  readonly proposalTimeoutMs: number;
  readonly tracer?: Tracer | undefined;
  /** Called for each life of a member with its new store, before its node starts and replays (a watch hub listens from here). */
  readonly beforeStart?: ((start: MemberStart) => void) | undefined;
  /** Started for each life of a member once it is up (a lessor, say), closed when the life ends. */
  readonly services?: ((life: MemberLife) => MemberServices) | undefined;
}

/** Where the next crash lands: right after a member sends such a message (see armCrash). */
export type CrashPlacement = "afterVote" | "afterAck" | "afterCommitSent" | "afterAppendSent";

/** Something to do to the member that sends a message of a kind, right after it left. */
interface ArmedFault {
  readonly matches: (message: unknown, commitAdvanced: boolean) => boolean;
  readonly act: (member: NodeId, message: unknown) => void;
}

export type CrashKind = "power" | "process";

/** A command some member applied: what the workload and the checkers see of every apply. */
export interface Applied {
  readonly member: NodeId;
  readonly index: number;
  readonly command: Uint8Array;
  readonly result: unknown;
  readonly wrote: boolean;
}

const dataDir = "/data";

/**
 * A cluster of real raftkv nodes (createNode, the Ready loop, node storage, the WAL and snapshot
 * store on simulated disks, the codec on a simulated network, a simulated clock per machine). All
 * that happens is an event in one queue of virtual time, processed one at a time with every promise
 * it started settled before the next, so a seed replays a run exactly; the checkers see every
 * Ready, persist, message, apply and snapshot as it happens.
 */
export class SimCluster {
  readonly options: ClusterOptions;
  readonly world = new World();
  readonly checker = new SafetyChecker();
  readonly network: SimNetwork;
  readonly prng: Prng;
  readonly members: readonly Member[];
  /** Every machine's id: the initial members first, then the spares. */
  readonly ids: readonly NodeId[];
  readonly initialIds: readonly NodeId[];
  messagesDelivered = 0;
  snapshotsInstalled = 0;
  snapshotsTaken = 0;

  readonly #byId = new Map<NodeId, Member>();
  readonly #appliedListeners: ((applied: Applied) => void)[] = [];
  #armed: ArmedFault | undefined;
  #disksSteady = false;
  #cutOnHeartbeatAck: { readonly leader: NodeId; readonly then: () => void } | undefined;
  readonly #services = new Map<NodeId, MemberServices>();
  readonly #engine: SimEngine<EngineTypes>;

  constructor(options: ClusterOptions) {
    this.options = options;
    const context: SimContext = {
      checker: this.checker,
      nameOf: (id) => this.nameOf(id),
      memberOf: (id) => this.#byId.get(id),
      trace: (id, text) => this.trace(id, text),
      tracing: options.tracer !== undefined,
    };
    this.#engine = simEngine(options, context);
    this.prng = new Prng(options.seed);
    this.network = new SimNetwork(this.prng.fork(), options.network);
    const members: Member[] = [];
    for (let k = 1; k <= options.nodeCount + options.spareNodes; k++) {
      const prng = this.prng.fork();
      const name = `n${k}`;
      const member: Member = {
        name,
        id: nodeIdOf(name),
        peerAddr: `${name}.sim:7000`,
        address: { host: `${name}.sim`, port: 7000 },
        initial: k <= options.nodeCount,
        prng,
        // At the ends of the bound: the lease's margin for drift is tested where it is thinnest.
        rate: 1 + (prng.chance(0.5) ? 1 : -1) * options.clockDrift,
        disk: new SimDisk({
          seed: prng.nextUint32(),
          tornWriteProbability: options.disk.tornWriteProbability,
          latency: (op) => (op === "datasync" ? this.#syncLatency(member) : undefined),
        }),
        life: 0,
        state: "down",
        corrupt: false,
        diskFailing: false,
        syncLatencyMs: undefined,
        node: undefined,
        transport: undefined,
        stateMachine: undefined,
        mirror: undefined,
        stalledUntil: 0,
        commitSeen: 0,
        commitSent: 0,
        leadingTerm: undefined,
        voters: undefined,
        isolatedSince: undefined,
        isolatedTerm: undefined,
        lastDeliveryAt: 0,
      };
      members.push(member);
      this.#byId.set(member.id, member);
    }
    this.members = members;
    this.ids = members.map((m) => m.id);
    this.initialIds = members.filter((m) => m.initial).map((m) => m.id);
    this.world.setGate((event) => {
      if (event.owner === undefined) return "run";
      const m = this.#byId.get(event.owner)!;
      if (event.life !== undefined && event.life !== m.life) return "drop";
      return m.stalledUntil > this.world.now ? m.stalledUntil : "run";
    });
  }

  get now(): number {
    return this.world.now;
  }

  /**
   * Starts every member, each within one heartbeat of time 0: machines boot at different moments,
   * so their tick timers are out of phase (in phase, a follower could never time out a fraction of a
   * tick early against its leader's lease).
   */
  start(): void {
    for (const m of this.members) {
      this.world.at(this.prng.next() * this.options.heartbeatMs, () => {
        // A fault may have restarted it already.
        if (m.state === "down" && m.life === 0) this.#start(m);
      });
    }
  }

  member(id: NodeId): Member {
    const m = this.#byId.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  nameOf(id: NodeId): string {
    return this.#byId.get(id)?.name ?? `#${id}`;
  }

  /** The running node of member `id`, if it is up. */
  node(id: NodeId): Node | undefined {
    const m = this.member(id);
    return m.state === "up" ? m.node : undefined;
  }

  liveIds(): NodeId[] {
    return this.members.filter((m) => m.state === "up").map((m) => m.id);
  }

  /** Members whose disk is intact, so they can run again (a corrupt one stays down for good). */
  usableIds(): NodeId[] {
    return this.members.filter((m) => !m.corrupt).map((m) => m.id);
  }

  /** The KV store of member `id`'s running node (KV runs only). */
  kv(id: NodeId): KvStore | undefined {
    const inner = this.node(id) === undefined ? undefined : this.member(id).stateMachine?.inner;
    return inner instanceof KvStore ? inner : undefined;
  }

  appliedIndex(id: NodeId): number {
    return this.node(id)?.raft.status().appliedIndex ?? 0;
  }

  /** The highest index any running member knows to be committed. */
  committedIndex(): number {
    let max = 0;
    for (const id of this.liveIds()) max = Math.max(max, this.node(id)!.raft.status().commitIndex);
    return max;
  }

  onApplied(listener: (applied: Applied) => void): void {
    this.#appliedListeners.push(listener);
  }

  /** Runs `run` at virtual time `time` (fault schedules and clients use this). */
  at(time: number, run: () => void): void {
    this.world.at(time, run);
  }

  /**
   * Runs `request` in member `id`'s process, as a client's request reaching it: after its stall,
   * if it is stalled, and only if it is up then. Resolves with `request`'s result, or undefined.
   */
  request<T>(id: NodeId, request: (node: Node) => Promise<T>): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      this.world.at(
        this.world.now,
        () => {
          const node = this.node(id);
          if (node === undefined) resolve(undefined);
          else request(node).then(resolve, reject);
        },
        id,
      );
    });
  }

  /** Resolves after `ms` of virtual time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.world.at(this.world.now + ms, resolve));
  }

  trace(node: NodeId | undefined, text: string): void {
    this.options.tracer?.(this.world.now, node === undefined ? undefined : this.nameOf(node), text);
  }

  /** Processes events until virtual time `until`, a violation, or `stop()` turning true. */
  async runUntil(until: number, stop?: () => boolean): Promise<void> {
    while (this.checker.violations.length === 0) {
      let stepped: boolean;
      try {
        stepped = this.world.step(until);
      } catch (error) {
        if (!(error instanceof AssertionError)) throw error;
        this.checker.failAssertion(`${error.message} at t=${this.world.now}`);
        return;
      }
      await nextTurn();
      // Asked once an instant is over: what more happens at the same virtual time is part of it.
      if (!this.world.hasDue(this.world.now) && stop?.() === true) break;
      // Nothing was due, and nothing the settled promises started is due either: time may jump.
      if (!stepped && !this.world.hasDue(until)) break;
    }
    if (this.checker.violations.length === 0 && stop?.() !== true) this.world.now = Math.max(this.world.now, until);
  }

  /** Whether a reign ended by the engine's design, not by a fault (SimEngine.reignEndedByDesign). */
  reignEndedByDesign(reign: number): boolean {
    return this.#engine.reignEndedByDesign?.(reign) ?? false;
  }

  // ---- faults ----------------------------------------------------------------------------------

  /**
   * Kills member `id`'s process. A power loss also loses what its disk had not synced (a write in
   * progress may be torn) and may flip a bit in its log; a process crash leaves the page cache.
   */
  crash(id: NodeId, kind: CrashKind): void {
    const m = this.member(id);
    if (m.state === "down") return;
    m.life++;
    m.state = "down";
    m.node = undefined;
    m.stateMachine = undefined;
    this.#services.get(id)?.close();
    this.#services.delete(id);
    void m.transport?.close();
    m.transport = undefined;
    m.stalledUntil = 0;
    m.disk = kind === "power" ? m.disk.crash() : m.disk.restart();
    this.trace(id, `${kind === "power" ? "power loss" : "process crash"} (life ${m.life - 1} ends)`);
    if (kind === "power" && this.#mayLoseDisk() && m.prng.chance(this.options.disk.corruptionRate)) {
      const where = corruptOldestRecord(m.disk, `${dataDir}/wal`);
      if (where !== undefined) {
        m.corrupt = true;
        this.trace(id, `bit flipped in ${where}`);
      }
    }
  }

  restart(id: NodeId): void {
    const m = this.member(id);
    if (m.state !== "down") return;
    this.#start(m);
  }

  /** Pauses member `id`'s process for `ms`: a GC pause or a blocked disk call. */
  stall(id: NodeId, ms: number): void {
    const m = this.member(id);
    if (m.state === "down") return;
    m.stalledUntil = Math.max(m.stalledUntil, this.world.now + ms);
    this.trace(id, `stalled for ${ms.toFixed(0)}ms`);
  }

  /** Member `id`'s disk starts or stops failing writes and syncs with `code` at rate `rate`. */
  failDisk(id: NodeId, code: "EIO" | "ENOSPC" | undefined, rate = 0.3): void {
    const m = this.member(id);
    const disk = m.disk;
    disk.clearFaults();
    m.diskFailing = code !== undefined;
    if (code === undefined) return;
    disk.failRate("write", code, rate);
    disk.failRate("datasync", "EIO", rate / 2);
    this.trace(id, `disk fails ${code} at rate ${rate}`);
  }

  /** While steady, no disk has an occasional slow fdatasync (see DiskOptions.slowSyncRate). */
  steadyDisks(steady: boolean): void {
    this.#disksSteady = steady;
  }

  /** Every fdatasync of member `id`'s disk takes `ms` from now on (undefined: back to the disk model). */
  slowDisk(id: NodeId, ms: number | undefined): void {
    this.member(id).syncLatencyMs = ms;
    this.trace(id, ms === undefined ? "disk back to normal" : `every fdatasync takes ${ms.toFixed(0)}ms`);
  }

  /** The next member to send a message of this kind crashes (power loss) right after. */
  armCrash(placement: CrashPlacement | undefined): void {
    this.#armed =
      placement === undefined
        ? undefined
        : {
            matches: (message, commitAdvanced) =>
              (placement === "afterVote" && this.#engine.is(message, "vote")) ||
              (placement === "afterAck" && this.#engine.is(message, "ack")) ||
              (placement === "afterCommitSent" && commitAdvanced) ||
              (placement === "afterAppendSent" && this.#engine.is(message, "append")),
            act: (member, message) => {
              this.trace(
                member,
                `crash right after sending ${this.#engine.describe(message, (id) => this.nameOf(id))}`,
              );
              this.crash(member, "power");
            },
          };
  }

  /**
   * The next member to send a TimeoutNow is cut off from everyone right after: its target may win
   * the transfer campaign while it goes on believing it leads. `then` runs once it is cut off.
   */
  armIsolationAfterTimeoutNow(then: (member: NodeId) => void): void {
    this.#armed = {
      matches: (message) => this.#engine.is(message, "timeoutNow"),
      act: (member) => {
        this.network.partition([[member], this.ids.filter((id) => id !== member)]);
        this.networkChanged();
        this.trace(member, "cut off right after sending TimeoutNow");
        then(member);
      },
    };
  }

  /**
   * Member `leader` is cut off from everyone right after the next heartbeat response reaches it:
   * its lease then starts as late as it can, while the followers' last word from it is that
   * heartbeat. `then` runs once it is cut off. Undefined disarms it.
   */
  armIsolationAfterHeartbeatAck(arm: { readonly leader: NodeId; readonly then: () => void } | undefined): void {
    this.#cutOnHeartbeatAck = arm;
  }

  /**
   * Once member `leader` sends a commit index of `index` or more, `act` runs right after that
   * message left: the members it reached may know of the commit, no other one does yet.
   */
  armAfterCommitSent(leader: NodeId, index: number, act: () => void): void {
    this.#armed = {
      matches: (message) => this.#engine.wire.from(message) === leader && this.#engine.commitOf(message) >= index,
      act,
    };
  }

  /** The network's cuts changed: note who is now cut off from everyone. */
  networkChanged(): void {
    for (const m of this.members) {
      const isolated = this.network.isIsolated(m.id, this.ids);
      if (isolated && m.isolatedSince === undefined) {
        m.isolatedSince = this.world.now;
        m.isolatedTerm = m.node?.raft.status().term as Term | undefined;
      } else if (!isolated) {
        m.isolatedSince = undefined;
        m.isolatedTerm = undefined;
      }
    }
  }

  /** Losing a disk for good is survivable only while a majority of the initial members keeps theirs. */
  #mayLoseDisk(): boolean {
    const lost = this.members.filter((m) => m.initial && m.corrupt).length;
    return lost + 1 <= (this.options.nodeCount - 1) / 2 && this.options.spareNodes === 0;
  }

  #syncLatency(m: Member): Promise<void> {
    const d = this.options.disk;
    const drawn =
      !this.#disksSteady && m.prng.chance(d.slowSyncRate)
        ? m.prng.int(d.syncLatencyMaxMs, d.slowSyncMaxMs + 1)
        : m.prng.int(d.syncLatencyMinMs, d.syncLatencyMaxMs + 1);
    const ms = m.syncLatencyMs ?? drawn;
    return new Promise((resolve) => this.world.at(this.world.now + ms, resolve, m.id, m.life));
  }

  // ---- a member's life ---------------------------------------------------------------------------

  #start(m: Member): void {
    const life = m.life;
    m.state = "starting";
    m.commitSeen = 0;
    m.commitSent = 0;
    m.leadingTerm = undefined;
    m.voters = undefined;
    m.isolatedTerm = undefined;
    const kind = this.options.stateMachine;
    const store = kind === "kv" ? new KvStore() : undefined;
    const ids = kind === "ids" ? new IdAllocator() : undefined;
    const inner: SimStateMachine<unknown> =
      store ?? ids ?? (kind as { create: () => SimStateMachine<unknown> }).create();
    const stateMachine = new WatchedStateMachine({
      inner,
      version: () => store?.revision() ?? ids?.issued() ?? 0,
      watch: {
        applied: (info) => {
          if (m.life !== life) return;
          for (const listener of this.#appliedListeners) listener({ member: m.id, ...info });
        },
        snapshot: (index, data) => {
          if (m.life === life) this.checker.observeSnapshot(m.id, index, data);
        },
      },
    });
    m.stateMachine = stateMachine;
    // A member that joins is told every member there may be by then (--initial-cluster with --join):
    // it cannot answer one it has no address for until it has caught up.
    const peers: Record<string, string> = {};
    for (const other of this.members) if (other.initial || !m.initial) peers[other.name] = other.peerAddr;
    const o = this.options;
    const clock = new SimClock({ world: this.world, owner: m.id, life, rate: m.rate });
    const start: MemberStart = { id: m.id, kv: store, clock };
    o.beforeStart?.(start);
    void createNode({
      id: m.name,
      dataDir,
      peers,
      join: !m.initial,
      stateMachine,
      electionTimeoutMs: o.electionTimeoutMs,
      heartbeatMs: o.heartbeatMs,
      snapshotEntries: o.snapshotEntries,
      snapshotKeepEntries: o.snapshotKeepEntries,
      proposalTimeoutMs: o.proposalTimeoutMs,
      raftTuning: o.raft,
      zabTuning: o.zab,
      readiesInFlightMax: o.readiesInFlightMax,
      engine: o.engine,
      observer: this.#observer(m, life),
      disk: m.disk,
      clock,
      random: m.prng.fork(),
      connectPeers: (endpoint) => Promise.resolve(this.#connect(m, life, endpoint)),
      checkInvariants: true,
      onBug: (error) => {
        if (m.life !== life) return;
        const text = error instanceof Error ? error.message : String(error);
        this.checker.failAssertion(`${m.name}: ${text} at t=${this.world.now}`);
      },
    }).then((created) => {
      if (m.life === life) this.#started(m, created, start);
    });
  }

  #started(m: Member, created: Awaited<ReturnType<typeof createNode>>, life: MemberStart): void {
    if (!created.ok) {
      m.state = "down";
      this.trace(m.id, `refuses to start: ${created.error}`);
      if (!m.corrupt && !m.diskFailing)
        this.checker.fail("notDurable", `${m.name} cannot start from its own disk: ${created.error}`);
      return;
    }
    if (m.corrupt) this.checker.fail("notDurable", `${m.name} started from a log with a flipped bit in an old record`);
    m.node = created.node;
    m.state = "up";
    this.trace(m.id, `up (life ${m.life})`);
    const services = this.options.services?.({ ...life, node: created.node });
    if (services !== undefined) this.#services.set(m.id, services);
  }

  #connect<M>(m: Member, life: number, endpoint: PeerEndpoint<M>): SimTransport<M> {
    const engine = this.#engine;
    const transport = new SimTransport<M>({
      id: m.id,
      world: this.world,
      network: this.network,
      peers: endpoint.peers,
      onMessage: endpoint.onMessage,
      wire: endpoint.wire,
      staleable: (message) => engine.staleable(message),
      hooks: { sent: (from, message) => this.#sent(from, message), arrived: (to, bytes) => this.#arrived(to, bytes) },
    });
    if (m.life === life) m.transport = transport as SimTransport<unknown>;
    else void transport.close();
    return transport;
  }

  #observer(m: Member, life: number): NodeObserver {
    const current = (): boolean => m.life === life;
    const engine = this.#engine;
    return {
      recovered: (durable) => {
        if (!current()) return;
        this.checker.observeStateMachineReset(m.id, engine.recovered(m, durable));
      },
      snapshot: (info) => {
        if (!current()) return;
        if (info.kind === "installed") this.checker.observeStateMachineReset(m.id, info.index);
        else this.snapshotsTaken++;
      },
      readyStarted: (ready, node) => {
        if (current()) engine.readyStarted(m, ready, node);
      },
      readyPersisted: (ready) => {
        if (!current()) return;
        engine.readyPersisted(m, ready);
        if (ready.installedSnapshot !== undefined) {
          this.snapshotsInstalled++;
          this.trace(m.id, `installed snapshot at ${ready.installedSnapshot.index}`);
        }
      },
      entriesApplied: (entries: readonly EngineEntry[]) => {
        if (!current()) return;
        for (const entry of entries) this.checker.observeApply(m.id, entry);
        engine.applied(m, entries);
      },
      fatal: (error) => {
        if (!current()) return;
        // `raftkv serve` exits on a storage failure; the fault schedule restarts it.
        this.trace(m.id, `stops: ${error.message}`);
        this.world.at(this.world.now, () => {
          if (m.life === life) this.crash(m.id, "process");
        });
      },
    };
  }

  // ---- the network -----------------------------------------------------------------------------

  #sent(from: NodeId, message: unknown): void {
    const m = this.member(from);
    this.#engine.sent(m, message);
    const commit = this.#engine.commitOf(message);
    const commitAdvanced = commit > m.commitSent;
    m.commitSent = Math.max(m.commitSent, commit);
    const armed = this.#armed;
    if (armed === undefined || !armed.matches(message, commitAdvanced)) return;
    this.#armed = undefined;
    armed.act(from, message);
  }

  #arrived(to: NodeId, bytes: Uint8Array): void {
    const m = this.member(to);
    const transport = m.transport;
    if (m.state !== "up" || transport === undefined) return;
    const engine = this.#engine;
    const decoded = decodeWireMessage(engine.wire, bytes);
    if (!decoded.ok) {
      this.checker.fail("codec", `${m.name} could not decode a message the codec encoded: ${decoded.error}`);
      return;
    }
    const message = decoded.message;
    this.messagesDelivered++;
    m.lastDeliveryAt = this.world.now;
    if (this.options.tracer !== undefined) this.trace(to, `recv ${engine.describe(message, (id) => this.nameOf(id))}`);
    transport.deliver(message, this.member(engine.wire.from(message)).address);
    const cut = this.#cutOnHeartbeatAck;
    if (cut !== undefined && cut.leader === to && engine.is(message, "heartbeatAck")) {
      this.#cutOnHeartbeatAck = undefined;
      // Responses already on their way still arrive: the heartbeat gets its quorum.
      this.network.partition([[to], this.ids.filter((id) => id !== to)]);
      this.networkChanged();
      this.trace(to, "cut off right after a heartbeat response reached it");
      cut.then();
    }
  }
}

/** The engine every member runs, with its own checks. */
function simEngine(options: ClusterOptions, context: SimContext): SimEngine<EngineTypes> {
  switch (options.engine) {
    case "multi-paxos":
      return new PaxosSim(context, { memberCount: options.nodeCount });
    case "zab":
      return new ZabSim(context, { memberCount: options.nodeCount, counterBits: options.zab?.counterBits });
    case "raft":
    case undefined:
      return new RaftSim(context, { preVote: options.raft.preVote !== false });
  }
}
