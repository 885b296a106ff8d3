import {
  decodePaxosMessage,
  encodePaxosMessage,
  MultiPaxosNode,
  type AcceptorView,
  type ChosenEntry,
  type CommittedEntry,
  type DurableState,
  type Message,
  type MultiPaxosOptions,
  type Ready,
  type Slot,
  type Snapshot,
} from "../paxos/multi/index.js";
import type { Config } from "../raft/index.js";
import type { LogIndex, NodeId } from "../util/ids.js";
import type {
  EngineCapabilities,
  EngineCore,
  EngineEntry,
  EngineProposal,
  EngineReady,
  EngineStatus,
  ReadMode,
  SnapshotRef,
  SnapshotTaken,
} from "./engine.js";
import type { CoreOptions, EngineFactory } from "./factory.js";
import { SnapshotsAside } from "./snapshots_aside.js";

export { ZERO_BALLOT, type AcceptedRecord, type Ballot } from "../paxos/multi/index.js";
export type MultiPaxosDurable = DurableState;

/** What the simulator's checks read of a member: its acceptor, and what it knows chosen. */
interface PaxosView {
  acceptor(): AcceptorView;
  chosenAt(slot: Slot): ChosenEntry | undefined;
}

export interface MultiPaxosTypes {
  readonly message: Message;
  /** The core's Ready: its promise, accepted records and installed snapshot are what storage writes. */
  readonly write: Ready;
  readonly durable: DurableState;
  /** Storing one of its own snapshots needs nothing beyond its index and data. */
  readonly snapshot: undefined;
  readonly view: PaxosView;
}

const capabilities: EngineCapabilities = {
  name: "multi-paxos",
  // A new leader proposes a value it found again, in the same slot under its own ballot.
  proposalTag: "bytes",
  // The core answers its own proposer on advance (README: one Ready at a time).
  readiesInFlightMax: 1,
  // Its Promises report the snapshot as servable: it must be on disk first.
  snapshotAfterStore: true,
};

/**
 * The bytes the core keeps of any snapshot: none, as for Raft (snapshotBytesInCore in raft.ts).
 * A snapshot the core sends is read back from the data directory (snapshotToLoad).
 */
const snapshotBytesInCore = new Uint8Array(0);

/** Multi-Paxos's settings a node passes through; timing and randomness come from the node. */
type MultiPaxosSetup = Omit<MultiPaxosOptions, keyof CoreOptions | "electionTicks" | "heartbeatTicks">;

/** Multi-Paxos behind the seam: a fixed ensemble of `members`, recovered from what storage found. */
export function multiPaxosEngine(setup: MultiPaxosSetup): EngineFactory<MultiPaxosTypes> {
  return {
    create: (options, durable) =>
      new MultiPaxosCore(
        new MultiPaxosNode(
          {
            ...setup,
            id: options.id,
            random: options.random,
            electionTicks: options.electionTicks,
            heartbeatTicks: options.heartbeatTicks,
            checkInvariants: options.checkInvariants,
          },
          durable.snapshot === undefined
            ? durable
            : { ...durable, snapshot: { index: durable.snapshot.index, data: snapshotBytesInCore } },
        ),
        setup.members,
      ),
    snapshotOf: (durable) => durable.snapshot,
  };
}

class MultiPaxosCore implements EngineCore<MultiPaxosTypes> {
  readonly capabilities = capabilities;
  readonly membership = undefined;
  readonly #node: MultiPaxosNode;
  readonly #config: Config;
  readonly #incoming = new SnapshotsAside<Snapshot>();

  constructor(node: MultiPaxosNode, members: readonly NodeId[]) {
    this.#node = node;
    this.#config = { incoming: new Set(members), outgoing: undefined, learners: new Set() };
  }

  get id(): NodeId {
    return this.#node.id;
  }

  tick(): void {
    this.#node.tick();
  }

  step(m: Message): void {
    if (m.type !== "snapshot") {
      this.#node.step(m);
      return;
    }
    const snapshot = { index: m.snapshot.index, data: snapshotBytesInCore };
    this.#incoming.put(snapshot, m.snapshot.data);
    this.#node.step({ ...m, snapshot });
  }

  /**
   * Appended on the leader, tagged with its bytes (capabilities.proposalTag); passed to the leader
   * elsewhere, where the node learns the outcome by applying the bytes.
   */
  propose(data: Uint8Array): EngineProposal {
    if (this.#node.forward(data).ok) return { ok: true, outcome: "forwarded" };
    const result = this.#node.propose(data);
    if (result.ok) return { ok: true, outcome: "appended", index: result.slot, tag: data };
    const error = result.error === "tooManyInflight" ? "tooBusy" : result.error;
    return { ok: false, error, leader: result.leader };
  }

  read(context: Uint8Array, mode: ReadMode): { readonly ok: boolean } {
    return this.#node.readIndex(context, mode);
  }

  hasReady(): boolean {
    return this.#node.hasReady();
  }

  ready(): EngineReady<MultiPaxosTypes> {
    const raw = this.#node.ready();
    const data = this.#incoming.take(raw.snapshot);
    // The storage's side writes the installed snapshot's data, which the core was never given.
    const ready =
      raw.snapshot === undefined || data === undefined ? raw : { ...raw, snapshot: { ...raw.snapshot, data } };
    const { softState, snapshot } = ready;
    return {
      soft: { role: softState.role, leader: softState.leader, reign: softState.ballot.counter },
      write: ready,
      mustSync: ready.mustSync,
      writtenEntries: ready.mustSync ? ready.accepted.length : undefined,
      installedSnapshot: snapshot,
      messages: ready.messages,
      messagesAfterPersist: ready.messagesAfterPersist,
      committed: ready.committedEntries.map(engineEntry),
      readStates: ready.readStates,
    };
  }

  takeMessages(): Message[] {
    return this.#node.takeMessages();
  }

  advance(ready: EngineReady<MultiPaxosTypes>): void {
    this.#node.advance(ready.write);
  }

  /** Called once the snapshot is durable (capabilities.snapshotAfterStore): sent on, it is read back from there. */
  snapshotTaken(s: { index: LogIndex; keepEntries: number }): SnapshotTaken<undefined> | undefined {
    const kept = this.#node.snapshotTaken({ ...s, data: snapshotBytesInCore });
    return kept === undefined ? undefined : { index: kept.index, store: undefined, compactThrough: kept.index };
  }

  /** Snapshot files carry no term here (PaxosStorage). */
  snapshotToLoad(m: Message): SnapshotRef | undefined {
    return m.type === "snapshot" ? { index: m.snapshot.index, term: 0 } : undefined;
  }

  withSnapshotData(m: Message, data: Uint8Array): Message {
    return m.type === "snapshot" ? { ...m, snapshot: { index: m.snapshot.index, data } } : m;
  }

  status(): EngineStatus {
    const s = this.#node.status();
    return {
      id: s.id,
      role: s.role,
      leader: s.leader,
      reign: s.ballot.counter,
      commitIndex: s.chosenThrough,
      appliedIndex: s.appliedIndex,
      lastIndex: s.lastSlot,
      snapshotIndex: s.snapshotIndex,
    };
  }

  view(): PaxosView {
    const node = this.#node;
    return { acceptor: () => node.acceptorView(), chosenAt: (slot) => node.chosenAt(slot) };
  }

  config(): Config {
    return this.#config;
  }
}

function engineEntry(entry: CommittedEntry): EngineEntry {
  return { index: entry.index, kind: entry.kind, data: entry.data, tag: entry.data };
}

/** Multi-Paxos's messages for the transport's engine-message frames (the core's codec, fuzzed in src/paxos). */
export const multiPaxosCodec = {
  engine: "multi-paxos",
  from: (m: Message): NodeId => m.from,
  to: (m: Message): NodeId => m.to,
  kind: (m: Message): string => m.type,
  encode: (m: Message): Uint8Array => encodePaxosMessage(m),
  decode: (bytes: Uint8Array) => decodePaxosMessage(bytes),
} as const;
