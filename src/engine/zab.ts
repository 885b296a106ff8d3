import type { Config } from "../raft/index.js";
import { logIndex, NO_NODE, type NodeId } from "../util/ids.js";
import {
  decodeZabMessage,
  encodeZabMessage,
  epoch,
  ZabNode,
  type DurableState,
  type HistoryEntry,
  type MemberView,
  type ZabMessage,
  type ZabOptions,
  type ZabReady,
  type ZabSoftState,
  type Zxid,
} from "../zab/index.js";
import type {
  EngineCapabilities,
  EngineCore,
  EngineEntry,
  EngineProposal,
  EngineReady,
  EngineRole,
  EngineStatus,
  SnapshotRef,
} from "./engine.js";
import type { CoreOptions, EngineFactory } from "./factory.js";

export { applyWrite, EMPTY_DURABLE_STATE, epoch, type Zxid } from "../zab/index.js";
export type ZabDurable = DurableState;

/** What the simulator's checks read of a member: its history and soft state (leader completeness), its epochs. */
interface ZabView extends MemberView {
  /** The epoch of the last leader whose history this member took: the bound on what it delivers. */
  currentEpoch(): number;
  /** The history's length. */
  lastIndex(): number;
}

export interface ZabTypes {
  readonly message: ZabMessage;
  /** The core's Ready: its history write and epochs are what storage writes. */
  readonly write: ZabReady;
  readonly durable: DurableState;
  /** ZAB keeps no snapshots (capabilities.snapshots). */
  readonly snapshot: undefined;
  readonly view: ZabView;
}

const capabilities: EngineCapabilities = {
  name: "zab",
  // A zxid names one proposal at its index on every member, as Raft's term does: only the leader
  // of its epoch draws it, once, and a later leader takes a transaction over under the zxid it
  // has, never proposing it again under its own (as a Multi-Paxos leader does, whence its "bytes").
  // So the leader's own proposals need no unique bytes; forwarded ones carry (origin, epoch, seq)
  // whatever the tag, and are matched by those when delivered.
  proposalTag: "reign",
  // Several Readies may be in flight, persisted and advanced in order (ZabReady).
  readiesInFlightMax: undefined,
  snapshotAfterStore: false,
  // The core keeps its whole history: a restarted or lagging member catches up by history sync.
  snapshots: false,
};

/**
 * How many election timeouts a new leader has to reach broadcast (ZooKeeper's initLimit). Discovery
 * and synchronization take three round trips and an fsync on each side of two of them, where a
 * Raft election takes one: at raftkv's 150 ms election timeout, on a loaded machine, the core's
 * default of two timeouts had every leader give up before broadcast.
 */
const initElectionTimeouts = 10;

/** ZAB's settings a node may pass through; timing and randomness come from the node. */
export type ZabTuning = Partial<Pick<ZabOptions, "counterBits" | "proposalTxnsMax" | "applyEntriesMax">>;

/** ZAB behind the seam: a fixed ensemble of `members`, recovered from what storage found. */
export function zabEngine(setup: ZabTuning & { readonly members: readonly NodeId[] }): EngineFactory<ZabTypes> {
  return {
    create: (options: CoreOptions, durable: DurableState) =>
      new ZabCore(
        new ZabNode(
          {
            ...setup,
            id: options.id,
            random: options.random,
            electionTicks: options.electionTicks,
            heartbeatTicks: options.heartbeatTicks,
            initTicks: initElectionTimeouts * options.electionTicks,
            checkInvariants: options.checkInvariants,
          },
          durable,
        ),
        setup.members,
      ),
    snapshotOf: () => undefined,
  };
}

/** A zxid as one number, as ZooKeeper's 64-bit zxid: an epoch's counter fits 32 bits (COUNTER_BITS_MAX). */
export function zxidTag(z: Zxid): number {
  return z.epoch * 2 ** 32 + z.counter;
}

export function zxidOfTag(tag: number): Zxid {
  return { epoch: epoch(Math.floor(tag / 2 ** 32)), counter: tag % 2 ** 32 };
}

class ZabCore implements EngineCore<ZabTypes> {
  readonly capabilities = capabilities;
  readonly membership = undefined;
  readonly #node: ZabNode;
  readonly #config: Config;
  /** The highest epoch seen: a looking member reports epoch 0, but the seam's reign never goes back. */
  #reign = 0;

  constructor(node: ZabNode, members: readonly NodeId[]) {
    this.#node = node;
    this.#config = { incoming: new Set(members), outgoing: undefined, learners: new Set() };
  }

  get id(): NodeId {
    return this.#node.id;
  }

  tick(): void {
    this.#node.tick();
  }

  step(m: ZabMessage): void {
    this.#node.step(m);
  }

  /**
   * Appended on the leader, tagged with its zxid (an index holds one zxid on every member, and a
   * new epoch keeps the zxids it takes over); passed to the leader from a follower in broadcast,
   * where the node learns the outcome by delivering the bytes.
   */
  propose(data: Uint8Array): EngineProposal {
    if (this.#node.forward(data).ok) return { ok: true, outcome: "forwarded" };
    const result = this.#node.propose(data);
    if (result.ok) return { ok: true, outcome: "appended", index: logIndex(result.index), tag: zxidTag(result.zxid) };
    switch (result.error) {
      case "notLeader":
        return { ok: false, error: result.leader === NO_NODE ? "noLeader" : "notLeader", leader: result.leader };
      case "notReady":
        return { ok: false, error: "noLeader", leader: NO_NODE };
      case "epochExhausted":
        // Refused until the exhausted epoch's proposals commit and a new epoch takes over.
        return { ok: false, error: "tooBusy", leader: this.#node.id };
    }
  }

  /**
   * Always ZooKeeper's `sync`, a round through the leader: ZAB has no lease, so a lease read is a
   * sync too (docs/engines.md). Plain reads of a member's own state are the node's serializable ones.
   */
  read(context: Uint8Array): { readonly ok: boolean } {
    return this.#node.sync(context);
  }

  hasReady(): boolean {
    return this.#node.hasReady();
  }

  ready(): EngineReady<ZabTypes> {
    const ready = this.#node.ready();
    const { history } = ready;
    return {
      soft: this.#soft(ready.softState),
      write: ready,
      mustSync: ready.mustSync,
      writtenEntries: ready.mustSync ? history.entries.length : undefined,
      installedSnapshot: undefined,
      messages: ready.messages,
      messagesAfterPersist: ready.messagesAfterPersist,
      committed: ready.committedEntries.map(engineEntry),
      readStates: ready.readStates,
    };
  }

  takeMessages(): ZabMessage[] {
    return this.#node.takeMessages();
  }

  advance(ready: EngineReady<ZabTypes>): void {
    this.#node.advance(ready.write);
  }

  /** Never asked for: the node takes no snapshot of an engine without them (capabilities.snapshots). */
  snapshotTaken(): undefined {
    return undefined;
  }

  snapshotToLoad(): SnapshotRef | undefined {
    return undefined;
  }

  withSnapshotData(m: ZabMessage): ZabMessage {
    return m;
  }

  status(): EngineStatus {
    const s = this.#node.status();
    const soft = this.#soft(s);
    return {
      id: s.id,
      role: soft.role,
      leader: soft.leader,
      reign: soft.reign,
      commitIndex: logIndex(s.committedIndex),
      appliedIndex: logIndex(s.appliedIndex),
      lastIndex: logIndex(s.lastIndex),
      snapshotIndex: logIndex(0),
    };
  }

  view(): ZabView {
    const node = this.#node;
    return {
      id: node.id,
      softState: () => node.softState(),
      historyEntry: (index) => node.historyEntry(index),
      currentEpoch: () => node.status().currentEpoch,
      lastIndex: () => node.status().lastIndex,
    };
  }

  config(): Config {
    return this.#config;
  }

  /**
   * Only a member in broadcast counts as leading or following a leader: before that, a leader takes
   * no proposal and a follower's leader may yet fail to establish its epoch.
   */
  #soft(s: ZabSoftState): { role: EngineRole; leader: NodeId; reign: number } {
    this.#reign = Math.max(this.#reign, s.epoch);
    const broadcast = s.phase === "broadcast";
    const role: EngineRole =
      s.role === "following" ? "follower" : s.role === "leading" && broadcast ? "leader" : "candidate";
    return { role, leader: broadcast ? s.leader : NO_NODE, reign: this.#reign };
  }
}

function engineEntry(entry: HistoryEntry): EngineEntry {
  return { index: logIndex(entry.index), kind: "command", data: entry.data, tag: zxidTag(entry.zxid) };
}

/** ZAB's messages for the transport's engine-message frames (the core's codec, fuzzed in src/zab). */
export const zabCodec = {
  engine: "zab",
  from: (m: ZabMessage): NodeId => m.from,
  to: (m: ZabMessage): NodeId => m.to,
  kind: (m: ZabMessage): string => m.type,
  encode: (m: ZabMessage): Uint8Array => encodeZabMessage(m),
  decode: (bytes: Uint8Array) => decodeZabMessage(bytes),
} as const;
