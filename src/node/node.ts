import {
  decodeConfEntry,
  RawNode,
  type ConfChange,
  type Config,
  type Entry,
  type Message,
  type NodeId,
  type Ready,
  type Role,
  type Term,
} from "../raft/index.js";
import type { Clock } from "./clock.js";
import type { PeerTransport } from "./peer_transport.js";
import { assert } from "../util/assert.js";
import type { StorageError } from "../storage/index.js";
import { logIndex, NO_NODE } from "../util/ids.js";
import { ConfChangeRefused, NodeRequestError, type NodeError } from "./errors.js";
import type { NodeStorage } from "./node_storage.js";
import type { LogView, NodeStatus, RaftNodeOptions, ReadConsistency } from "./node_options.js";
import { AppliedWaiters, ForwardedProposals, PendingProposals } from "./pending.js";
import { unwrap, wrapForwarded, wrapLocal } from "./proposal_envelope.js";
import { ReadRounds } from "./read_rounds.js";
import { ReadyPipeline } from "./ready_pipeline.js";
import { SnapshotPolicy, snapshotBytesInCore } from "./snapshot_policy.js";
import type { StateMachine } from "./state_machine.js";
import { decodeNodeSnapshot, type AddressBook } from "./members.js";
import { Ticker } from "./ticker.js";

export type { NodeObserver, RaftTuning, ReadConsistency } from "./node_options.js";
export { ConfChangeRefused } from "./errors.js";

/** Heartbeats are split into this many ticks, so election timeouts are drawn at a fine grain. */
const ticksPerHeartbeat = 5;

/**
 * Readies whose persist may run at once. A second one is written while the first one's fdatasync
 * runs and synced right after it (the WAL's group commit), so the disk never waits for the CPU work
 * between batches (applying, answering clients): what the Raft thesis §10.2.1 describes for the
 * leader, applied to every member. Completions are handled strictly in order.
 */
const readiesInFlightMaxDefault = 2;

/**
 * The driver around the pure core: the only place where disk, network, timers and the state
 * machine meet. It runs the Ready loop of docs/architecture.md: persist (one fdatasync per batch), send, apply,
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
  readonly #pipeline: ReadyPipeline;
  readonly #ticker: Ticker;
  readonly #snapshots: SnapshotPolicy;
  #applied: number;
  #stopping = false;
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
        : { ...durable, snapshot: { meta: durable.snapshot.meta, data: snapshotBytesInCore } },
    );
    this.#book = options.addressBook;
    const snapshot = options.durable.snapshot;
    if (snapshot !== undefined) this.#restore(snapshot.data);
    this.#applied = snapshot?.meta.index ?? 0;
    this.#pipeline = new ReadyPipeline({
      soon: (fn) => options.clock.soon(fn),
      depth: options.readiesInFlightMax ?? readiesInFlightMaxDefault,
      failed: () => this.#failure !== undefined,
      hasReady: () => this.#raw.hasReady(),
      startReady: (previous) => this.#startReady(this.#raw.ready(), previous),
      sendEarly: () => this.#send(this.#raw.takeMessages()),
      hasSideWork: () => this.#snapshots.hasEncoded(),
      sideWork: () => this.#snapshots.step(this.#applied),
      onBug: (error) => this.#bug(error),
    });
    this.#snapshots = new SnapshotPolicy(
      {
        raw: this.#raw,
        storage: options.storage,
        stateMachine: options.stateMachine,
        clock: options.clock,
        observer: options.observer,
        snapshotEntries: options.snapshotEntries,
        snapshotBytes: options.snapshotBytes,
        snapshotKeepEntries: options.snapshotKeepEntries,
        book: () => this.#book,
        wake: () => this.#schedule(),
        stopping: () => this.#stopping,
        fail: (error) => this.#fail(error),
      },
      this.#applied,
    );
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
    this.#ticker.start();
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

  status(): NodeStatus {
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
  logView(): LogView {
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
    this.#ticker.stop();
    await this.#pipeline.close();
    this.#pending.failAll({ type: "timeout" });
    this.#forwarded.failAll({ type: "timeout" });
    this.#reads.failAll(new NodeRequestError({ type: "stopped" }));
    this.#leaseReads.failAll(new NodeRequestError({ type: "stopped" }));
    this.#appliedWaiters.failAll({ type: "stopped" });
    await this.#transport?.close();
    await this.#snapshots.saved();
    await this.#storage.close();
  }

  #refusal(): NodeError | undefined {
    if (this.#failure !== undefined) return { type: "storage", error: this.#failure };
    if (this.#stopping) return { type: "stopped" };
    return undefined;
  }

  #startReadIndex(context: Uint8Array, wanted: "safe" | "lease"): boolean {
    const mode = wanted === "lease" && this.#ticker.leaseVoid() ? "safe" : wanted;
    const ok = this.#raw.readIndex(context, mode).ok;
    if (ok) this.#options.observer?.readIndexRound?.(mode);
    if (ok) this.#schedule();
    return ok;
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
  #startReady(ready: Ready, previous: Promise<void>): Promise<void> {
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
    return previous.then(async () => {
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
      this.#finishReady(ready, snapshotState);
    });
  }

  /** Sends messages; one carrying a snapshot goes once its data is read back from disk (snapshotBytesInCore). */
  #send(messages: readonly Message[]): void {
    if (!messages.some((m) => m.type === "installSnapshot")) {
      this.#transport?.send(messages);
      return;
    }
    const now: Message[] = [];
    for (const m of messages) {
      if (m.type !== "installSnapshot") now.push(m);
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

  #finishReady(ready: Ready, snapshotState: Uint8Array | undefined): void {
    this.#send(ready.messagesAfterPersist);
    if (ready.snapshot !== undefined && snapshotState !== undefined) {
      const restoring = this.#clock.now();
      this.#stateMachine.restore(snapshotState);
      this.#snapshots.installed(ready.snapshot.meta.index);
      const meta = ready.snapshot.meta;
      this.#options.observer?.snapshot?.({
        kind: "installed",
        index: meta.index,
        bytes: ready.snapshot.data.byteLength,
        seconds: (this.#clock.now() - restoring) / 1000,
      });
      this.#applied = ready.snapshot.meta.index;
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
    this.#snapshots.step(this.#applied);
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
      this.#snapshots.applied(entry.data.byteLength);
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
    if (this.#stopping && this.#pipeline.halted) return;
    this.#stopping = true;
    this.#pipeline.halt();
    this.#ticker.stop();
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
