import { assert } from "../../util/assert.js";
import { bytesEqual, fromUtf8 } from "../../util/bytes.js";
import { nodeId, type NodeId } from "../../util/ids.js";
import { Prng } from "../../util/prng.js";
import type { RegisterRecord } from "./acceptor.js";
import { formatBallot } from "./ballot.js";
import type { Message, RegisterName } from "./messages.js";
import { BasicPaxos, type DurableState, type Ready } from "./node.js";
import type { BasicPaxosOptions } from "./options.js";
import type { RequestResult } from "./state.js";

/**
 * A cluster of real BasicPaxos members over a network the test controls message by message, each with
 * a "disk" holding exactly what its Readies asked to persist (a restart sees nothing else). It also
 * keeps the safety record the members cannot see: every acceptance that reached a disk, from which it
 * derives when each register was first decided (a quorum durably accepting one ballot).
 */
export class Cluster {
  readonly ids: readonly NodeId[];
  /** In flight, in send order; tests pick, drop or duplicate any of them. */
  readonly network: Message[] = [];
  readonly results = new Map<NodeId, RequestResult[]>();
  /** Step count, advanced by `clockTick`, at which each register was first decided, and the value. */
  readonly decided = new Map<RegisterName, { readonly value: Uint8Array; readonly at: number }>();
  now = 0;
  readonly #members = new Map<NodeId, BasicPaxos | undefined>();
  readonly #disks = new Map<NodeId, { round: number; records: Map<RegisterName, RegisterRecord> }>();
  /** register → "round.proposer" → acceptors that durably accepted that ballot, and its value. */
  readonly #acceptances = new Map<RegisterName, Map<string, { value: Uint8Array; by: Set<NodeId> }>>();
  readonly #options: Omit<BasicPaxosOptions, "id" | "acceptors" | "random">;
  readonly #seed: number;

  constructor(size: number, options: Omit<BasicPaxosOptions, "id" | "acceptors" | "random"> = {}, seed = 1) {
    this.ids = Array.from({ length: size }, (_, i) => nodeId(i + 1));
    this.#options = options;
    this.#seed = seed;
    for (const id of this.ids) {
      this.#disks.set(id, { round: 0, records: new Map() });
      this.results.set(id, []);
      this.#start(id);
    }
  }

  member(id: NodeId): BasicPaxos {
    const m = this.#members.get(id);
    assert(m !== undefined, `member ${id} is down`);
    return m;
  }

  isUp(id: NodeId): boolean {
    return this.#members.get(id) !== undefined;
  }

  /** Carries out every Ready the member has, as a driver would: persist, send, answer, advance. */
  run(id: NodeId): void {
    const m = this.member(id);
    while (m.hasReady()) m.advance(this.#carryOut(id, m.ready()));
  }

  /** Gives `id` an input that leaves work, then crashes it once that work is on disk and sent, before advance(). */
  crashMidReady(id: NodeId, input: (m: BasicPaxos) => void): void {
    const m = this.member(id);
    input(m);
    if (m.hasReady()) this.#carryOut(id, m.ready());
    this.crash(id);
  }

  #carryOut(id: NodeId, ready: Ready): Ready {
    const disk = this.#disks.get(id)!;
    if (ready.round !== undefined) {
      assert(ready.round > disk.round, "a persisted round only grows");
      disk.round = ready.round;
    }
    for (const record of ready.records) {
      disk.records.set(record.register, record);
      this.#noteAcceptance(id, record);
    }
    this.network.push(...ready.messages);
    this.results.get(id)!.push(...ready.results);
    return ready;
  }

  /** Delivers the in-flight message at `index` (removing it) and runs its recipient; a down one loses it. */
  deliverAt(index: number): void {
    const [m] = this.network.splice(index, 1);
    assert(m !== undefined, `no message at ${index}`);
    if (!this.isUp(m.to)) return;
    this.member(m.to).step(m);
    this.run(m.to);
  }

  /** Delivers, in order, every in-flight message matching `which`; returns how many. */
  deliver(which: (m: Message) => boolean): number {
    let count = 0;
    for (let i = 0; i < this.network.length;) {
      if (which(this.network[i]!)) {
        this.deliverAt(i);
        count++;
      } else i++;
    }
    return count;
  }

  drop(which: (m: Message) => boolean): number {
    const before = this.network.length;
    const kept = this.network.filter((m) => !which(m));
    this.network.splice(0, this.network.length, ...kept);
    return before - kept.length;
  }

  /** Delivers until the network is empty (messages sent meanwhile included). */
  settle(): void {
    while (this.network.length > 0) this.deliverAt(0);
  }

  tick(id: NodeId): void {
    this.member(id).tick();
    this.run(id);
  }

  crash(id: NodeId): void {
    this.#members.set(id, undefined);
  }

  restart(id: NodeId): void {
    assert(!this.isUp(id), `member ${id} is already up`);
    this.#start(id);
  }

  /** Moves the test's own clock, against which decisions and requests are placed in time. */
  clockTick(): void {
    this.now++;
  }

  outcomeOf(id: NodeId, request: number): RequestResult | undefined {
    return this.results.get(id)!.find((r) => r.request === request);
  }

  /** Every member's learned values agree with the one decision the acceptances show. */
  checkLearners(): void {
    for (const [id, disk] of this.#disks) {
      for (const record of disk.records.values()) {
        if (record.chosen === undefined) continue;
        const decision = this.decided.get(record.register);
        assert(decision !== undefined, `member ${id} learned ${record.register} before any quorum accepted`);
        assert(bytesEqual(decision.value, record.chosen), `member ${id} learned another value`);
      }
    }
  }

  #start(id: NodeId): void {
    const disk = this.#disks.get(id)!;
    const durable: DurableState = { round: disk.round, records: [...disk.records.values()] };
    const random = new Prng(this.#seed * 1000 + id + this.now * 7919);
    this.#members.set(
      id,
      new BasicPaxos({ ...this.#options, id, acceptors: this.ids, random, checkInvariants: true }, durable),
    );
  }

  /** The safety property itself: no two ballots accepted by quorums carry different values. */
  #noteAcceptance(id: NodeId, record: RegisterRecord): void {
    const { accepted, register } = record;
    if (accepted === undefined) return;
    const ballots = this.#acceptances.get(register) ?? new Map<string, { value: Uint8Array; by: Set<NodeId> }>();
    this.#acceptances.set(register, ballots);
    const key = formatBallot(accepted.ballot);
    const entry = ballots.get(key) ?? { value: accepted.value, by: new Set<NodeId>() };
    ballots.set(key, entry);
    assert(bytesEqual(entry.value, accepted.value), `ballot ${key} carried two values for ${register}`);
    entry.by.add(id);
    if (entry.by.size < Math.floor(this.ids.length / 2) + 1) return;
    const decision = this.decided.get(register);
    if (decision === undefined) this.decided.set(register, { value: accepted.value, at: this.now });
    else {
      const [was, now] = [fromUtf8(decision.value), fromUtf8(accepted.value)];
      assert(bytesEqual(decision.value, accepted.value), `${register} decided as ${was}, then ${now} (${key})`);
    }
  }
}
