import {
  RawNode,
  type Config,
  type DurableState,
  type Entry,
  type Message,
  type RaftOptions,
  type Ready,
  type Snapshot,
  type SnapshotMeta,
} from "../raft/index.js";
import { logIndex, type LogIndex, type NodeId, type Term } from "../util/ids.js";
import type {
  EngineCapabilities,
  EngineCore,
  EngineEntry,
  EngineMembership,
  EngineProposal,
  EngineReady,
  EngineStatus,
  ReadMode,
  SnapshotRef,
  SnapshotTaken,
} from "./engine.js";
import type { CoreOptions, EngineFactory } from "./factory.js";
import { SnapshotsAside } from "./snapshots_aside.js";

/** A snapshot of Raft's to store: its file's metadata, and the log entries it lets the WAL forget. */
interface RaftSnapshotStore {
  readonly meta: SnapshotMeta;
  readonly compact: { readonly index: LogIndex; readonly term: Term } | undefined;
}

/** The in-memory log as checkers see it: the term at an index, and where the log starts. */
interface RaftLogView {
  termAt(index: LogIndex): Term | undefined;
  firstIndex(): LogIndex;
}

export interface RaftTypes {
  readonly message: Message;
  /** Raft's Ready itself: its snapshot, hard state and entries are what the WAL stores. */
  readonly write: Ready;
  readonly durable: DurableState;
  readonly snapshot: RaftSnapshotStore;
  readonly view: RaftLogView;
}

/**
 * The bytes the core keeps of any snapshot (this node's, the leader's it installed, the one it
 * recovered): none. Every snapshot this node holds is in its data directory, and one it sends is
 * read back from there (snapshotToLoad), so a large state is not held in memory twice.
 */
const snapshotBytesInCore = new Uint8Array(0);

const capabilities: EngineCapabilities = {
  name: "raft",
  proposalTag: "reign",
  readiesInFlightMax: undefined,
  snapshotAfterStore: false,
};

/** The Raft core's settings a node passes through (voters and tuning); timing and randomness come from the node. */
type RaftSetup = Omit<RaftOptions, keyof CoreOptions | "electionTicks" | "heartbeatTicks">;

/** Raft behind the seam: RawNode, recovered from what the node found on disk. */
export function raftEngine(setup: RaftSetup): EngineFactory<RaftTypes> {
  return {
    create: (options, durable) =>
      new RaftCore(
        new RawNode(
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
            : { ...durable, snapshot: { meta: durable.snapshot.meta, data: snapshotBytesInCore } },
        ),
      ),
    snapshotOf: (durable) =>
      durable.snapshot === undefined ? undefined : { index: durable.snapshot.meta.index, data: durable.snapshot.data },
  };
}

/** RawNode as EngineCore: a pass-through that names its entries, proposals and snapshots in the seam's words. */
class RaftCore implements EngineCore<RaftTypes> {
  readonly capabilities = capabilities;
  readonly membership: EngineMembership;
  readonly #raw: RawNode;
  readonly #incoming = new SnapshotsAside<Snapshot>();

  constructor(raw: RawNode) {
    this.#raw = raw;
    this.membership = {
      propose: (changes) => raw.proposeConfChange(changes),
      transferLeader: (to) => raw.transferLeader(to),
    };
  }

  get id(): NodeId {
    return this.#raw.id;
  }

  tick(): void {
    this.#raw.tick();
  }

  step(m: Message): void {
    if (m.type !== "installSnapshot") {
      this.#raw.step(m);
      return;
    }
    const snapshot = { meta: m.snapshot.meta, data: snapshotBytesInCore };
    this.#incoming.put(snapshot, m.snapshot.data);
    this.#raw.step({ ...m, snapshot });
  }

  propose(data: Uint8Array): EngineProposal {
    const result = this.#raw.propose(data);
    if (!result.ok)
      return { ok: false, error: result.error === "noLeader" ? "noLeader" : "tooBusy", leader: 0 as NodeId };
    if (result.outcome === "forwarded") return result;
    return { ok: true, outcome: "appended", index: result.index, tag: result.term };
  }

  read(context: Uint8Array, mode: ReadMode): { readonly ok: boolean } {
    return this.#raw.readIndex(context, mode);
  }

  hasReady(): boolean {
    return this.#raw.hasReady();
  }

  ready(): EngineReady<RaftTypes> {
    const raw = this.#raw.ready();
    const data = this.#incoming.take(raw.snapshot);
    // The WAL's side stores the installed snapshot's data, which the core was never given.
    const ready =
      raw.snapshot === undefined || data === undefined ? raw : { ...raw, snapshot: { ...raw.snapshot, data } };
    const { softState, snapshot } = ready;
    return {
      soft: { role: softState.role, leader: softState.leader, reign: softState.term },
      write: ready,
      mustSync: ready.mustSync,
      writtenEntries:
        ready.mustSync && (ready.entries.length > 0 || ready.hardState !== undefined)
          ? ready.entries.length
          : undefined,
      installedSnapshot: snapshot === undefined ? undefined : { index: snapshot.meta.index, data: snapshot.data },
      messages: ready.messages,
      messagesAfterPersist: ready.messagesAfterPersist,
      committed: ready.committedEntries.length === 0 ? noEntries : ready.committedEntries.map(engineEntry),
      readStates: ready.readStates,
    };
  }

  takeMessages(): Message[] {
    return this.#raw.takeMessages();
  }

  advance(ready: EngineReady<RaftTypes>): void {
    this.#raw.advance(ready.write);
  }

  /**
   * Records the snapshot in the core at once, as its encoding begins (its file is written as it is
   * encoded): until the file is durable a follower that needs it is sent it later, and the WAL
   * keeps what it covers.
   */
  snapshotTaken(s: { index: LogIndex; keepEntries: number }): SnapshotTaken<RaftSnapshotStore> | undefined {
    const raw = this.#raw;
    const compactIndex = logIndex(Math.max(0, s.index - s.keepEntries));
    const compactTerm = raw.termAt(compactIndex);
    const kept = raw.snapshotTaken({ index: s.index, data: snapshotBytesInCore, keepEntries: s.keepEntries });
    if (kept === undefined) return undefined;
    // Below the log's start the WAL was compacted already; only the snapshot file is new.
    const compact = compactTerm === undefined ? undefined : { index: compactIndex, term: compactTerm };
    return {
      index: s.index,
      store: { meta: kept.meta, compact },
      compactThrough: compact !== undefined && compact.index > 0 ? compact.index : undefined,
    };
  }

  snapshotToLoad(m: Message): SnapshotRef | undefined {
    return m.type === "installSnapshot" ? m.snapshot.meta : undefined;
  }

  withSnapshotData(m: Message, data: Uint8Array): Message {
    return m.type === "installSnapshot" ? { ...m, snapshot: { meta: m.snapshot.meta, data } } : m;
  }

  status(): EngineStatus {
    const s = this.#raw.status();
    return {
      id: s.id,
      role: s.role,
      leader: s.leader,
      reign: s.term,
      commitIndex: s.commitIndex,
      appliedIndex: s.appliedIndex,
      lastIndex: s.lastIndex,
      snapshotIndex: s.snapshotIndex,
    };
  }

  config(): Config {
    return this.#raw.config();
  }

  view(): RaftLogView {
    const raw = this.#raw;
    return { termAt: (index) => raw.termAt(index), firstIndex: () => raw.firstIndex() };
  }
}

const noEntries: readonly EngineEntry[] = [];

function engineEntry(entry: Entry): EngineEntry {
  return {
    index: entry.index,
    kind: entry.kind === "config" ? "config" : "command",
    data: entry.data,
    tag: entry.term,
  };
}
