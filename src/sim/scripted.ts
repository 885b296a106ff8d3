import {
  RawNode,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type RaftOptions,
  type Ready,
  type ReadState,
  type Snapshot,
} from "../raft/index.js";
import { logIndex, NO_NODE, nodeId, term, type Term } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { MemoryStorage } from "./memory_storage.js";

export interface ScriptedOptions {
  /** Number of nodes, with ids 1..n, all bootstrapped as voters. */
  readonly nodes: number;
  /**
   * Extra nodes, with ids n+1..n+joiners, started with no configuration (voters: []): they take part
   * only once a membership change adds them, and learn the configuration from the leader.
   */
  readonly joiners?: number;
  readonly seed?: number;
  /** Core options for every node (electionTicks, preVote, checkQuorum, ...). */
  readonly raft?: Partial<Omit<RaftOptions, "id" | "voters" | "random">>;
  /** Durable state to start a node from, e.g. the divergent logs of the paper's Figure 7. */
  readonly initial?: Readonly<
    Record<number, { readonly terms: readonly number[]; readonly hardState?: Partial<HardState> }>
  >;
}

/**
 * A cluster driven step by step with no clock: a test says which node ticks, campaigns or
 * proposes and when messages are delivered (etcd's `network` test harness). Every Ready is
 * persisted at once, unless the node's disk is held (`hold`); `deliver()` moves messages until the
 * cluster is quiet. Links can be cut.
 *
 * It drives RawNode itself, not the node's Ready loop: single-stepping the core message by message
 * is the point of these tests. The simulator's sweep runs the real node.
 */
export class ScriptedCluster {
  /** Every node: the initial voters first, then the joiners. */
  readonly ids: readonly NodeId[];
  /** The nodes bootstrapped as voters (ids 1..nodes). */
  readonly initialIds: readonly NodeId[];
  readonly #options: ScriptedOptions;
  readonly #storage = new Map<NodeId, MemoryStorage>();
  readonly #nodes = new Map<NodeId, RawNode | undefined>();
  readonly #applied = new Map<NodeId, Entry[]>();
  readonly #readStates = new Map<NodeId, ReadState[]>();
  readonly #prng: Prng;
  readonly #cut = new Set<string>();
  /** Nodes whose disk is held: their Readies wait, unpersisted, for `release` (or are lost by `crash`). */
  readonly #held = new Map<NodeId, Ready[]>();
  /** Messages sent and not yet delivered, in send order. */
  inFlight: Message[] = [];
  /** Every message delivered so far, for tests that count round trips. */
  readonly delivered: Message[] = [];
  /** When set, a message it returns true for is dropped instead of delivered. */
  dropIf: ((m: Message) => boolean) | undefined;
  /** When set, called after every message delivered and every tick, for checks at each step. */
  afterStep: ((m: Message | undefined) => void) | undefined;

  constructor(options: ScriptedOptions) {
    this.#options = options;
    this.#prng = new Prng(options.seed ?? 1);
    this.ids = Array.from({ length: options.nodes + (options.joiners ?? 0) }, (_, k) => nodeId(k + 1));
    this.initialIds = this.ids.slice(0, options.nodes);
    for (const id of this.ids) {
      const storage = new MemoryStorage();
      const initial = options.initial?.[id];
      if (initial !== undefined) {
        const entries = initial.terms.map((t, k) => ({
          index: logIndex(k + 1),
          term: term(t),
          kind: "normal" as const,
          data: new Uint8Array([t, k]),
        }));
        const lastTerm = initial.terms.at(-1) ?? 0;
        storage.save({ term: term(lastTerm), vote: NO_NODE, commit: logIndex(0), ...initial.hardState }, entries);
      }
      this.#storage.set(id, storage);
      this.#start(id);
    }
  }

  #start(id: NodeId): void {
    const raw = new RawNode(
      {
        electionTicks: 10,
        heartbeatTicks: 1,
        ...this.#options.raft,
        id,
        voters: this.initialIds.includes(id) ? this.initialIds : [],
        random: this.#prng.fork(),
        checkInvariants: true,
      },
      this.#storage.get(id)!.durableState(),
    );
    this.#nodes.set(id, raw);
    this.#applied.set(id, []);
    this.#readStates.set(id, []);
  }

  node(id: number): RawNode {
    const raw = this.#nodes.get(nodeId(id));
    if (raw === undefined) throw new Error(`node ${id} is down`);
    return raw;
  }

  isUp(id: number): boolean {
    return this.#nodes.get(nodeId(id)) !== undefined;
  }

  /** The node's durable hard state (what survives a crash). */
  hardState(id: number): HardState {
    return this.#storage.get(nodeId(id))!.hardState();
  }

  /** Terms of the node's in-memory log, index 1 first. */
  logTerms(id: number): Term[] {
    const raw = this.node(id);
    const terms: Term[] = [];
    for (let i = 1; i <= raw.status().lastIndex; i++) terms.push(raw.termAt(logIndex(i))!);
    return terms;
  }

  applied(id: number): readonly Entry[] {
    return this.#applied.get(nodeId(id))!;
  }

  /** ReadStates the node's Readies handed out (since its last start), in order. */
  readStates(id: number): readonly ReadState[] {
    return this.#readStates.get(nodeId(id))!;
  }

  tick(id: number, times = 1): void {
    for (let k = 0; k < times; k++) {
      this.node(id).tick();
      this.afterStep?.(undefined);
      this.#collect();
    }
  }

  /** Ticks every live node `times` times, delivering messages after each round. */
  tickAll(times = 1): void {
    for (let k = 0; k < times; k++) {
      for (const id of this.ids) {
        if (!this.isUp(id)) continue;
        this.node(id).tick();
        this.afterStep?.(undefined);
      }
      this.deliver();
    }
  }

  campaign(id: number): void {
    this.node(id).campaign();
    this.deliver();
  }

  propose(id: number, data: Uint8Array): ReturnType<RawNode["propose"]> {
    const result = this.node(id).propose(data);
    this.deliver();
    return result;
  }

  crash(id: number): void {
    this.#nodes.set(nodeId(id), undefined);
    this.#storage.get(nodeId(id))!.dropDeferred();
    this.#held.delete(nodeId(id));
  }

  /**
   * Holds the node's disk: its Readies are not persisted until `release`, while what may leave
   * before a persist (Ready.messages) still goes. A crash meanwhile loses them.
   */
  hold(id: number): void {
    if (!this.#held.has(nodeId(id))) this.#held.set(nodeId(id), []);
  }

  /** Persists the held Readies in order and lets the node's disk keep up again. */
  release(id: number): void {
    const held = this.#held.get(nodeId(id)) ?? [];
    this.#held.delete(nodeId(id));
    for (const ready of held) this.#persist(nodeId(id), ready);
  }

  restart(id: number): void {
    this.#start(nodeId(id));
  }

  cut(a: number, b: number): void {
    this.#cut.add(`${a}>${b}`);
    this.#cut.add(`${b}>${a}`);
  }

  isolate(id: number): void {
    for (const other of this.ids) if (other !== id) this.cut(id, other);
  }

  /** Restores the link between `a` and `b` (both ways). */
  uncut(a: number, b: number): void {
    this.#cut.delete(`${a}>${b}`);
    this.#cut.delete(`${b}>${a}`);
  }

  heal(): void {
    this.#cut.clear();
  }

  /**
   * The leader every live member of its configuration agrees on, or NO_NODE. Nodes outside that
   * configuration (joiners not yet added, removed members) are not asked; with no membership
   * change, that is every node.
   */
  leader(): NodeId {
    const statuses = this.ids.filter((id) => this.isUp(id)).map((id) => this.node(id).status());
    const leader = statuses.find((s) => s.role === "leader");
    if (leader === undefined) return NO_NODE;
    const config = this.node(leader.id).config();
    const members = new Set([...config.incoming, ...(config.outgoing ?? []), ...config.learners]);
    return statuses.every((s) => !members.has(s.id) || s.leader === leader.id) ? leader.id : NO_NODE;
  }

  /**
   * Has the node's state machine take a snapshot at its applied index (the data is that index), keeps
   * it durable, and lets the log drop entries through index − keepEntries (RawNode.snapshotTaken).
   */
  takeSnapshot(id: number, keepEntries = 0): Snapshot | undefined {
    this.#collect();
    const raw = this.node(id);
    const index = raw.status().appliedIndex;
    const snapshot = raw.snapshotTaken({ index, data: new Uint8Array([index & 0xff]), keepEntries });
    if (snapshot !== undefined)
      this.#storage.get(nodeId(id))!.saveSnapshot(snapshot, logIndex(Math.max(0, index - keepEntries)));
    this.#collect();
    return snapshot;
  }

  /** Persists every pending Ready and queues its messages, delivering nothing. */
  flush(): void {
    this.#collect();
  }

  /** Persists every pending Ready and delivers messages until nothing moves (or `stepsMax`). */
  deliver(stepsMax = 100_000): void {
    for (let steps = 0; steps < stepsMax; steps++) {
      this.#collect();
      const m = this.inFlight.shift();
      if (m === undefined) return;
      if (this.#cut.has(`${m.from}>${m.to}`) || this.dropIf?.(m) === true || !this.isUp(m.to)) continue;
      this.delivered.push(m);
      this.node(m.to).step(m);
      this.afterStep?.(m);
    }
    throw new Error(`cluster did not go quiet within ${stepsMax} deliveries`);
  }

  /** Delivers only the messages now in flight, not the ones they cause (one network hop). */
  deliverOneHop(): void {
    this.#collect();
    const batch = this.inFlight;
    this.inFlight = [];
    for (const m of batch) {
      if (this.#cut.has(`${m.from}>${m.to}`) || this.dropIf?.(m) === true || !this.isUp(m.to)) continue;
      this.delivered.push(m);
      this.node(m.to).step(m);
      this.afterStep?.(m);
    }
    this.#collect();
  }

  #collect(): void {
    for (let again = true; again;) {
      again = false;
      for (const id of this.ids) {
        const raw = this.#nodes.get(id);
        if (raw === undefined || !raw.hasReady()) continue;
        again = true;
        const ready = raw.ready();
        const held = this.#held.get(id);
        if (held === undefined) {
          this.#persist(id, ready);
        } else {
          this.inFlight.push(...ready.messages);
          held.push({ ...ready, messages: [] });
        }
      }
    }
  }

  #persist(id: NodeId, ready: Ready): void {
    const storage = this.#storage.get(id)!;
    if (ready.mustSync) storage.save(ready.hardState, ready.entries, ready.snapshot);
    else storage.defer(ready.hardState);
    this.inFlight.push(...ready.messages, ...ready.messagesAfterPersist);
    this.#applied.get(id)!.push(...ready.committedEntries);
    this.#readStates.get(id)!.push(...ready.readStates);
    this.node(id).advance(ready);
  }
}
