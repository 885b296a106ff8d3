import { assert, assertNever } from "../../util/assert.js";
import type { NodeId } from "../../util/ids.js";
import { receiveAccept, receivePrepare, recordKey, type InstanceRecord } from "./acceptor.js";
import { checkAllInvariants, checkChangedInvariants } from "./invariants.js";
import { ballotOf, isRegisterName, type Instance, type Message, type RegisterName } from "./messages.js";
import { resolveOptions, type BasicPaxosOptions } from "./options.js";
import { learn, receiveAccepted, receiveNack, receivePromise, submit, tickProposals } from "./proposer.js";
import {
  chosenAt,
  latestOf,
  putRecord,
  recordOf,
  type PaxosState,
  type Request,
  type RequestId,
  type RequestResult,
} from "./state.js";

/**
 * What a member must find on disk after a restart: its highest round and one record per instance it
 * has touched (the latest version of each record: a record replaces the stored one of its instance).
 * Records are never dropped, so they grow by one per version of each register. Compaction is
 * optional and not done: it would keep per register a floor below which every instance is decided,
 * and answer a round on a compacted instance with "decided, look further". Simply forgetting a
 * decided instance would not do: a member with a stale view could then find a quorum reporting
 * nothing accepted there and choose a second value.
 */
export interface DurableState {
  readonly round: number;
  readonly records: readonly InstanceRecord[];
}

/**
 * The work a member asks its driver to do, in this order:
 * 1. persist `round` (if present) and `records` (each replaces the stored record of its instance),
 *    with one durability barrier for all of them (`mustSync`);
 * 2. send `messages`: promises and acceptances in them rely on step 1, and so does every ballot;
 * 3. answer `results`;
 * 4. call `advance(ready)`, which also delivers what this member sent itself.
 */
export interface Ready {
  readonly round: number | undefined;
  readonly records: readonly InstanceRecord[];
  readonly messages: readonly Message[];
  readonly results: readonly RequestResult[];
  readonly mustSync: boolean;
}

/**
 * Refusals: too many requests waiting, a value above valueBytesMax, a register name that is not a
 * binary string of at most REGISTER_NAME_BYTES_MAX code units, or an expected version that is not a
 * non-negative safe integer below 2^53 − 1.
 */
export type SubmitResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: "tooManyPending" | "valueTooLarge" | "badRegister" | "badVersion" };

export type StepResult = { readonly ok: true } | { readonly ok: false; readonly reason: "notForMe" | "notAcceptor" };

export interface Status {
  readonly id: NodeId;
  readonly round: number;
  /** Instances this member holds a record of. */
  readonly instancesKnown: number;
  readonly proposalsPending: number;
  readonly requestsPending: number;
}

/**
 * One Basic Paxos member (proposer, acceptor if listed among the acceptors, and learner) for any number
 * of independent compare-and-set registers, each a sequence of single-decree instances (proposer.ts).
 * Pure: time arrives as tick(), randomness through the options, and the work comes back as data from
 * ready(); it performs no I/O.
 */
export class BasicPaxos {
  readonly #s: PaxosState;
  #persistedRound: number;
  /** Messages to itself from the Ready handed out: they may act on its state only once that is durable. */
  #loopback: readonly Message[] | undefined;
  readonly #checkInvariants: boolean;

  constructor(options: BasicPaxosOptions & { checkInvariants?: boolean }, durable?: DurableState) {
    const resolved = resolveOptions(options);
    const acceptors = new Set(resolved.acceptors);
    const records = durable?.records ?? [];
    const latest = new Map<RegisterName, Instance>();
    for (const r of records) {
      if (r.chosen !== undefined && r.instance > (latest.get(r.register) ?? 0)) latest.set(r.register, r.instance);
    }
    this.#s = {
      id: resolved.id,
      options: resolved,
      acceptors,
      quorum: Math.floor(acceptors.size / 2) + 1,
      round: durable?.round ?? 0,
      // A restarted member starts above what its own acceptor promised, instead of learning it from a nack.
      roundSeen: records.reduce((high, r) => Math.max(high, r.promised.round), 0),
      records: new Map(records.map((r) => [recordKey(r.register, r.instance), r])),
      latest,
      recordsChanged: new Map(),
      recordsUnchecked: new Map(),
      proposals: new Map(),
      requestsPending: 0,
      requestSerial: 0,
      outbox: [],
      results: [],
    };
    this.#persistedRound = this.#s.round;
    this.#checkInvariants = options.checkInvariants ?? false;
  }

  get id(): NodeId {
    return this.#s.id;
  }

  tick(): void {
    tickProposals(this.#s);
    this.#afterInput();
  }

  /** Feeds one message from a peer. A stale or misaddressed message is dropped, never thrown. */
  step(m: Message): StepResult {
    if (m.to !== this.#s.id || m.from === this.#s.id) return { ok: false, reason: "notForMe" };
    const result = this.#deliver(m);
    this.#afterInput();
    return result;
  }

  /**
   * Compare-and-set: asks for `value` to become version `expected` + 1 of the register. The result is
   * "written" if it did, or "conflict" with a version the register reached that shows `expected` was
   * not current (see Outcome). Write-once is cas(register, 0, value). Success is judged by the bytes
   * decided, so a retried compare-and-set that took effect reports "written"; writers that must be
   * told apart write distinct values.
   */
  cas(register: RegisterName, expected: Instance, value: Uint8Array, request: RequestId): SubmitResult {
    if (value.byteLength > this.#s.options.valueBytesMax) return { ok: false, error: "valueTooLarge" };
    if (!(Number.isSafeInteger(expected) && expected >= 0 && expected < Number.MAX_SAFE_INTEGER)) {
      return { ok: false, error: "badVersion" };
    }
    return this.#submit(register, (serial) => ({ kind: "cas", id: request, serial, expected, value }));
  }

  /**
   * A linearizable read of the latest version and its value. It costs at least one round even when
   * this member has learned decisions, since a later version may have been decided elsewhere.
   */
  read(register: RegisterName, request: RequestId): SubmitResult {
    return this.#submit(register, (serial) => ({ kind: "read", id: request, serial }));
  }

  /** The value decided in `instance` as this member has learned it; undefined may mean decided elsewhere. */
  chosen(register: RegisterName, instance: Instance): Uint8Array | undefined {
    return chosenAt(this.#s, register, instance);
  }

  /** The highest version this member has learned, and its value: a lower bound, not a linearizable read. */
  latestKnown(register: RegisterName): { readonly version: Instance; readonly value: Uint8Array | undefined } {
    const version = latestOf(this.#s, register);
    return { version, value: chosenAt(this.#s, register, version) };
  }

  status(): Status {
    const s = this.#s;
    return {
      id: s.id,
      round: s.round,
      instancesKnown: s.records.size,
      proposalsPending: s.proposals.size,
      requestsPending: s.requestsPending,
    };
  }

  hasReady(): boolean {
    const s = this.#s;
    return s.outbox.length > 0 || s.results.length > 0 || s.recordsChanged.size > 0 || s.round !== this.#persistedRound;
  }

  ready(): Ready {
    assert(this.#loopback === undefined, "ready() again before advance()");
    const s = this.#s;
    const records = [...s.recordsChanged.values()];
    const round = s.round !== this.#persistedRound ? s.round : undefined;
    const outbox = s.outbox.splice(0);
    this.#loopback = outbox.filter((m) => m.to === s.id);
    s.recordsChanged.clear();
    return {
      round,
      records,
      messages: outbox.filter((m) => m.to !== s.id),
      results: s.results.splice(0),
      mustSync: round !== undefined || records.length > 0,
    };
  }

  /** Acknowledges that `ready` was carried out; then delivers what this member sent itself in it. */
  advance(ready: Ready): void {
    const loopback = this.#loopback;
    assert(loopback !== undefined, "advance() without ready()");
    this.#loopback = undefined;
    if (ready.round !== undefined) this.#persistedRound = ready.round;
    for (const m of loopback) this.#deliver(m);
    this.#afterInput();
  }

  #submit(register: RegisterName, request: (serial: number) => Request): SubmitResult {
    const s = this.#s;
    if (!isRegisterName(register)) return { ok: false, error: "badRegister" };
    if (s.requestsPending >= s.options.requestsPendingMax) return { ok: false, error: "tooManyPending" };
    submit(s, register, request(s.requestSerial++));
    this.#afterInput();
    return { ok: true };
  }

  #deliver(m: Message): StepResult {
    const s = this.#s;
    const ballot = ballotOf(m);
    if (ballot !== undefined) s.roundSeen = Math.max(s.roundSeen, ballot.round);
    switch (m.type) {
      case "prepare":
      case "accept": {
        if (!s.acceptors.has(s.id)) return { ok: false, reason: "notAcceptor" };
        const record = recordOf(s, m.register, m.instance);
        const next = m.type === "prepare" ? receivePrepare(record, m) : receiveAccept(record, m);
        putRecord(s, next.record);
        if (next.reply !== undefined) s.outbox.push(next.reply);
        break;
      }
      case "promise":
        receivePromise(s, m);
        break;
      case "accepted":
        receiveAccepted(s, m);
        break;
      case "nack":
        receiveNack(s, m);
        break;
      case "chosen":
        learn(s, m.register, m.instance, m.value);
        break;
      default:
        assertNever(m, "message");
    }
    return { ok: true };
  }

  #afterInput(): void {
    if (this.#checkInvariants) checkAllInvariants(this.#s);
    else checkChangedInvariants(this.#s);
  }
}
