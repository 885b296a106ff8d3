import type { EngineCore, EngineReady, EngineRole, EngineTypes } from "../engine/engine.js";
import type { RaftTypes } from "../engine/raft.js";
import type { ConfChange, Config, NodeId } from "../raft/index.js";
import type { Clock } from "./clock.js";
import type { EngineStorage } from "./engine_storage.js";
import type { PeerTransport } from "./peer_transport.js";
import type { StorageError } from "../storage/index.js";
import { NO_NODE } from "../util/ids.js";
import { ConfChangeRefused, NodeRequestError, type NodeError } from "./errors.js";
import type { EngineNodeOptions, NodeObserver, NodeStatus, ReadConsistency } from "./node_options.js";
import { ForwardedProposals, PendingProposals } from "./pending.js";
import { ReadBarrier } from "./read_barrier.js";
import { ReadyPipeline, readiesInFlightMaxDefault } from "./ready_pipeline.js";
import { SnapshotPolicy } from "./snapshot_policy.js";
import { Applier } from "./applier.js";
import { Proposer } from "./proposer.js";
import type { AddressBook } from "./members.js";
import { Ticker } from "./ticker.js";

export type { NodeObserver, RaftTuning, ReadConsistency } from "./node_options.js";
export { ConfChangeRefused } from "./errors.js";

/** The Raft instantiation, the default engine. */
export type RaftNode = EngineNode<RaftTypes>;

/** Heartbeats are split into this many ticks, so election timeouts are drawn at a fine grain. */
const ticksPerHeartbeat = 5;

/**
 * The driver around the pure core: the only place where disk, network, timers and the state
 * machine meet. It runs the Ready loop of docs/architecture.md: persist (one fdatasync per batch), send, apply,
 * advance; input that arrives meanwhile forms the next batch.
 */
export class EngineNode<E extends EngineTypes = EngineTypes> {
  readonly id: NodeId;
  readonly #raw: EngineCore<E>;
  readonly #observer: NodeObserver | undefined;
  readonly #onBug: EngineNodeOptions<E>["onBug"];
  readonly #storage: EngineStorage<E>;
  readonly #clock: Clock;
  #transport: PeerTransport<E["message"]> | undefined;
  readonly #pending: PendingProposals;
  readonly #forwarded: ForwardedProposals;
  /** Tells this run's forwarded proposals from those of an earlier run of this member. */
  readonly #epoch: number;
  readonly #applier: Applier;
  readonly #proposer: Proposer;
  readonly #reads: ReadBarrier;
  readonly #pipeline: ReadyPipeline;
  readonly #ticker: Ticker;
  readonly #snapshots: SnapshotPolicy<E>;
  #stopping = false;
  #failure: StorageError | undefined;
  #leader: NodeId = NO_NODE;
  /** The role and term last reported to the observer. */
  #role: EngineRole | undefined;
  #term = -1;

  constructor(options: EngineNodeOptions<E>) {
    // Not the options themselves: they hold what was recovered, a whole snapshot among it.
    this.#observer = options.observer;
    this.#onBug = options.onBug;
    this.id = options.id;
    this.#storage = options.storage;
    this.#clock = options.clock;
    this.#pending = new PendingProposals(options.clock);
    this.#forwarded = new ForwardedProposals(options.clock);
    this.#epoch = options.random.int(0, 2 ** 32);
    const tickMs = Math.max(1, Math.round(options.heartbeatMs / ticksPerHeartbeat));
    const electionTicks = Math.max(ticksPerHeartbeat + 1, Math.round(options.electionTimeoutMs / tickMs));
    this.#ticker = new Ticker({
      clock: options.clock,
      tickMs,
      electionTimeoutMs: options.electionTimeoutMs,
      onTicks: (times) => this.#tick(times),
    });
    const durable = options.durable;
    options.observer?.recovered?.(durable);
    this.#raw = newCore(options, electionTicks);
    this.#applier = new Applier(
      {
        id: options.id,
        epoch: this.#epoch,
        stateMachine: options.stateMachine,
        pending: this.#pending,
        forwarded: this.#forwarded,
        clock: options.clock,
        observer: options.observer,
        onMembersChanged: options.onMembersChanged,
      },
      options.addressBook,
      options.engine.snapshotOf(durable),
    );
    this.#proposer = new Proposer({
      id: options.id,
      epoch: this.#epoch,
      raw: this.#raw,
      pending: this.#pending,
      forwarded: this.#forwarded,
      observer: options.observer,
      proposalTimeoutMs: options.proposalTimeoutMs,
      schedule: () => this.#schedule(),
    });
    this.#pipeline = new ReadyPipeline({
      soon: (fn) => this.#clock.soon(fn),
      depth: Math.min(
        options.readiesInFlightMax ?? readiesInFlightMaxDefault,
        this.#raw.capabilities.readiesInFlightMax ?? Infinity,
      ),
      failed: () => this.#failure !== undefined,
      hasReady: () => this.#raw.hasReady(),
      startReady: (previous) => this.#startReady(this.#raw.ready(), previous),
      sendEarly: () => this.#send(this.#raw.takeMessages()),
      onBug: (error) => this.#bug(error),
    });
    this.#snapshots = this.#newSnapshotPolicy(options);
    this.#reads = new ReadBarrier({
      raw: this.#raw,
      ticker: this.#ticker,
      clock: options.clock,
      observer: options.observer,
      electionTimeoutMs: options.electionTimeoutMs,
      schedule: () => this.#schedule(),
    });
  }

  #newSnapshotPolicy(options: EngineNodeOptions<E>): SnapshotPolicy<E> {
    return new SnapshotPolicy(
      {
        raw: this.#raw,
        storage: options.storage,
        stateMachine: options.stateMachine,
        clock: options.clock,
        observer: options.observer,
        snapshotEntries: options.snapshotEntries,
        snapshotBytes: options.snapshotBytes,
        snapshotKeepEntries: options.snapshotKeepEntries,
        book: () => this.#applier.book,
        wake: () => this.#schedule(),
        stopping: () => this.#stopping,
        fail: (error) => this.#fail(error),
      },
      this.#applier.applied,
    );
  }

  /** Starts ticking and talking; `transport` is built around `receive`. */
  start(transport: PeerTransport<E["message"]>): void {
    this.#transport = transport;
    this.#ticker.start();
    this.#schedule();
  }

  /** Feeds a message from a peer (the transport calls this). */
  receive(m: E["message"]): void {
    if (this.#stopping) return;
    this.#observer?.messageReceived?.(m);
    this.#raw.step(m);
    this.#schedule();
  }

  /**
   * Proposes a command; resolves with the state machine's result once applied here. On a follower
   * the proposal travels to the leader over the peer connection and the result is this member's
   * own apply of it; if the leader drops it, it fails as "timeout" (outcome unknown).
   */
  async propose(command: Uint8Array): Promise<unknown> {
    const refusal = this.#refusal();
    if (refusal !== undefined) throw new NodeRequestError(refusal);
    return this.#proposer.propose(command);
  }

  /** Proposals appended here and not yet applied or failed. */
  pendingProposals(): number {
    return this.#proposer.size;
  }

  /**
   * Proposes a membership change, or several made at once (replacing voters); resolves once it is
   * applied here (it is then in force).
   */
  async proposeConfChange(changes: ConfChange | readonly ConfChange[]): Promise<void> {
    if (this.#raw.membership === undefined) throw new ConfChangeRefused("notSupported");
    const refusal = this.#refusal();
    if (refusal !== undefined) throw new NodeRequestError(refusal);
    await this.#proposer.proposeConfChange(changes);
  }

  /** Starts handing leadership to `to`; the caller watches status() to see it happen. */
  transferLeader(to: NodeId): { ok: true } | { ok: false; error: string } {
    const membership = this.#raw.membership;
    if (membership === undefined) return { ok: false, error: "notSupported" };
    const result = membership.transferLeader(to);
    this.#schedule();
    return result;
  }

  /** The configuration in force: voters (both halves while joint) and learners. */
  config(): Config {
    return this.#raw.config();
  }

  /** Which engine runs this node, and what it can do. */
  get capabilities(): EngineCore<E>["capabilities"] {
    return this.#raw.capabilities;
  }

  /** The members' names and addresses as this node knows them. */
  addressBook(): AddressBook {
    return this.#applier.book;
  }

  /**
   * Waits until a read at `consistency` may be served from this node's state machine:
   * linearizable by ReadIndex (on any member), lease only on a leader within its lease
   * (otherwise by ReadIndex), serializable at once (possibly stale).
   */
  async readBarrier(consistency: ReadConsistency): Promise<void> {
    const refusal = this.#refusal();
    if (refusal !== undefined) throw new NodeRequestError(refusal);
    if (consistency === "serializable") return;
    return this.#reads.wait(consistency, () => this.#applier.applied);
  }

  status(): NodeStatus {
    const s = this.#raw.status();
    return {
      id: this.id,
      role: s.role,
      term: s.reign,
      leader: s.leader,
      commitIndex: s.commitIndex,
      appliedIndex: this.#applier.applied,
      lastIndex: s.lastIndex,
      snapshotIndex: s.snapshotIndex,
    };
  }

  /** The core's own state, for checkers (Raft: its log). */
  coreView(): E["view"] {
    return this.#raw.view();
  }

  /** The storage failure that stopped this node, if any. */
  failure(): StorageError | undefined {
    return this.#failure;
  }

  /**
   * Stops cleanly: no new requests, the batch being written finishes and is synced, proposals
   * still in flight get `gracePeriodMs` to apply before they fail as "timeout".
   */
  async stop(gracePeriodMs = 1000): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const deadline = this.#clock.now() + gracePeriodMs;
    while (this.pendingProposals() > 0 && this.#clock.now() < deadline && this.#failure === undefined) {
      await new Promise<void>((resolve) => this.#clock.after(10, resolve));
    }
    this.#ticker.stop();
    await this.#pipeline.close();
    this.#pending.failAll({ type: "timeout" });
    this.#forwarded.failAll({ type: "timeout" });
    this.#reads.failAll({ type: "stopped" });
    await this.#transport?.close();
    await this.#snapshots.saved();
    await this.#storage.close();
  }

  #refusal(): NodeError | undefined {
    if (this.#failure !== undefined) return { type: "storage", error: this.#failure };
    if (this.#stopping) return { type: "stopped" };
    return undefined;
  }

  #tick(times: number): void {
    if (this.#stopping) return;
    for (let k = 0; k < times; k++) this.#raw.tick();
    this.#schedule();
  }

  #schedule(): void {
    this.#pipeline.schedule();
  }

  /** Does the first half of a Ready at once and queues the rest behind the Readies before it. */
  #startReady(ready: EngineReady<E>, previous: Promise<void>): Promise<void> {
    this.#noteRole(ready.soft.role, ready.soft.reign);
    this.#noteLeader(ready.soft.leader);
    const installed = ready.installedSnapshot;
    // Our own snapshot in the making is of the state being replaced; dropped before the leader's
    // is persisted, so that ours cannot be stored after it.
    if (installed !== undefined) this.#snapshots.installed(installed.index);
    // The core put these configurations in force when it handed them out; the names and addresses
    // follow at once, so no one sees a member without its name in between.
    const snapshotState = installed === undefined ? undefined : this.#applier.adoptBook(installed.data);
    for (const entry of ready.committed) if (entry.kind === "config") this.#applier.applyConfig(entry);
    this.#observer?.readyStarted?.(ready, this);
    const started = this.#clock.now();
    // Saves keep their order, after the previous Ready; the write leaves first (docs/performance.md).
    const persisting = this.#storage.persist(ready.write, ready.mustSync);
    this.#send(ready.messages);
    return previous.then(async () => {
      const persisted = await persisting;
      if (this.#failure !== undefined) return;
      if (!persisted.ok) {
        this.#fail(persisted.error);
        return;
      }
      this.#observer?.readyPersisted?.(ready);
      if (ready.writtenEntries !== undefined)
        this.#observer?.persisted?.((this.#clock.now() - started) / 1000, ready.writtenEntries);
      await this.#finishReady(ready, snapshotState);
    });
  }

  /** Sends messages; one carrying a snapshot goes once its data is read back from disk (snapshotBytesInCore). */
  #send(messages: readonly E["message"][]): void {
    const raw = this.#raw;
    if (!messages.some((m) => raw.snapshotToLoad(m) !== undefined)) {
      this.#transport?.send(messages);
      return;
    }
    const now: E["message"][] = [];
    for (const m of messages) {
      if (raw.snapshotToLoad(m) === undefined) now.push(m);
      else this.#sendSnapshot(m).catch((error: unknown) => this.#bug(error));
    }
    this.#transport?.send(now);
  }

  async #sendSnapshot(m: E["message"]): Promise<void> {
    const loaded = await this.#storage.loadSnapshotData(this.#raw.snapshotToLoad(m)!);
    // A snapshot file not (yet or any more) there: the core sends again when the peer still needs one.
    if (!loaded.ok || this.#stopping) return;
    this.#transport?.send([this.#raw.withSnapshotData(m, loaded.value)]);
  }

  #finishReady(ready: EngineReady<E>, snapshotState: Uint8Array | undefined): Promise<void> | void {
    this.#send(ready.messagesAfterPersist);
    const applyCommitted = (): void => {
      this.#snapshots.applied(this.#applier.apply(ready.committed));
      this.#reads.advanced(ready.readStates, this.#applier.applied);
      this.#raw.advance(ready);
      this.#snapshots.step(this.#applier.applied);
    };
    return this.#applier.install(ready.installedSnapshot, snapshotState, applyCommitted);
  }

  #noteRole(role: EngineRole, t: number): void {
    if (role === this.#role && t === this.#term) return;
    this.#role = role;
    this.#term = t;
    this.#observer?.roleChanged?.(role, t);
  }

  #noteLeader(leader: NodeId): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    if (leader !== NO_NODE) this.#observer?.leaderChanged?.(leader);
  }

  /**
   * An error escaped the Ready loop: a bug. The node stops taking input, and the error goes to
   * `onBug`, or is thrown on so that the process dies of it.
   */
  #bug(error: unknown): void {
    if (this.#stopping && this.#pipeline.halted) return;
    this.#stopping = true;
    this.#pipeline.halt();
    this.#ticker.stop();
    const onBug = this.#onBug;
    if (onBug === undefined) throw error;
    onBug(error);
  }

  /** A disk that fails a write leaves the log in an unknown state: stop serving, say why. */
  #fail(error: StorageError): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#pending.failAll({ type: "storage", error });
    this.#forwarded.failAll({ type: "storage", error });
    this.#reads.failAll({ type: "storage", error });
    this.#observer?.fatal?.(error);
  }
}

/** The core, recovered from what the node found on disk. */
function newCore<E extends EngineTypes>(options: EngineNodeOptions<E>, electionTicks: number): EngineCore<E> {
  return options.engine.create(
    {
      id: options.id,
      random: options.random,
      electionTicks,
      heartbeatTicks: ticksPerHeartbeat,
      checkInvariants: options.checkInvariants ?? false,
    },
    options.durable,
  );
}
