// The register service (Basic Paxos) in the simulator, for the comparison: each member is the real
// RegisterMember over the real RegisterStorage (its WAL journal) on a SimDisk, sending the real frames
// through SimTransport over a SimNetwork, all in one World's virtual time, as the KV engines run in
// SimCluster. Before each Ready is persisted its acceptor replies and records pass Basic Paxos's
// safety checks (promises kept, at most one value chosen per instance: paxos/basic/safety.ts).
import { BasicPaxos, ChosenLedger, checkRecordStep, ZERO_BALLOT } from "../../dist/paxos/basic/index.js";
import { recordKey } from "../../dist/paxos/basic/acceptor.js";
import { checkAcceptorReplies } from "../../dist/paxos/basic/safety.js";
import { RegisterMember } from "../../dist/registers/member.js";
import { basicPaxosWire } from "../../dist/registers/wire.js";
import { RegisterStorage } from "../../dist/registers/storage.js";
import { SimDisk } from "../../dist/sim/disk/sim_disk.js";
import { SimNetwork } from "../../dist/sim/network.js";
import { SimTransport } from "../../dist/sim/sim_transport.js";
import { nextTurn } from "../../dist/sim/turn.js";
import { World } from "../../dist/sim/world.js";
import { decodeWireMessage } from "../../dist/transport/index.js";
import { nodeId } from "../../dist/util/ids.js";
import { Prng } from "../../dist/util/prng.js";
import { steadyNetwork } from "./sim_world.mjs";

// The CLI's defaults (raftkv serve --engine basic-paxos): a phase gives up after 200 ms.
const tickMs = 10;
const phaseTicks = 20;
const backoffTicksMin = 5;
// The member's own request timeout runs on the process's clock, not the simulator's: it must never
// fire here. Clients bound their waits in virtual time instead (`request`'s timeoutMs).
const neverMs = 2 ** 31 - 1;

export class RegisterSim {
  world = new World();
  messagesDelivered = 0;
  /** The first safety violation of each member's Readies, as lines; the run stops at the first. */
  violations = [];
  ledger;
  network;
  ids;
  #members = new Map();

  /** `delayMs`: every message's one-way delay; `syncMs`: every fdatasync's. */
  constructor({ seed, nodeCount = 3, delayMs, syncMs }) {
    const prng = new Prng(seed);
    this.network = new SimNetwork(prng.fork(), steadyNetwork(delayMs));
    this.ids = Array.from({ length: nodeCount }, (_, i) => nodeId(i + 1));
    this.ledger = new ChosenLedger(nodeCount);
    for (const id of this.ids) {
      const disk = new SimDisk({
        seed: prng.nextUint32(),
        tornWriteProbability: 0,
        latency: (op) => (op === "datasync" ? this.sleep(syncMs) : undefined),
      });
      this.#members.set(id, { id, disk, prng: prng.fork(), member: undefined, transport: undefined });
    }
  }

  get now() {
    return this.world.now;
  }

  sleep(ms) {
    return new Promise((resolve) => this.world.at(this.world.now + ms, resolve));
  }

  /** fdatasyncs so far, over every member's disk (the journal's durable writes included). */
  syncs() {
    return [...this.#members.values()].reduce((sum, m) => sum + m.disk.stats.syncs, 0);
  }

  syncsOf(id) {
    return this.#members.get(id).disk.stats.syncs;
  }

  /** Opens every member's journal and starts its ticker, each within one tick of the others. */
  async start() {
    const names = Object.fromEntries(this.ids.map((id) => [`n${id}`, id]));
    const opened = this.ids.map((id) => this.#open(this.#members.get(id), names));
    let ready = false;
    let failure;
    Promise.all(opened).then(
      () => (ready = true),
      (error) => (failure = error),
    );
    await this.runUntil(this.now + 1000, () => ready || failure !== undefined);
    if (failure !== undefined) throw failure;
    if (!ready) throw new Error("the register members' journals did not open within 1 s of virtual time");
    for (const m of this.#members.values()) {
      const tick = () => {
        m.member.tick();
        this.world.at(this.world.now + tickMs, tick, m.id);
      };
      this.world.at(this.world.now + m.prng.next() * tickMs, tick, m.id);
    }
  }

  async #open(m, names) {
    const { storage, durable } = await RegisterStorage.open(m.disk, `/n${m.id}`, names);
    const core = new BasicPaxos(
      { id: m.id, acceptors: this.ids, random: m.prng.fork(), phaseTicks, backoffTicksMin, checkInvariants: true },
      durable,
    );
    m.transport = new SimTransport({
      id: m.id,
      world: this.world,
      network: this.network,
      hooks: { sent: () => {}, arrived: (to, bytes) => this.#arrived(to, bytes) },
      peers: new Map(this.ids.filter((id) => id !== m.id).map((id) => [id, { host: `n${id}.sim`, port: 7000 }])),
      onMessage: (message) => m.member.step(message),
      wire: basicPaxosWire,
      staleable: () => false,
    });
    m.member = new RegisterMember({
      core,
      storage: this.#checked(m.id, storage),
      send: (messages) => m.transport.send(messages),
      onFatal: (error) => this.violations.push(`n${m.id} stopped: ${error}`),
    });
  }

  /** The real storage, behind the safety checks of what each Ready persists and replies. */
  #checked(id, storage) {
    const durable = new Map();
    return {
      persist: (ready) => {
        const promised = (register, instance) => durable.get(recordKey(register, instance))?.promised ?? ZERO_BALLOT;
        const found = checkAcceptorReplies(id, promised, ready.messages);
        for (const record of ready.records) {
          const key = recordKey(record.register, record.instance);
          found.push(...checkRecordStep(id, durable.get(key), record));
          durable.set(key, record);
        }
        found.push(...this.ledger.observe(id, ready.records));
        for (const v of found) this.violations.push(`n${id} ${v.kind}: ${v.message} at t=${this.now}`);
        return storage.persist(ready);
      },
      close: () => storage.close(),
    };
  }

  #arrived(to, bytes) {
    const m = this.#members.get(to);
    const decoded = decodeWireMessage(basicPaxosWire, bytes);
    if (!decoded.ok) {
      this.violations.push(`n${to} could not decode a message the codec encoded: ${decoded.error}`);
      return;
    }
    this.messagesDelivered++;
    m.transport.deliver(decoded.message, { host: `n${decoded.message.from}.sim`, port: 7000 });
  }

  /**
   * A compare-and-set (`op.cas` = { expected, value }) or a read of `op.register` at member `id`:
   * resolves with the member's answer, or { type: "timeout" } after `timeoutMs` of virtual time (the
   * member keeps the request; its round may still decide).
   */
  request(id, op, timeoutMs = neverMs) {
    const member = this.#members.get(id).member;
    const answer =
      op.cas === undefined
        ? member.read(op.register, neverMs)
        : member.cas(op.register, op.cas.expected, op.cas.value, neverMs);
    if (timeoutMs === neverMs) return answer;
    return Promise.race([answer, this.sleep(timeoutMs).then(() => ({ type: "timeout" }))]);
  }

  /** The highest version member `id` has learned of a register: a lower bound, as a client's guess. */
  latestKnown(id, register) {
    return this.#members.get(id).member.core.latestKnown(register).version;
  }

  /** Runs virtual time until `until`, or until `stop()` holds once an instant is over. */
  async runUntil(until, stop) {
    while (this.violations.length === 0) {
      const stepped = this.world.step(until);
      await nextTurn();
      if (!this.world.hasDue(this.world.now) && stop?.() === true) return;
      if (!stepped && !this.world.hasDue(until)) break;
    }
    if (this.violations.length === 0) this.world.now = Math.max(this.world.now, until);
  }

  /** Answers what still waits "stopped", which also clears the members' timers. */
  stop() {
    for (const m of this.#members.values()) m.member?.stop();
  }
}
