/*
 * A tiny in-test message pump for Multi-Paxos members: each member runs the Ready loop over an
 * in-memory disk; every message goes through the binary codec; the network can drop, duplicate,
 * reorder and partition; a crash loses what the disk did not get, and a restart recovers from it.
 * The safety checks run after every input and every persist, and every message that promises
 * durability is checked against the disk when it leaves.
 */
import { assert } from "../../util/assert.js";
import { fromUtf8, utf8 } from "../../util/bytes.js";
import { logIndex, nodeId, type NodeId } from "../../util/ids.js";
import { Prng } from "../../util/prng.js";
import { decodePaxosMessage, encodePaxosMessage } from "./codec.js";
import type { Message } from "./messages.js";
import { MultiPaxosNode, type AcceptorView, type Ready } from "./node.js";
import type { MultiPaxosOptions } from "./options.js";
import { AppliedHistory, checkAcceptorStep, ChosenRegistry, copyAcceptorView, type PaxosViolation } from "./safety.js";
import {
  compareBallots,
  ZERO_BALLOT,
  type AcceptedRecord,
  type Ballot,
  type CommittedEntry,
  type ReadState,
  type Slot,
  type Snapshot,
} from "./types.js";

interface Disk {
  promised: Ballot;
  readonly records: Map<Slot, AcceptedRecord>;
  snapshot: Snapshot | undefined;
}

export interface Member {
  readonly id: NodeId;
  node: MultiPaxosNode;
  up: boolean;
  readonly disk: Disk;
  /** The state machine: every entry applied, from slot 1 (restored from snapshots). */
  applied: CommittedEntry[];
  readStates: ReadState[];
  /** The acceptor as last observed, to compare the next observation with. */
  view: AcceptorView;
}

interface InFlight {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly bytes: Uint8Array;
}

export interface ClusterOptions {
  readonly size: number;
  readonly seed?: number;
  readonly options?: Partial<Omit<MultiPaxosOptions, "id" | "members" | "random">>;
}

export class Cluster {
  readonly members = new Map<NodeId, Member>();
  readonly ids: NodeId[];
  readonly violations: PaxosViolation[] = [];
  /** Every message that left a member, decoded, in order. */
  readonly sent: Message[] = [];
  inflight: InFlight[] = [];
  /** Drops a message on delivery when it returns true. */
  drop: (m: Message) => boolean = () => false;
  readonly registry: ChosenRegistry;
  readonly history = new AppliedHistory();
  readonly #options: ClusterOptions;
  readonly #groups = new Map<NodeId, number>();

  constructor(options: ClusterOptions) {
    this.#options = options;
    this.ids = Array.from({ length: options.size }, (_, i) => nodeId(i + 1));
    this.registry = new ChosenRegistry(Math.floor(options.size / 2) + 1);
    for (const id of this.ids) {
      const disk: Disk = { promised: ZERO_BALLOT, records: new Map(), snapshot: undefined };
      const node = this.#newNode(id, undefined, 0);
      this.members.set(id, {
        id,
        node,
        up: true,
        disk,
        applied: [],
        readStates: [],
        view: copyAcceptorView(node.acceptorView()),
      });
    }
  }

  /** A member's first start has no disk at all; a restart recovers from its disk. */
  #newNode(id: NodeId, disk: Disk | undefined, incarnation: number): MultiPaxosNode {
    const random = new Prng((this.#options.seed ?? 1) * 7919 + id * 31 + incarnation);
    const options = {
      electionTicks: 10,
      ...this.#options.options,
      id,
      members: this.ids,
      random,
      checkInvariants: true,
    };
    if (disk === undefined) return new MultiPaxosNode(options);
    const durable = {
      hardState: { promised: disk.promised },
      accepted: [...disk.records.values()],
      snapshot: disk.snapshot,
    };
    return new MultiPaxosNode(options, durable);
  }

  member(id: number): Member {
    const m = this.members.get(nodeId(id));
    assert(m !== undefined, `no member ${id}`);
    return m;
  }

  node(id: number): MultiPaxosNode {
    return this.member(id).node;
  }

  leader(): Member | undefined {
    return [...this.members.values()].find((m) => m.up && m.node.status().role === "leader");
  }

  /** Runs one input on a member, then its Ready loop, checking the acceptor before and after. */
  input<T>(id: number, f: (node: MultiPaxosNode) => T): T {
    const m = this.member(id);
    assert(m.up, `member ${id} is down`);
    const result = f(m.node);
    this.#observe(m);
    this.process(m.id);
    return result;
  }

  #observe(m: Member): void {
    const view = m.node.acceptorView();
    this.violations.push(...checkAcceptorStep(m.id, m.view, view));
    m.view = copyAcceptorView(view);
  }

  /** The Ready loop; `crashBeforePersist` stops it after the early messages left, as a power cut would. */
  process(id: NodeId, crashBeforePersist = false): void {
    const m = this.members.get(id)!;
    while (m.up && m.node.hasReady()) {
      const ready = m.node.ready();
      for (const msg of ready.messages) {
        this.#checkDurable(m, msg);
        this.#send(msg);
      }
      if (crashBeforePersist) {
        this.crash(id);
        return;
      }
      this.#persist(m, ready);
      for (const msg of ready.messagesAfterPersist) {
        this.#checkDurable(m, msg);
        this.#send(msg);
      }
      this.#apply(m, ready);
      m.node.advance(ready);
      this.#observe(m);
    }
  }

  #persist(m: Member, ready: Ready): void {
    const { disk } = m;
    if (ready.snapshot !== undefined) {
      disk.snapshot = ready.snapshot;
      for (const slot of disk.records.keys()) if (slot <= ready.snapshot.index) disk.records.delete(slot);
      m.applied = decodeStateMachine(ready.snapshot.data);
      this.history.restored(m.id, ready.snapshot.index);
    }
    if (ready.hardState !== undefined) disk.promised = ready.hardState.promised;
    for (const record of ready.accepted) disk.records.set(record.slot, record);
    this.violations.push(...this.registry.recordDurable(m.id, ready.accepted));
  }

  #apply(m: Member, ready: Ready): void {
    this.violations.push(...this.history.observe(m.id, ready.committedEntries));
    for (const entry of ready.committedEntries) {
      const value = { kind: entry.kind, data: entry.data };
      this.violations.push(...this.registry.checkLearnt(m.id, entry.index, value));
      m.applied.push(entry);
    }
    m.readStates.push(...ready.readStates);
  }

  /** A Promise or an acceptance leaves only once what it promises is on the disk. */
  #checkDurable(m: Member, msg: Message): void {
    const { disk } = m;
    if (msg.type === "promise" || msg.type === "prepare") {
      assert(
        compareBallots(disk.promised, msg.ballot) >= 0,
        `${msg.type} of ${m.id} left before its promise was durable`,
      );
    }
    if (msg.type !== "accepted") return;
    for (const slot of msg.slots) {
      const record = disk.records.get(slot);
      const covered = (disk.snapshot?.index ?? 0) >= slot;
      assert(
        covered || (record !== undefined && compareBallots(record.ballot, msg.ballot) >= 0),
        `acceptance of slot ${slot} by ${m.id} left before it was durable`,
      );
    }
  }

  #send(msg: Message): void {
    const bytes = encodePaxosMessage(msg);
    const decoded = decodePaxosMessage(bytes);
    assert(decoded.ok, `codec: ${decoded.ok ? "" : decoded.error}`);
    this.sent.push(decoded.message);
    this.inflight.push({ from: msg.from, to: msg.to, bytes });
  }

  /** Delivers the message at `index` of the in-flight list (dropped if cut off, down or filtered). */
  deliverAt(index: number): void {
    const [item] = this.inflight.splice(index, 1);
    assert(item !== undefined, "nothing in flight there");
    const to = this.members.get(item.to)!;
    if (!to.up || this.#cut(item.from, item.to)) return;
    const decoded = decodePaxosMessage(item.bytes);
    assert(decoded.ok, "codec");
    if (this.drop(decoded.message)) return;
    this.input(item.to, (node) => node.step(decoded.message));
  }

  /** Delivers in order until nothing is in flight (messages sent meanwhile included); returns how many. */
  deliverAll(limit = 100_000): number {
    let count = 0;
    while (this.inflight.length > 0) {
      assert(++count <= limit, "the network never went quiet");
      this.deliverAt(0);
    }
    return count;
  }

  tickAll(): void {
    for (const m of this.members.values()) if (m.up) this.input(m.id, (node) => node.tick());
  }

  /** Ticks and delivers everything, `ticks` times. */
  run(ticks: number): void {
    for (let i = 0; i < ticks; i++) {
      this.tickAll();
      this.deliverAll();
    }
  }

  /** Runs until `done` holds (checked after each tick's deliveries); fails after `ticks`. */
  runUntil(done: () => boolean, ticks = 500): void {
    for (let i = 0; i < ticks && !done(); i++) {
      this.tickAll();
      this.deliverAll();
    }
    assert(done(), "condition not reached in time");
  }

  /** Elects `id` by running its phase 1 now. */
  elect(id: number): void {
    this.input(id, (node) => node.campaign());
    this.deliverAll();
    assert(this.node(id).status().role === "leader", `member ${id} did not win phase 1`);
  }

  /** Proposes `text` on `id`, which must lead; returns the slot. */
  propose(id: number, text: string): Slot {
    const result = this.input(id, (node) => node.propose(utf8(text)));
    assert(result.ok, `proposal refused: ${result.ok ? "" : result.error}`);
    return result.slot;
  }

  partition(...groups: number[][]): void {
    this.#groups.clear();
    groups.forEach((group, i) => group.forEach((id) => this.#groups.set(nodeId(id), i)));
  }

  heal(): void {
    this.#groups.clear();
  }

  #cut(a: NodeId, b: NodeId): boolean {
    return (this.#groups.get(a) ?? -1) !== (this.#groups.get(b) ?? -1);
  }

  crash(id: NodeId): void {
    this.members.get(id)!.up = false;
  }

  /** Restarts `id` from its disk: state machine from the snapshot, the rest learnt again. */
  restart(id: NodeId, incarnation: number): void {
    const m = this.members.get(id)!;
    m.node = this.#newNode(id, m.disk, incarnation);
    m.up = true;
    m.applied = m.disk.snapshot === undefined ? [] : decodeStateMachine(m.disk.snapshot.data);
    this.history.restored(id, m.disk.snapshot?.index ?? logIndex(0));
    const durable: AcceptorView = { promised: m.disk.promised, accepted: new Map(m.disk.records) };
    this.violations.push(...checkAcceptorStep(id, durable, m.node.acceptorView()));
    m.view = copyAcceptorView(m.node.acceptorView());
    this.process(id);
  }

  /**
   * The driver's part of a snapshot: the state machine's state through what `id` applied, stored
   * before the core hears of it and before the records it covers are deleted.
   */
  takeSnapshot(id: number, keepEntries = 0): Snapshot | undefined {
    const m = this.member(id);
    const index = m.applied.at(-1)?.index ?? logIndex(0);
    if (index === 0) return undefined;
    if (index <= (m.disk.snapshot?.index ?? 0)) return undefined;
    m.disk.snapshot = { index, data: encodeStateMachine(m.applied) };
    const snapshot = this.input(id, (node) => node.snapshotTaken({ ...m.disk.snapshot!, keepEntries }));
    for (const slot of m.disk.records.keys()) if (slot <= index) m.disk.records.delete(slot);
    return snapshot;
  }

  /** The commands `id` applied, in slot order, no-ops shown as "·". */
  appliedTexts(id: number): string[] {
    return this.member(id).applied.map((e) => (e.kind === "noop" ? "·" : fromUtf8(e.data)));
  }

  countSent(type: Message["type"], since = 0): number {
    return this.sent.slice(since).filter((m) => m.type === type).length;
  }
}

/** The test state machine's snapshot: its whole applied list. */
export function encodeStateMachine(applied: readonly CommittedEntry[]): Uint8Array {
  return utf8(JSON.stringify(applied.map((e) => [e.index, e.kind, fromUtf8(e.data)])));
}

function decodeStateMachine(data: Uint8Array): CommittedEntry[] {
  const rows = JSON.parse(fromUtf8(data)) as [number, "command" | "noop", string][];
  return rows.map(([index, kind, text]) => ({ index: logIndex(index), kind, data: utf8(text) }));
}
