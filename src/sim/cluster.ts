import { RawNode, type Message, type NodeId, type Ready, type RaftOptions, type Role, type Term } from "../raft/index.js";
import type { StateMachine } from "../node/state_machine.js";
import { AssertionError } from "../util/assert.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { SafetyChecker } from "./checkers.js";
import { EventQueue } from "./event_queue.js";
import { IdAllocator } from "./id_allocator.js";
import { MemoryStorage } from "./memory_storage.js";
import { SimNetwork, type NetworkFaults } from "./network.js";
import { describeMessage, type Tracer } from "./trace.js";

/** One simulated machine: a durable store that survives crashes; a RawNode and state machine that do not. */
interface SimNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  raw: RawNode | undefined;
  stateMachine: StateMachine;
  /** Bumped by every crash, so disk completions and ticks of an earlier life are ignored. */
  life: number;
  /** The Readies being written to disk, oldest first, each marked once its write is done; lost, or torn, by a crash. */
  persisting: { readonly ready: Ready; done: boolean }[];
  appliedIndex: number;
  lastSnapshotIndex: number;
  readonly prng: Prng;
  /** Last role and term seen, to trace changes. */
  role: Role | undefined;
  term: Term;
}

type SimEvent =
  | { readonly type: "tick"; readonly node: NodeId; readonly life: number }
  | { readonly type: "deliver"; readonly message: Message }
  | { readonly type: "persisted"; readonly node: NodeId; readonly life: number; readonly ready: Ready }
  | { readonly type: "call"; readonly run: () => void };

export interface DiskFaults {
  /** Probability that a crash during a write keeps only a prefix of it (a torn tail). */
  readonly tornWriteRate: number;
  /** Probability that a crash also flips a bit in an old record: the node then refuses to start. */
  readonly corruptionRate: number;
}

export interface ClusterOptions {
  readonly seed: number;
  readonly nodeCount: number;
  /** Machines beyond the initial members, started empty, that membership changes may add. */
  readonly spareNodes?: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly diskLatencyMinMs: number;
  readonly diskLatencyMaxMs: number;
  /** Readies a node may be writing at once (the node driver's pipelining). Default 1. */
  readonly readiesInFlightMax?: number;
  readonly diskFaults?: DiskFaults;
  readonly network: NetworkFaults;
  /** Take a snapshot every this many applied entries (0: never). */
  readonly snapshotEntries?: number;
  /** Entries kept in the log below a snapshot, for followers slightly behind. */
  readonly snapshotKeepEntries?: number;
  /** The replicated state machine; each node gets a fresh one at every start. Default: IdAllocator. */
  readonly createStateMachine?: () => StateMachine;
  readonly tracer?: Tracer | undefined;
  /** Extra core options (pre-vote, check-quorum, batching limits) for every node. */
  readonly raft?: Partial<Omit<RaftOptions, "id" | "voters" | "random">>;
}

/** Observes every ReadState a node's Ready hands out. */
export type ReadListener = (node: NodeId, index: number, context: Uint8Array) => void;

/** Observes every command a node applies, with the state machine's result. */
export type ApplyListener = (node: NodeId, index: number, data: Uint8Array, result: unknown) => void;

/**
 * A cluster of RawNodes on a virtual clock, a seeded network and simulated disks. Everything that
 * happens is an event in one queue, so a seed replays a run exactly; the safety checker sees
 * every role change, append, vote, commit, apply and snapshot as it happens.
 */
export class SimCluster {
  readonly options: ClusterOptions;
  readonly checker = new SafetyChecker();
  readonly network: SimNetwork;
  /** Every machine: the initial members first, then the spares. */
  readonly ids: readonly NodeId[];
  readonly initialIds: readonly NodeId[];
  readonly prng: Prng;
  now = 0;
  steps = 0;
  messagesDelivered = 0;
  snapshotsInstalled = 0;
  readonly #nodes = new Map<NodeId, SimNode>();
  readonly #queue = new EventQueue<SimEvent>();
  readonly #applyListeners: ApplyListener[] = [];
  readonly #readListeners: ReadListener[] = [];
  readonly #createStateMachine: () => StateMachine;
  /** Set by the fault schedule: crash the next leader whose commit index advances, right after its Ready's messages left. */
  crashOnLeaderCommit = false;
  readonly #lastCommit = new Map<NodeId, number>();

  constructor(options: ClusterOptions) {
    this.options = options;
    this.prng = new Prng(options.seed);
    this.network = new SimNetwork(this.prng.fork(), options.network);
    this.ids = Array.from({ length: options.nodeCount + (options.spareNodes ?? 0) }, (_, k) => nodeId(k + 1));
    this.initialIds = this.ids.slice(0, options.nodeCount);
    this.#createStateMachine = options.createStateMachine ?? (() => new IdAllocator());
    for (const id of this.ids) {
      const node: SimNode = {
        id,
        storage: new MemoryStorage(),
        raw: undefined,
        stateMachine: this.#createStateMachine(),
        life: 0,
        persisting: [],
        appliedIndex: 0,
        lastSnapshotIndex: 0,
        prng: this.prng.fork(),
        role: undefined,
        term: term(0),
      };
      this.#nodes.set(id, node);
      this.#start(node);
    }
  }

  onApply(listener: ApplyListener): void {
    this.#applyListeners.push(listener);
  }

  onReadState(listener: ReadListener): void {
    this.#readListeners.push(listener);
  }

  /** The highest index any live node knows to be committed. */
  committedIndex(): number {
    let max = 0;
    for (const id of this.liveIds()) max = Math.max(max, this.#nodes.get(id)!.raw!.status().commitIndex);
    return max;
  }

  node(id: NodeId): RawNode | undefined {
    return this.#nodes.get(id)?.raw;
  }

  liveIds(): NodeId[] {
    return this.ids.filter((id) => this.#nodes.get(id)!.raw !== undefined);
  }

  /** Nodes whose disk is intact, so they can run again (a corrupt one stays down for good). */
  usableIds(): NodeId[] {
    return this.ids.filter((id) => !this.#nodes.get(id)!.storage.corrupt);
  }

  appliedIndex(id: NodeId): number {
    return this.#nodes.get(id)!.appliedIndex;
  }

  /** Runs a function at a virtual time (fault schedules and client requests use this). */
  at(time: number, run: () => void): void {
    this.#queue.push(time, { type: "call", run });
  }

  /** Processes events until `until` (virtual ms), a violation, or `stop()` turning true. */
  runUntil(until: number, stop?: () => boolean): void {
    while (this.checker.violations.length === 0) {
      const next = this.#queue.peekTime();
      if (next === undefined || next > until) break;
      const { at, item } = this.#queue.pop()!;
      this.now = at;
      this.steps++;
      try {
        this.#handle(item);
      } catch (error) {
        if (!(error instanceof AssertionError)) throw error;
        this.checker.failAssertion(`${error.message} at t=${this.now}`);
      }
      if (stop?.()) return;
    }
    if (this.checker.violations.length === 0) this.now = Math.max(this.now, until);
  }

  /**
   * Stops a node. Whatever it had not made durable is lost; a write in progress may be torn
   * (a prefix of its entries kept, the hard state written after them lost), and the disk may be
   * corrupted, as the cluster's disk faults say.
   */
  crash(id: NodeId): void {
    const node = this.#nodes.get(id)!;
    if (node.raw === undefined) return;
    const faults = this.options.diskFaults;
    node.storage.dropDeferred();
    const torn = node.persisting[0]?.ready;
    if (torn !== undefined && torn.snapshot === undefined && faults !== undefined && node.prng.chance(faults.tornWriteRate)) {
      const kept = node.prng.int(0, torn.entries.length + 1);
      node.storage.save(undefined, torn.entries.slice(0, kept));
      this.options.tracer?.(this.now, id, `torn write: kept ${kept} of ${torn.entries.length} entries`);
    }
    if (faults !== undefined && this.#mayLoseDisk() && node.prng.chance(faults.corruptionRate)) {
      node.storage.corrupt = true;
      this.options.tracer?.(this.now, id, "bit flipped in an old log record");
    }
    node.raw = undefined;
    node.life++;
    node.persisting = [];
    this.options.tracer?.(this.now, id, "crash (unsynced writes lost)");
  }

  /** Losing a disk for good is survivable only while a majority keeps theirs. */
  #mayLoseDisk(): boolean {
    const lost = this.initialIds.length - this.usableIds().filter((id) => this.initialIds.includes(id)).length;
    return lost + 1 <= (this.initialIds.length - 1) / 2;
  }

  restart(id: NodeId): void {
    const node = this.#nodes.get(id)!;
    if (node.raw !== undefined) return;
    if (node.storage.corrupt) {
      // The real WAL refuses to start on a checksum failure before its tail; so does this node.
      this.options.tracer?.(this.now, id, "refuses to start: corrupt log record");
      return;
    }
    this.#start(node);
    this.options.tracer?.(this.now, id, `restart from term ${node.storage.hardState().term}, last index ${node.storage.lastIndex()}`);
  }

  #start(node: SimNode): void {
    const o = this.options;
    const durable = node.storage.durableState();
    node.raw = new RawNode(
      { ...o.raft, id: node.id, voters: this.initialIds.includes(node.id) ? this.initialIds : [], random: node.prng, electionTicks: o.electionTicks, heartbeatTicks: o.heartbeatTicks, checkInvariants: true },
      durable,
    );
    node.stateMachine = this.#createStateMachine();
    node.appliedIndex = 0;
    if (durable.snapshot !== undefined) this.#restore(node, durable.snapshot.meta.index, durable.snapshot.data);
    node.lastSnapshotIndex = node.appliedIndex;
    this.checker.observeStateMachineReset(node.id, node.appliedIndex);
    this.checker.observeCommit(node.id, node.raw.status().commitIndex, node.appliedIndex, true);
    // Nodes tick out of phase, as real machines do.
    this.#queue.push(this.now + node.prng.int(1, o.tickMs + 1), { type: "tick", node: node.id, life: node.life });
  }

  #restore(node: SimNode, index: number, data: Uint8Array): void {
    node.stateMachine.restore(data);
    node.appliedIndex = index;
    this.checker.observeStateMachineReset(node.id, index);
    this.checker.observeSnapshot(node.id, index, node.stateMachine.snapshot());
  }

  #handle(event: SimEvent): void {
    switch (event.type) {
      case "tick": {
        const node = this.#nodes.get(event.node)!;
        if (node.life !== event.life || node.raw === undefined) return;
        node.raw.tick();
        this.#queue.push(this.now + this.options.tickMs, event);
        this.#afterInput(node);
        return;
      }
      case "deliver": {
        const node = this.#nodes.get(event.message.to)!;
        if (node.raw === undefined) return;
        this.messagesDelivered++;
        this.options.tracer?.(this.now, node.id, `recv ${describeMessage(event.message)}`);
        node.raw.step(event.message);
        this.#afterInput(node);
        return;
      }
      case "persisted": {
        const node = this.#nodes.get(event.node)!;
        if (node.life !== event.life || node.raw === undefined) return;
        this.#persisted(node, event.ready);
        return;
      }
      case "call":
        event.run();
        for (const id of this.liveIds()) this.#afterInput(this.#nodes.get(id)!);
        return;
    }
  }

  #afterInput(node: SimNode): void {
    const raw = node.raw;
    if (raw === undefined) return;
    const status = raw.status();
    this.checker.observeCommit(node.id, status.commitIndex, node.appliedIndex, false);
    this.checker.observeRole(node.id, status.role, status.term, raw);
    if (status.role !== node.role || status.term !== node.term) {
      node.role = status.role;
      node.term = status.term;
      this.options.tracer?.(this.now, node.id, `${status.role} in term ${status.term}`);
    }
    // As the node driver does: up to readiesInFlightMax writes at once, completed in order.
    const inFlight = node.persisting;
    if (inFlight.length >= (this.options.readiesInFlightMax ?? 1)) {
      // Heartbeats and their answers do not wait for the disk.
      for (const m of raw.takeMessages()) this.#send(m);
      return;
    }
    if (!raw.hasReady()) return;
    const ready = raw.ready();
    this.checker.observeAppend(node.id, ready.entries, raw);
    for (const m of ready.messages) this.#send(m);
    inFlight.push({ ready, done: false });
    // A Ready that needs no sync costs the driver no write.
    const latency = ready.mustSync ? node.prng.int(this.options.diskLatencyMinMs, this.options.diskLatencyMaxMs + 1) : 0;
    this.#queue.push(this.now + latency, { type: "persisted", node: node.id, life: node.life, ready });
    const advanced = ready.hardState !== undefined && ready.hardState.commit > (this.#lastCommit.get(node.id) ?? 0);
    if (ready.hardState !== undefined) this.#lastCommit.set(node.id, ready.hardState.commit);
    if (advanced && this.crashOnLeaderCommit && ready.softState.role === "leader") {
      this.crashOnLeaderCommit = false;
      this.options.tracer?.(this.now, node.id, `crash right after the commit index advanced to ${ready.hardState!.commit}`);
      this.crash(node.id);
    }
  }

  /** Marks a write done; handles the finished Readies at the head, in the order they were made. */
  #persisted(node: SimNode, ready: Ready): void {
    const inFlight = node.persisting;
    const write = inFlight.find((p) => p.ready === ready);
    if (write === undefined) return;
    write.done = true;
    const life = node.life;
    while (inFlight[0]?.done === true && node.life === life) this.#completeReady(node, inFlight.shift()!.ready);
    this.#afterInput(node);
  }

  #completeReady(node: SimNode, ready: Ready): void {
    const raw = node.raw!;
    if (ready.mustSync) {
      node.storage.save(ready.hardState, ready.entries, ready.snapshot);
      this.checker.observeDurableCommit(node.id, node.storage.hardState().commit);
    } else {
      node.storage.defer(ready.hardState);
    }
    if (ready.snapshot !== undefined) {
      this.snapshotsInstalled++;
      this.options.tracer?.(this.now, node.id, `installed snapshot at ${ready.snapshot.meta.index}`);
      this.#restore(node, ready.snapshot.meta.index, ready.snapshot.data);
      node.lastSnapshotIndex = node.appliedIndex;
    }
    for (const m of ready.messagesAfterPersist) {
      if (m.type === "voteResponse" && m.granted && !m.preVote) this.checker.observeVote(node.id, m.term, m.to);
      this.#send(m);
    }
    for (const entry of ready.committedEntries) {
      this.checker.observeApply(node.id, entry);
      node.appliedIndex = entry.index;
      if (entry.kind !== "normal" || entry.data.byteLength === 0) continue;
      const result = node.stateMachine.apply(entry.data, entry.index);
      for (const listener of this.#applyListeners) listener(node.id, entry.index, entry.data, result);
    }
    for (const read of ready.readStates) {
      for (const listener of this.#readListeners) listener(node.id, read.index, read.context);
    }
    this.#maybeSnapshot(node, raw);
    raw.advance(ready);
  }

  #maybeSnapshot(node: SimNode, raw: RawNode): void {
    const every = this.options.snapshotEntries ?? 0;
    if (every === 0 || node.appliedIndex - node.lastSnapshotIndex < every) return;
    const index = logIndex(node.appliedIndex);
    const data = node.stateMachine.snapshot();
    const keepEntries = this.options.snapshotKeepEntries ?? 0;
    const snapshot = raw.snapshotTaken({ index, data, keepEntries });
    if (snapshot === undefined) return;
    node.storage.saveSnapshot(snapshot, logIndex(Math.max(0, index - keepEntries)));
    node.lastSnapshotIndex = index;
    this.checker.observeSnapshot(node.id, index, data);
  }

  #send(m: Message): void {
    for (const delay of this.network.schedule(m)) {
      this.#queue.push(this.now + delay, { type: "deliver", message: m });
    }
  }
}
