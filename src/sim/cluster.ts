import { RawNode, type Message, type NodeId, type Ready, type RaftOptions, type Role, type Term } from "../raft/index.js";
import { AssertionError } from "../util/assert.js";
import { nodeId, term } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { SafetyChecker } from "./checkers.js";
import { EventQueue } from "./event_queue.js";
import { MemoryStorage } from "./memory_storage.js";
import { SimNetwork, type NetworkFaults } from "./network.js";
import { describeMessage, type Tracer } from "./trace.js";

/** One simulated machine: a durable store that survives crashes and a RawNode that does not. */
interface SimNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  raw: RawNode | undefined;
  /** Bumped by every crash, so disk completions and ticks of an earlier life are ignored. */
  life: number;
  persisting: boolean;
  appliedIndex: number;
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

export interface ClusterOptions {
  readonly seed: number;
  readonly nodeCount: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly diskLatencyMinMs: number;
  readonly diskLatencyMaxMs: number;
  readonly network: NetworkFaults;
  readonly tracer?: Tracer | undefined;
  /** Extra core options (pre-vote, check-quorum, batching limits) for every node. */
  readonly raft?: Partial<Omit<RaftOptions, "id" | "voters" | "random">>;
}

/** Observes every entry a node applies (the client workload watches for its proposals). */
export type ApplyListener = (node: NodeId, index: number, data: Uint8Array) => void;

/**
 * A cluster of RawNodes on a virtual clock, a seeded network and simulated disks. Everything that
 * happens is an event in one queue, so a seed replays a run exactly; the safety checker sees
 * every role change, append, vote, commit and apply as it happens.
 */
export class SimCluster {
  readonly options: ClusterOptions;
  readonly checker = new SafetyChecker();
  readonly network: SimNetwork;
  readonly ids: readonly NodeId[];
  readonly prng: Prng;
  now = 0;
  steps = 0;
  messagesDelivered = 0;
  readonly #nodes = new Map<NodeId, SimNode>();
  readonly #queue = new EventQueue<SimEvent>();
  readonly #applyListeners: ApplyListener[] = [];

  constructor(options: ClusterOptions) {
    this.options = options;
    this.prng = new Prng(options.seed);
    this.network = new SimNetwork(this.prng.fork(), options.network);
    this.ids = Array.from({ length: options.nodeCount }, (_, k) => nodeId(k + 1));
    for (const id of this.ids) {
      const node: SimNode = { id, storage: new MemoryStorage(), raw: undefined, life: 0, persisting: false, appliedIndex: 0, prng: this.prng.fork(), role: undefined, term: term(0) };
      this.#nodes.set(id, node);
      this.#start(node);
    }
  }

  onApply(listener: ApplyListener): void {
    this.#applyListeners.push(listener);
  }

  node(id: NodeId): RawNode | undefined {
    return this.#nodes.get(id)?.raw;
  }

  liveIds(): NodeId[] {
    return this.ids.filter((id) => this.#nodes.get(id)!.raw !== undefined);
  }

  appliedIndex(id: NodeId): number {
    return this.#nodes.get(id)!.appliedIndex;
  }

  /** Runs a function at a virtual time (fault schedules and client requests use this). */
  at(time: number, run: () => void): void {
    this.#queue.push(time, { type: "call", run });
  }

  /** Processes events until `until` (virtual ms) or until a violation is found. */
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

  crash(id: NodeId): void {
    const node = this.#nodes.get(id)!;
    if (node.raw === undefined) return;
    node.raw = undefined;
    node.life++;
    node.persisting = false;
    this.options.tracer?.(this.now, id, "crash (unsynced writes lost)");
  }

  restart(id: NodeId): void {
    const node = this.#nodes.get(id)!;
    if (node.raw !== undefined) return;
    this.#start(node);
    this.options.tracer?.(this.now, id, `restart from term ${node.storage.hardState().term}, ${node.storage.lastIndex()} entries`);
  }

  #start(node: SimNode): void {
    const o = this.options;
    node.raw = new RawNode(
      {
        ...o.raft,
        id: node.id,
        voters: this.ids,
        random: node.prng,
        electionTicks: o.electionTicks,
        heartbeatTicks: o.heartbeatTicks,
        checkInvariants: true,
      },
      node.storage.durableState(),
    );
    node.appliedIndex = 0;
    this.checker.observeStateMachineReset(node.id);
    const status = node.raw.status();
    this.checker.observeCommit(node.id, status.commitIndex, 0, true);
    // Nodes tick out of phase, as real machines do.
    this.#queue.push(this.now + node.prng.int(1, o.tickMs + 1), { type: "tick", node: node.id, life: node.life });
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
        this.#completeReady(node, event.ready);
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
    if (node.persisting || !raw.hasReady()) return;
    const ready = raw.ready();
    this.checker.observeAppend(node.id, ready.entries, raw);
    for (const m of ready.messages) this.#send(m);
    node.persisting = true;
    const latency = node.prng.int(this.options.diskLatencyMinMs, this.options.diskLatencyMaxMs + 1);
    this.#queue.push(this.now + latency, { type: "persisted", node: node.id, life: node.life, ready });
  }

  #completeReady(node: SimNode, ready: Ready): void {
    const raw = node.raw!;
    node.storage.save(ready.hardState, ready.entries);
    if (ready.hardState !== undefined) this.checker.observeDurableCommit(node.id, ready.hardState.commit);
    for (const m of ready.messagesAfterPersist) {
      if (m.type === "voteResponse" && m.granted && !m.preVote) this.checker.observeVote(node.id, m.term, m.to);
      this.#send(m);
    }
    for (const entry of ready.committedEntries) {
      this.checker.observeApply(node.id, entry);
      node.appliedIndex = entry.index;
      for (const listener of this.#applyListeners) listener(node.id, entry.index, entry.data);
    }
    raw.advance(ready);
    node.persisting = false;
    this.#afterInput(node);
  }

  #send(m: Message): void {
    for (const delay of this.network.schedule(m)) {
      this.#queue.push(this.now + delay, { type: "deliver", message: m });
    }
  }
}
