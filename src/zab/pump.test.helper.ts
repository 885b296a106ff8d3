/*
 * A tiny deterministic message pump for ZAB scenario tests: members built from ZabNode, every
 * message through the codec, a Ready loop that persists to an in-memory disk before sending what
 * promises durability, and ZAB's safety checks after every Ready. Tests deliver, drop, duplicate,
 * partition and crash-restart members from the durable state their Readies asked to persist.
 */
import { assert } from "../util/assert.js";
import { nodeId, type NodeId } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { decodeZabMessage, encodeZabMessage } from "./codec.js";
import { applyWrite, EMPTY_DURABLE_STATE } from "./durable.js";
import type { ZabMessage } from "./messages.js";
import type { ZabOptions } from "./options.js";
import {
  checkAcknowledgedDurable,
  checkCommittedDurable,
  checkDelivery,
  checkLeaderCompleteness,
  checkOneLeaderPerEpoch,
  createDeliveryLedger,
  type DeliveryLedger,
} from "./safety.js";
import type { DurableState, HistoryEntry, ReadState } from "./types.js";
import { ZabNode, type ZabReady } from "./zab_node.js";

export interface PumpOptions {
  readonly size: number;
  readonly seed?: number;
  /** Options for every member (id, members and randomness are the pump's). */
  readonly zab?: Partial<Omit<ZabOptions, "id" | "members" | "random">>;
}

export class Pump {
  readonly members: readonly NodeId[];
  readonly #options: PumpOptions;
  readonly #random: Prng;
  readonly #nodes = new Map<NodeId, ZabNode | undefined>();
  readonly disks = new Map<NodeId, DurableState>();
  /** What each member delivered since it last started: its plain, local read of the state machine. */
  readonly delivered = new Map<NodeId, HistoryEntry[]>();
  /** Read states each member produced since it last started. */
  readonly reads = new Map<NodeId, ReadState[]>();
  readonly ledger: DeliveryLedger = createDeliveryLedger();
  inFlight: ZabMessage[] = [];
  readonly #cut = new Set<string>();
  readonly #crashBeforeWrite = new Set<NodeId>();
  /** Readies taken and not yet written, per member, oldest first (slow disks only). */
  readonly #writing = new Map<NodeId, ZabReady[]>();
  /** Writes land only when completeWrite() says so. */
  slowDisks = false;
  readonly #quorum: number;
  messagesSent = 0;
  /** Sees every message as it is sent (before any cut drops it). */
  watch: ((m: ZabMessage) => void) | undefined;
  /** Sees every read state a member produces. */
  onRead: ((id: NodeId, read: ReadState) => void) | undefined;
  /** Drops the messages it selects, as a one-way or selective fault. */
  dropIf: ((m: ZabMessage) => boolean) | undefined;

  constructor(options: PumpOptions) {
    this.#options = options;
    this.#random = new Prng(options.seed ?? 1);
    this.members = Array.from({ length: options.size }, (_, k) => nodeId(k + 1));
    this.#quorum = Math.floor(options.size / 2) + 1;
    for (const id of this.members) {
      this.disks.set(id, EMPTY_DURABLE_STATE);
      this.#start(id);
    }
  }

  node(id: NodeId): ZabNode {
    const node = this.#nodes.get(id);
    assert(node !== undefined, `member ${id} is down`);
    return node;
  }

  isUp(id: NodeId): boolean {
    return this.#nodes.get(id) !== undefined;
  }

  upMembers(): NodeId[] {
    return this.members.filter((id) => this.isUp(id));
  }

  /** The established leader of the highest epoch among the members up, if any. */
  leader(): NodeId | undefined {
    let best: NodeId | undefined;
    let bestEpoch = -1;
    for (const id of this.upMembers()) {
      const status = this.node(id).softState();
      if (status.role === "leading" && status.phase === "broadcast" && status.epoch > bestEpoch) {
        best = id;
        bestEpoch = status.epoch;
      }
    }
    return best;
  }

  // ---- faults ------------------------------------------------------------------------------

  /** The member stops; writes still in flight are lost. */
  crash(id: NodeId): void {
    this.#nodes.set(id, undefined);
    this.#crashBeforeWrite.delete(id);
    this.#writing.set(id, []);
  }

  restart(id: NodeId): void {
    assert(!this.isUp(id), `member ${id} is already up`);
    this.#start(id);
  }

  /** Cuts every link between the groups (both ways); members in no group keep their links. */
  partition(...groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups)
      for (const b of groups) if (a !== b) for (const x of a) for (const y of b) this.#cut.add(`${x}>${y}`);
  }

  heal(): void {
    this.#cut.clear();
  }

  /** Heals every partition, cancels every planned fault, and lands every write in flight. */
  stopFaults(): void {
    this.heal();
    this.#crashBeforeWrite.clear();
    this.dropIf = undefined;
    this.slowDisks = false;
    for (const id of this.upMembers()) while (this.completeWrite(id));
  }

  // ---- driving -----------------------------------------------------------------------------

  tick(id: NodeId): void {
    this.node(id).tick();
    this.process(id);
  }

  /** Ticks every member up `times` times, delivering everything in flight after each round. */
  run(times: number): void {
    for (let k = 0; k < times; k++) {
      for (const id of this.upMembers()) this.tick(id);
      this.deliverAll();
    }
  }

  /** Runs until `done` holds (checked after every round), failing after `ticksMax` rounds. */
  runUntil(done: () => boolean, ticksMax = 500): void {
    for (let k = 0; k < ticksMax; k++) {
      if (done()) return;
      this.run(1);
    }
    assert(done(), `condition not reached within ${ticksMax} ticks`);
  }

  /** Delivers messages in flight, and those they cause, until none is left. */
  deliverAll(roundsMax = 1000): void {
    for (let k = 0; k < roundsMax && this.inFlight.length > 0; k++) {
      const batch = this.inFlight;
      this.inFlight = [];
      for (const m of batch) this.deliver(m);
    }
  }

  deliver(m: ZabMessage): void {
    if (!this.isUp(m.to)) return;
    this.node(m.to).step(m);
    this.process(m.to);
  }

  /**
   * Makes the member lose power the next time it has a Ready: its `messages` leave (they may go
   * before the write), the write and everything after it never happen.
   */
  crashBeforeNextWrite(id: NodeId): void {
    this.#crashBeforeWrite.add(id);
  }

  /**
   * Drains a member's Readies the way a driver does: `messages` leave at once; the write, the
   * messages after it, applying and advance() follow at once, or, with slow disks, when
   * completeWrite() lands the write (the member meanwhile takes more input and more Readies).
   */
  process(id: NodeId): void {
    const node = this.node(id);
    while (node.hasReady()) {
      const ready = node.ready();
      for (const m of ready.messages) this.#send(m);
      if (this.#crashBeforeWrite.delete(id)) {
        this.crash(id);
        return;
      }
      // Writes land in order: behind one in flight, even a fast disk waits.
      const writing = this.#writing.get(id)!;
      if (this.slowDisks || writing.length > 0) writing.push(ready);
      else this.#complete(id, ready);
    }
    // A delivery anywhere may be one a leader lacks, so every established leader is checked.
    for (const member of this.upMembers()) {
      const problem =
        checkLeaderCompleteness(this.ledger, this.node(member)) ??
        checkOneLeaderPerEpoch(this.ledger, this.node(member));
      assert(problem === undefined, problem ?? "");
    }
  }

  /** Lands a member's oldest write in flight, if any. */
  completeWrite(id: NodeId): boolean {
    const ready = this.#writing.get(id)?.shift();
    if (ready === undefined || !this.isUp(id)) return false;
    this.#complete(id, ready);
    this.process(id);
    return true;
  }

  /** Members whose disks have writes in flight. */
  writing(): NodeId[] {
    return this.upMembers().filter((id) => this.#writing.get(id)!.length > 0);
  }

  #complete(id: NodeId, ready: ZabReady): void {
    const node = this.node(id);
    if (ready.mustSync) this.disks.set(id, applyWrite(this.disks.get(id)!, ready));
    else assert(ready.epochs === undefined && ready.history.entries.length === 0, "an unsynced write");
    for (const m of ready.messagesAfterPersist) this.#send(m);
    const delivered = this.delivered.get(id)!;
    const { currentEpoch } = node.status();
    for (const entry of ready.committedEntries) {
      const problem =
        checkDelivery(this.ledger, { entry, previous: delivered.at(-1), currentEpoch }) ??
        checkCommittedDurable(entry, this.disks.values(), this.#quorum);
      assert(problem === undefined, `member ${id}: ${problem}`);
      delivered.push(entry);
    }
    for (const read of ready.readStates) {
      this.reads.get(id)!.push(read);
      this.onRead?.(id, read);
    }
    node.advance(ready);
  }

  /** Proposes on the current leader and returns the index it will commit at. */
  propose(data: Uint8Array): number {
    const leader = this.leader();
    assert(leader !== undefined, "no leader to propose to");
    const result = this.node(leader).propose(data);
    assert(result.ok, `proposal refused: ${JSON.stringify(result)}`);
    this.process(leader);
    return result.index;
  }

  /** Whether every member up has delivered through `index`. */
  allDelivered(index: number): boolean {
    return this.upMembers().every((id) => (this.delivered.get(id)!.at(-1)?.index ?? 0) >= index);
  }

  #start(id: NodeId): void {
    const options: ZabOptions = {
      checkInvariants: true,
      ...this.#options.zab,
      id,
      members: this.members,
      random: this.#random.fork(),
    };
    this.delivered.set(id, []);
    this.reads.set(id, []);
    this.#writing.set(id, []);
    this.#nodes.set(id, new ZabNode(options, this.disks.get(id)));
    this.process(id);
  }

  #send(m: ZabMessage): void {
    // Whatever a message promises must be on the sender's disk when it leaves.
    const problem = checkAcknowledgedDurable(this.disks.get(m.from)!, m);
    assert(problem === undefined, `member ${m.from}: ${problem}`);
    this.messagesSent++;
    this.watch?.(m);
    const bytes = encodeZabMessage(m);
    const decoded = decodeZabMessage(bytes);
    assert(decoded.ok, `a message the codec rejects: ${decoded.ok ? "" : decoded.error}`);
    if (this.#cut.has(`${m.from}>${m.to}`) || this.dropIf?.(m) === true) return;
    this.inFlight.push(decoded.message);
  }
}
