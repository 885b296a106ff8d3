import { assert } from "../../util/assert.js";
import { nodeId, type NodeId } from "../../util/ids.js";
import { Prng } from "../../util/prng.js";
import { recordKey, type InstanceRecord } from "./acceptor.js";
import type { Instance, Message, RegisterName } from "./messages.js";
import { BasicPaxos, type DurableState, type Ready } from "./node.js";
import type { BasicPaxosOptions } from "./options.js";
import { ZERO_BALLOT, type Ballot } from "./ballot.js";
import { checkAcceptorReplies, checkRecordStep, ChosenLedger, type BasicPaxosViolation } from "./safety.js";
import type { RequestResult } from "./state.js";

type ClusterOptions = Omit<BasicPaxosOptions, "id" | "acceptors" | "random">;

/**
 * A cluster of real BasicPaxos members over a network the caller (a test, the sweep) controls message by message, each with
 * a "disk" holding exactly what its Readies asked to persist (a restart sees nothing else). Every
 * persist goes through safety.ts's checks (promises kept, at most one value chosen per instance,
 * learners learn only what was chosen, no version holes), which throw on the first violation; the
 * cluster also notes when each instance was first chosen, for the tests' linearizability checks.
 */
export class Cluster {
  readonly ids: readonly NodeId[];
  /** In flight, in send order; tests pick, drop or duplicate any of them. */
  readonly network: Message[] = [];
  readonly results = new Map<NodeId, RequestResult[]>();
  readonly ledger: ChosenLedger;
  now = 0;
  readonly #members = new Map<NodeId, BasicPaxos | undefined>();
  readonly #disks = new Map<NodeId, { round: number; records: Map<string, InstanceRecord> }>();
  /** recordKey → the step count, advanced by `clockTick`, at which the instance was first chosen. */
  readonly #chosenAt = new Map<string, number>();
  readonly #options: ClusterOptions;
  readonly #seed: number;

  /** `rounds` gives members a durable round to start from (the articles' proposals are numbered 3.1 and 4.5). */
  constructor(size: number, options: ClusterOptions = {}, seed = 1, rounds: readonly number[] = []) {
    this.ids = Array.from({ length: size }, (_, i) => nodeId(i + 1));
    this.ledger = new ChosenLedger(size);
    this.#options = options;
    this.#seed = seed;
    for (const [i, id] of this.ids.entries()) {
      this.#disks.set(id, { round: rounds[i] ?? 0, records: new Map() });
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
    const promisedBefore = (register: RegisterName, instance: Instance): Ballot =>
      disk.records.get(recordKey(register, instance))?.promised ?? ZERO_BALLOT;
    const violations: BasicPaxosViolation[] = checkAcceptorReplies(id, promisedBefore, ready.messages);
    for (const record of ready.records) {
      const key = recordKey(record.register, record.instance);
      violations.push(...checkRecordStep(id, disk.records.get(key), record));
      disk.records.set(key, record);
    }
    violations.push(...this.ledger.observe(id, ready.records));
    assert(violations.length === 0, violations.map((v) => `${v.kind}: ${v.message}`).join("; "));
    for (const record of ready.records) {
      const key = recordKey(record.register, record.instance);
      if (!this.#chosenAt.has(key) && this.ledger.chosen(record.register, record.instance) !== undefined) {
        this.#chosenAt.set(key, this.now);
      }
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

  /** The step at which `instance` of `register` was first chosen, if it was. */
  chosenAt(register: RegisterName, instance: Instance): number | undefined {
    return this.#chosenAt.get(recordKey(register, instance));
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
}
