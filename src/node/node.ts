import {
  decodeConfEntry,
  RawNode,
  type ConfChange,
  type ConfChangeError,
  type ConfEntry,
  type Config,
  type DurableState,
  type Entry,
  type Message,
  type NodeId,
  type RaftOptions,
  type Random,
  type Ready,
  type Role,
  type Term,
} from "../raft/index.js";
import type { Clock, Timer } from "./clock.js";
import type { PeerTransport } from "./peer_transport.js";
import { assert } from "../util/assert.js";
import type { StorageError } from "../storage/index.js";
import { logIndex, NO_NODE, type LogIndex } from "../util/ids.js";
import { NodeRequestError, type NodeError } from "./errors.js";
import type { NodeStorage } from "./node_storage.js";
import { AppliedWaiters, ForwardedProposals, PendingProposals } from "./pending.js";
import { unwrap, wrapForwarded, wrapLocal } from "./proposal_envelope.js";
import { ReadRounds } from "./read_rounds.js";
import type { SnapshotInProgress, StateMachine } from "./state_machine.js";
import {
  decodeNodeSnapshot,
  encodeNodeSnapshot,
  nodeSnapshotHeader,
  type AddressBook,
  type MemberAddress,
} from "./members.js";

export type ReadConsistency = "linearizable" | "lease" | "serializable";

/** Optional callbacks for metrics; each is called on the hot path, so keep them cheap. */
export interface NodeObserver {
  persisted?(seconds: number, entries: number): void;
  applied?(seconds: number, entries: number): void;
  proposed?(outcome: "accepted" | "rejected"): void;
  leaderChanged?(leader: NodeId): void;
  fatal?(error: StorageError): void;
  /** This node's role or term changed (seen in a Ready, before it is persisted). */
  roleChanged?(role: Role, term: number): void;
  /** A proposal made here settled: applied ("committed") or failed (timeout, lost leadership, stopped, disk). */
  proposalSettled?(outcome: "committed" | "failed"): void;
  /** A ReadIndex round started (one round serves every read that joined it). */
  readIndexRound?(mode: "safe" | "lease"): void;
  /** A config entry is being applied here; called before the address book forgets a removed member. */
  configApplied?(index: number, entry: ConfEntry): void;
  /** A snapshot was taken here (`seconds`: encoding and the durable write) or installed from the leader (`seconds`: restoring from it). */
  snapshot?(info: { kind: "taken" | "installed"; index: number; bytes: number; seconds: number }): void;
  /** The log was compacted: entries through `index` are gone from the WAL. */
  compacted?(index: number): void;
  /** What the node recovered from its data directory when it started (for checkers). */
  recovered?(durable: DurableState): void;
  /** A Ready was taken from the core; its `messages` leave next (for checkers, which may read `node`). */
  readyStarted?(ready: Ready, node: RaftNode): void;
  /** A Ready's snapshot, entries and hard state are durable; nothing of it was sent or applied yet (for checkers). */
  readyPersisted?(ready: Ready): void;
  /** Entries handed to the state machine, in order, once applied (for checkers). */
  entriesApplied?(entries: readonly Entry[]): void;
}

/** Core settings a node passes through; elections and heartbeats follow from its timing options. */
export type RaftTuning = Partial<
  Pick<
    RaftOptions,
    | "preVote"
    | "checkQuorum"
    | "readOnlyMode"
    | "appendEntriesMax"
    | "appendBytesMax"
    | "inflightMax"
    | "uncommittedBytesMax"
    | "applyBytesMax"
    | "promoteLagEntriesMax"
    | "clockDriftMax"
  >
>;

export interface RaftNodeOptions {
  readonly id: NodeId;
  /** The voters a new cluster bootstraps with; empty for a member that joins an existing cluster. */
  readonly voters: readonly NodeId[];
  /** Names and addresses known at start; snapshots and config entries keep it current. */
  readonly addressBook: AddressBook;
  /** Called when a config entry adds or removes a member, so the transport can follow. */
  readonly onMembersChanged?: (change: { added?: [NodeId, MemberAddress]; removed?: NodeId }) => void;
  readonly stateMachine: StateMachine;
  readonly storage: NodeStorage;
  readonly durable: DurableState;
  readonly random: Random;
  readonly clock: Clock;
  readonly electionTimeoutMs: number;
  readonly heartbeatMs: number;
  /** Take a snapshot every this many applied entries, or this many applied command bytes. */
  readonly snapshotEntries: number;
  readonly snapshotBytes: number;
  /** Entries kept below a snapshot so a follower slightly behind needs no snapshot. */
  readonly snapshotKeepEntries: number;
  /** A proposal not applied within this time fails as "timeout" (outcome unknown). */
  readonly proposalTimeoutMs: number;
  readonly observer?: NodeObserver | undefined;
  readonly raftTuning?: RaftTuning | undefined;
  /** Readies whose persist may run at once (default 2, see readiesInFlightMaxDefault). */
  readonly readiesInFlightMax?: number | undefined;
  /** Check the core's invariants after every input (the simulator does; it costs a little). */
  readonly checkInvariants?: boolean | undefined;
  /**
   * Told of an error that escaped the Ready loop: a bug, after which the node is stopped. Without
   * it the error is thrown on, so the process dies with it.
   */
  readonly onBug?: ((error: unknown) => void) | undefined;
}

/** Raft refused a membership change; `reason` says why (nothing was proposed). */
export class ConfChangeRefused extends Error {
  override name = "ConfChangeRefused";
  readonly reason: ConfChangeError;

  constructor(reason: ConfChangeError) {
    super(`membership change refused: ${reason}`);
    this.reason = reason;
  }
}

/** Heartbeats are split into this many ticks, so election timeouts are drawn at a fine grain. */
const ticksPerHeartbeat = 5;
/** The timer this many ticks late means our own loop stalled, not just a busy turn. */
const stallTicks = 3;

/**
 * Readies whose persist may run at once. A second one is written while the first one's fdatasync
 * runs and synced right after it (the WAL's group commit), so the disk never waits for the CPU work
 * between batches (applying, answering clients): what the Raft thesis §10.2.1 describes for the
 * leader, applied to every member. Completions are handled strictly in order.
 */
const readiesInFlightMaxDefault = 2;

/**
 * The data the core keeps for this node's own snapshot: none. The snapshot is on disk, and a peer
 * that needs it gets it read from there, so a large state is not held in memory twice.
 */
const dataOnDisk = new Uint8Array(0);

/** Snapshot bytes encoded per turn of the event loop: a few milliseconds of work. */
const snapshotStepBytes = 1 << 20;

/** A node snapshot through `index`: the address book as it was then, and the state machine's data. */
interface SnapshotParts {
  readonly index: LogIndex;
  readonly data: Uint8Array;
  /** When encoding began (Clock.now()). */
  readonly started: number;
}

/**
 * The driver around the pure core: the only place where disk, network, timers and the state
 * machine meet. It runs DESIGN.md's Ready loop: persist (one fdatasync per batch), send, apply,
 * advance; input that arrives meanwhile forms the next batch.
 */
export class RaftNode {
  readonly id: NodeId;
  readonly #raw: RawNode;
  readonly #options: RaftNodeOptions;
  readonly #stateMachine: StateMachine;
  readonly #storage: NodeStorage;
  readonly #clock: Clock;
  #transport: PeerTransport | undefined;
  readonly #pending: PendingProposals;
  readonly #forwarded: ForwardedProposals;
  /** Tells this run's forwarded proposals from those of an earlier run of this member. */
  readonly #epoch: number;
  readonly #appliedWaiters = new AppliedWaiters();
  readonly #reads: ReadRounds;
  readonly #tickMs: number;
  readonly #readiesInFlightMax: number;
  #tickTimer: Timer | undefined;
  #lastTickAt: number;
  /** When our own event loop last stalled past a tick: a lease cannot be trusted across a stall. */
  #lastStallAt = -Infinity;
  #applied: number;
  #lastSnapshotIndex: number;
  #bytesSinceSnapshot = 0;
  /** A snapshot being encoded a piece per turn of the event loop (StateMachine.beginSnapshot). */
  #snapshotting: SnapshotInProgress | undefined;
  /** An encoded snapshot waiting for the Ready loop to store it. */
  #snapshotEncoded: SnapshotParts | undefined;
  /** Settles once every snapshot handed to storage so far is written (or has failed). */
  #snapshotsSaving: Promise<void> = Promise.resolve();
  #loopScheduled = false;
  #loopRunning = false;
  #loopIdle: Promise<void> = Promise.resolve();
  /** The completions of Readies being persisted, oldest first. */
  #inFlight: Promise<void>[] = [];
  /** Wakes a loop waiting on a persist when new input arrives, so it can start the next one. */
  #wakeLoop: (() => void) | undefined;
  #stopping = false;
  #closed = false;
  #failure: StorageError | undefined;
  #leader: NodeId = NO_NODE;
  /** The role and term last reported to the observer. */
  #role: Role | undefined;
  #term = -1;
  #book: AddressBook;
  readonly #leaseReads: ReadRounds;

  constructor(options: RaftNodeOptions) {
    this.#options = options;
    this.id = options.id;
    this.#stateMachine = options.stateMachine;
    this.#storage = options.storage;
    this.#clock = options.clock;
    this.#lastTickAt = options.clock.now();
    this.#pending = new PendingProposals(options.clock);
    this.#forwarded = new ForwardedProposals(options.clock);
    this.#epoch = options.random.int(0, 2 ** 32);
    this.#readiesInFlightMax = options.readiesInFlightMax ?? readiesInFlightMaxDefault;
    this.#tickMs = Math.max(1, Math.round(options.heartbeatMs / ticksPerHeartbeat));
    const electionTicks = Math.max(ticksPerHeartbeat + 1, Math.round(options.electionTimeoutMs / this.#tickMs));
    const durable = options.durable;
    options.observer?.recovered?.(durable);
    this.#raw = new RawNode(
      {
        ...options.raftTuning,
        id: options.id,
        voters: options.voters,
        random: options.random,
        electionTicks,
        heartbeatTicks: ticksPerHeartbeat,
        checkInvariants: options.checkInvariants ?? false,
      },
      durable.snapshot === undefined
        ? durable
        : { ...durable, snapshot: { meta: durable.snapshot.meta, data: dataOnDisk } },
    );
    this.#book = options.addressBook;
    const snapshot = options.durable.snapshot;
    if (snapshot !== undefined) this.#restore(snapshot.data);
    this.#applied = snapshot?.meta.index ?? 0;
    this.#lastSnapshotIndex = this.#applied;
    const readTimeoutMs = 2 * options.electionTimeoutMs;
    this.#reads = new ReadRounds({
      start: (context) => this.#startReadIndex(context, "safe"),
      timeoutMs: readTimeoutMs,
      clock: options.clock,
    });
    this.#leaseReads = new ReadRounds({
      start: (context) => this.#startReadIndex(context, "lease"),
      timeoutMs: readTimeoutMs,
      clock: options.clock,
    });
  }

  /** Starts ticking and talking; `transport` is built around `receive`. */
  start(transport: PeerTransport): void {
    this.#transport = transport;
    this.#lastTickAt = this.#clock.now();
    this.#tickTimer = this.#clock.every(this.#tickMs, () => this.#onTimer());
    this.#schedule();
  }

  /** Feeds a message from a peer (the transport calls this). */
  receive(m: Message): void {
    if (this.#stopping) return;
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
    const status = this.#raw.status();
    if (status.role === "leader") return this.#proposeHere(command, status.term);
    if (status.leader === NO_NODE) throw new NodeRequestError({ type: "noLeader" });
    const { seq, result } = this.#forwarded.add(this.#options.proposalTimeoutMs);
    const forwarded = this.#raw.propose(wrapForwarded(command, { origin: this.id, epoch: this.#epoch, seq }));
    if (!forwarded.ok) this.#forwarded.fail(seq, { type: "noLeader" });
    this.#options.observer?.proposed?.(forwarded.ok ? "accepted" : "rejected");
    this.#schedule();
    return this.#settled(result);
  }

  #proposeHere(command: Uint8Array, t: Term): Promise<unknown> {
    const result = this.#raw.propose(wrapLocal(command));
    if (!result.ok || result.outcome !== "appended") {
      this.#options.observer?.proposed?.("rejected");
      throw new NodeRequestError({ type: "tooBusy" });
    }
    this.#options.observer?.proposed?.("accepted");
    this.#schedule();
    return this.#settled(this.#pending.add(result.index, t, this.#options.proposalTimeoutMs));
  }

  /** Reports how a pending proposal ended to the observer, passing the outcome through. */
  #settled<T>(pending: Promise<T>): Promise<T> {
    const observer = this.#options.observer;
    if (observer?.proposalSettled === undefined) return pending;
    return pending.then(
      (value) => {
        observer.proposalSettled?.("committed");
        return value;
      },
      (error: unknown) => {
        observer.proposalSettled?.("failed");
        throw error;
      },
    );
  }

  /** Proposals appended here and not yet applied or failed. */
  pendingProposals(): number {
    return this.#pending.size + this.#forwarded.size;
  }

  /**
   * Proposes a membership change, or several made at once (replacing voters); resolves once it is
   * applied here (it is then in force).
   */
  async proposeConfChange(changes: ConfChange | readonly ConfChange[]): Promise<void> {
    const refusal = this.#refusal();
    if (refusal !== undefined) throw new NodeRequestError(refusal);
    const result = this.#raw.proposeConfChange(changes);
    if (!result.ok) throw new ConfChangeRefused(result.error);
    this.#schedule();
    const t = this.#raw.status().term;
    await this.#settled(this.#pending.add(logIndex(result.index), t, this.#options.proposalTimeoutMs));
  }

  /** Starts handing leadership to `to`; the caller watches status() to see it happen. */
  transferLeader(to: NodeId): { ok: true } | { ok: false; error: string } {
    const result = this.#raw.transferLeader(to);
    this.#schedule();
    return result;
  }

  /** The configuration in force: voters (both halves while joint) and learners. */
  config(): Config {
    return this.#raw.config();
  }

  /** The members' names and addresses as this node knows them. */
  addressBook(): AddressBook {
    return this.#book;
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
    const index = await (consistency === "lease" ? this.#leaseReads : this.#reads).read();
    return this.#appliedWaiters.waitFor(index, this.#applied);
  }

  status(): {
    id: NodeId;
    role: Role;
    term: number;
    leader: NodeId;
    commitIndex: number;
    appliedIndex: number;
    lastIndex: number;
    snapshotIndex: number;
  } {
    const s = this.#raw.status();
    return {
      id: this.id,
      role: s.role,
      term: s.term,
      leader: s.leader,
      commitIndex: s.commitIndex,
      appliedIndex: this.#applied,
      lastIndex: s.lastIndex,
      snapshotIndex: s.snapshotIndex,
    };
  }

  /** The in-memory log as checkers see it: the term at an index, and where the log starts. */
  logView(): { termAt(index: LogIndex): Term | undefined; firstIndex(): LogIndex } {
    const raw = this.#raw;
    return { termAt: (index) => raw.termAt(index), firstIndex: () => raw.firstIndex() };
  }

  raftStats(): ReturnType<RawNode["status"]>["stats"] {
    return this.#raw.status().stats;
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
    this.#tickTimer?.cancel();
    this.#closed = true;
    await this.#loopIdle;
    this.#pending.failAll({ type: "timeout" });
    this.#forwarded.failAll({ type: "timeout" });
    this.#reads.failAll(new NodeRequestError({ type: "stopped" }));
    this.#leaseReads.failAll(new NodeRequestError({ type: "stopped" }));
    this.#appliedWaiters.failAll({ type: "stopped" });
    await this.#transport?.close();
    await this.#snapshotsSaving;
    await this.#storage.close();
  }

  #refusal(): NodeError | undefined {
    if (this.#failure !== undefined) return { type: "storage", error: this.#failure };
    if (this.#stopping) return { type: "stopped" };
    return undefined;
  }

  #startReadIndex(context: Uint8Array, wanted: "safe" | "lease"): boolean {
    const mode = wanted === "lease" && this.#leaseVoid() ? "safe" : wanted;
    const ok = this.#raw.readIndex(context, mode).ok;
    if (ok) this.#options.observer?.readIndexRound?.(mode);
    if (ok) this.#schedule();
    return ok;
  }

  /**
   * A lease is void across our own stall: the core counts the lease in ticks, and the followers'
   * clocks ran on while ours did not tick. A stall the ticker has not noticed yet counts too: input
   * that waited out the stall may be handled before the overdue timer fires.
   */
  #leaseVoid(): boolean {
    const now = this.#clock.now();
    return (
      now - this.#lastStallAt <= this.#options.electionTimeoutMs || now - this.#lastTickAt >= stallTicks * this.#tickMs
    );
  }

  #onTimer(): void {
    const now = this.#clock.now();
    const due = Math.floor((now - this.#lastTickAt) / this.#tickMs);
    if (due <= 0) return;
    this.#lastTickAt += due * this.#tickMs;
    if (due < stallTicks) {
      this.#tick(due);
      return;
    }
    // Our own loop stalled (GC, a slow apply, a blocked disk call): let the network input that
    // waited meanwhile in first, so a live leader's heartbeats count before our missed ticks do.
    this.#lastStallAt = now;
    this.#clock.soon(() => this.#tick(due));
  }

  #tick(times: number): void {
    if (this.#stopping) return;
    for (let k = 0; k < times; k++) this.#raw.tick();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#loopScheduled || this.#failure !== undefined) return;
    if (!this.#raw.hasReady() && this.#snapshotEncoded === undefined) return;
    if (this.#loopRunning && this.#wakeLoop === undefined) return;
    this.#loopScheduled = true;
    // Not a microtask: input that arrives in this I/O phase joins the batch.
    this.#clock.soon(() => {
      this.#loopScheduled = false;
      // After stop() has waited for the loop, nothing may touch the closed log.
      if (this.#closed) return;
      if (this.#loopRunning) this.#wakeLoop?.();
      else this.#loopIdle = this.#runLoop().catch((error: unknown) => this.#bug(error));
    });
  }

  async #runLoop(): Promise<void> {
    if (this.#loopRunning) return;
    this.#loopRunning = true;
    try {
      while (this.#failure === undefined && !this.#closed) {
        if (this.#inFlight.length < this.#readiesInFlightMax && this.#raw.hasReady()) {
          this.#startReady(this.#raw.ready());
        } else if (this.#inFlight.length > 0) {
          // Heartbeats and their answers must not wait for the disk (a slow fsync would cost the leader its followers).
          const early = this.#raw.takeMessages();
          if (early.length > 0) this.#send(early);
          await this.#nextCompletionOrInput();
        } else if (this.#snapshotEncoded !== undefined) {
          this.#maybeSnapshot();
        } else {
          break;
        }
      }
      // A failure or close leaves the Readies in flight to finish (or fail) on their own.
      await Promise.all(this.#inFlight);
    } finally {
      this.#loopRunning = false;
    }
    this.#schedule();
  }

  /** Waits until the oldest Ready in flight is handled, or new input could start another one. */
  async #nextCompletionOrInput(): Promise<void> {
    const oldest = this.#inFlight[0]!;
    await new Promise<void>((resolve) => {
      this.#wakeLoop = resolve;
      void oldest.then(resolve, resolve);
    });
    this.#wakeLoop = undefined;
  }

  /** Does the first half of a Ready at once and queues the rest behind the Readies before it. */
  #startReady(ready: Ready): void {
    this.#noteRole(ready.softState.role, ready.softState.term);
    this.#noteLeader(ready.softState.leader);
    // The core put these configurations in force when it handed them out; the names and addresses
    // follow at once, so no one sees a member without its name in between.
    const snapshotState = ready.snapshot === undefined ? undefined : this.#adoptBook(ready.snapshot.data);
    for (const entry of ready.committedEntries) if (entry.kind === "config") this.#applyConfig(entry);
    this.#options.observer?.readyStarted?.(ready, this);
    this.#send(ready.messages);
    const started = this.#clock.now();
    // The WAL makes saves durable in the order they were made, and the previous Ready is handled first.
    const persisting = this.#storage.persist(ready);
    const previous = this.#inFlight.at(-1) ?? Promise.resolve();
    const done = previous.then(async () => {
      const persisted = await persisting;
      if (this.#failure !== undefined) return;
      if (!persisted.ok) {
        this.#fail(persisted.error);
        return;
      }
      this.#options.observer?.readyPersisted?.(ready);
      if (ready.mustSync && (ready.entries.length > 0 || ready.hardState !== undefined)) {
        this.#options.observer?.persisted?.((this.#clock.now() - started) / 1000, ready.entries.length);
      }
      await this.#finishReady(ready, snapshotState);
    });
    this.#inFlight.push(done);
    void done.then(
      () => this.#inFlight.shift(),
      (error: unknown) => this.#bug(error),
    );
  }

  /** Sends messages; one carrying our snapshot goes once its data is read back from disk. */
  #send(messages: readonly Message[]): void {
    if (!messages.some((m) => m.type === "installSnapshot" && m.snapshot.data === dataOnDisk)) {
      this.#transport?.send(messages);
      return;
    }
    const now: Message[] = [];
    for (const m of messages) {
      if (m.type !== "installSnapshot" || m.snapshot.data !== dataOnDisk) now.push(m);
      else this.#sendSnapshot(m).catch((error: unknown) => this.#bug(error));
    }
    this.#transport?.send(now);
  }

  async #sendSnapshot(m: Extract<Message, { type: "installSnapshot" }>): Promise<void> {
    const loaded = await this.#storage.loadSnapshotData(m.snapshot.meta);
    // A snapshot file not (yet or any more) there: the core sends again when the peer still needs one.
    if (!loaded.ok || this.#stopping) return;
    this.#transport?.send([{ ...m, snapshot: { meta: m.snapshot.meta, data: loaded.value } }]);
  }

  async #finishReady(ready: Ready, snapshotState: Uint8Array | undefined): Promise<void> {
    this.#send(ready.messagesAfterPersist);
    if (ready.snapshot !== undefined && snapshotState !== undefined) {
      const restoring = this.#clock.now();
      this.#stateMachine.restore(snapshotState);
      // A snapshot of our own still being encoded, or waiting to be stored, is older than this one.
      this.#snapshotting = undefined;
      this.#snapshotEncoded = undefined;
      const meta = ready.snapshot.meta;
      this.#options.observer?.snapshot?.({
        kind: "installed",
        index: meta.index,
        bytes: ready.snapshot.data.byteLength,
        seconds: (this.#clock.now() - restoring) / 1000,
      });
      this.#applied = ready.snapshot.meta.index;
      this.#lastSnapshotIndex = this.#applied;
      this.#pending.coveredBySnapshot(ready.snapshot.meta.index);
      // Whether the snapshot holds them is unknown.
      this.#forwarded.failAll({ type: "timeout" });
    }
    this.#apply(ready.committedEntries);
    for (const read of ready.readStates) {
      this.#reads.confirmed(read.context, read.index);
      this.#leaseReads.confirmed(read.context, read.index);
    }
    this.#appliedWaiters.appliedTo(this.#applied);
    this.#raw.advance(ready);
    this.#maybeSnapshot();
  }

  #apply(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const started = this.#clock.now();
    for (const entry of entries) {
      const proposal = entry.kind === "normal" && entry.data.byteLength > 0 ? unwrap(entry.data) : undefined;
      const result = proposal === undefined ? undefined : this.#stateMachine.apply(proposal.command, entry.index);
      const from = proposal?.from;
      if (from !== undefined && from.origin === this.id && from.epoch === this.#epoch)
        this.#forwarded.applied(from.seq, result);
      this.#applied = entry.index;
      this.#bytesSinceSnapshot += entry.data.byteLength;
      this.#pending.applied(entry.index, entry.term, result);
    }
    this.#options.observer?.applied?.((this.#clock.now() - started) / 1000, entries.length);
    this.#options.observer?.entriesApplied?.(entries);
  }

  #applyConfig(entry: Entry): void {
    const observer = this.#options.observer;
    if (observer?.configApplied !== undefined) {
      const conf = decodeConfEntry(entry.data);
      if (conf !== undefined) observer.configApplied(entry.index, conf);
    }
    for (const change of this.#book.applyEntryData(entry.data)) this.#options.onMembersChanged?.(change);
  }

  #maybeSnapshot(): void {
    const encoded = this.#snapshotEncoded;
    if (encoded !== undefined) {
      this.#snapshotEncoded = undefined;
      this.#storeSnapshot(encoded);
      return;
    }
    const due =
      this.#applied - this.#lastSnapshotIndex >= this.#options.snapshotEntries ||
      this.#bytesSinceSnapshot >= this.#options.snapshotBytes;
    if (!due || this.#applied === this.#lastSnapshotIndex || this.#snapshotting !== undefined) return;
    this.#bytesSinceSnapshot = 0;
    const index = logIndex(this.#applied);
    this.#lastSnapshotIndex = index;
    const beginSnapshot = this.#stateMachine.beginSnapshot?.bind(this.#stateMachine);
    if (beginSnapshot === undefined) {
      const started = this.#clock.now();
      this.#storeSnapshot({ index, data: encodeNodeSnapshot(this.#book, this.#stateMachine.snapshot()), started });
      return;
    }
    const started = this.#clock.now();
    // The book changes in place as config entries apply; the snapshot needs it as it is now.
    const header = nodeSnapshotHeader(this.#book);
    const progress = beginSnapshot(header.length);
    this.#snapshotting = progress;
    this.#encodeSnapshot(progress, { index, header, started });
  }

  /** Encodes one piece per turn of the event loop, then hands the snapshot to the Ready loop. */
  #encodeSnapshot(progress: SnapshotInProgress, at: { index: LogIndex; header: Uint8Array; started: number }): void {
    this.#clock.soon(() => {
      if (this.#snapshotting !== progress || this.#stopping) return;
      const data = progress.step(snapshotStepBytes);
      if (data === undefined) {
        this.#encodeSnapshot(progress, at);
        return;
      }
      this.#snapshotting = undefined;
      data.set(at.header);
      this.#snapshotEncoded = { index: at.index, data, started: at.started };
      this.#schedule();
    });
  }

  /**
   * Hands the snapshot to the core now and writes it in the background: the Ready loop must not
   * wait for a large file's fdatasync, or heartbeats would (see readiesInFlightMaxDefault). Until
   * the file is durable a follower that needs it is simply sent it later, and the WAL keeps the
   * entries it covers (node storage compacts only after the file is durable).
   */
  #storeSnapshot(parts: SnapshotParts): void {
    const { index, data, started } = parts;
    const compactIndex = logIndex(Math.max(0, index - this.#options.snapshotKeepEntries));
    const compactTerm = this.#raw.termAt(compactIndex);
    const kept = this.#raw.snapshotTaken({ index, data: dataOnDisk, keepEntries: this.#options.snapshotKeepEntries });
    if (kept === undefined) return;
    // Below the log's start the WAL was compacted already; only the snapshot file is new.
    const compact = compactTerm === undefined ? undefined : { index: compactIndex, term: compactTerm };
    const saving = this.#storage.saveSnapshot({ meta: kept.meta, data }, compact).then((saved) => {
      if (!saved.ok) {
        this.#fail(saved.error);
        return;
      }
      this.#options.observer?.snapshot?.({
        kind: "taken",
        index,
        bytes: data.byteLength,
        seconds: (this.#clock.now() - started) / 1000,
      });
      if (compact !== undefined && compact.index > 0) this.#options.observer?.compacted?.(compact.index);
    });
    this.#snapshotsSaving = this.#snapshotsSaving.then(() => saving);
  }

  /** Restores the address book and the state machine from a node snapshot (ours or the leader's). */
  #restore(bytes: Uint8Array): void {
    this.#stateMachine.restore(this.#adoptBook(bytes));
  }

  /** Takes the address book from a node snapshot; returns the state machine's part of it. */
  #adoptBook(bytes: Uint8Array): Uint8Array {
    const decoded = decodeNodeSnapshot(bytes);
    // Snapshot files are checksummed and peer frames validated: undecodable bytes here are a bug.
    assert(decoded !== undefined, "a snapshot without a readable address book");
    this.#book = decoded.book;
    for (const [id, address] of decoded.book.entries()) this.#options.onMembersChanged?.({ added: [id, address] });
    return decoded.data;
  }

  #noteRole(role: Role, t: number): void {
    if (role === this.#role && t === this.#term) return;
    this.#role = role;
    this.#term = t;
    this.#options.observer?.roleChanged?.(role, t);
  }

  #noteLeader(leader: NodeId): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    if (leader !== NO_NODE) this.#options.observer?.leaderChanged?.(leader);
  }

  /**
   * An error escaped the Ready loop: a bug. The node stops taking input, and the error goes to
   * `onBug`, or is thrown on so that the process dies of it.
   */
  #bug(error: unknown): void {
    if (this.#stopping && this.#closed) return;
    this.#stopping = true;
    this.#closed = true;
    this.#tickTimer?.cancel();
    const onBug = this.#options.onBug;
    if (onBug === undefined) throw error;
    onBug(error);
  }

  /** A disk that fails a write leaves the log in an unknown state: stop serving, say why. */
  #fail(error: StorageError): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    this.#pending.failAll({ type: "storage", error });
    this.#forwarded.failAll({ type: "storage", error });
    this.#reads.failAll(new NodeRequestError({ type: "storage", error }));
    this.#leaseReads.failAll(new NodeRequestError({ type: "storage", error }));
    this.#appliedWaiters.failAll({ type: "storage", error });
    this.#options.observer?.fatal?.(error);
  }
}
