import { assert, assertNever } from "../../util/assert.js";
import type { NodeId } from "../../util/ids.js";
import { receiveAccept, receivePrepare, type RegisterRecord } from "./acceptor.js";
import { checkAllInvariants, checkChangedInvariants } from "./invariants.js";
import { ballotOf, type Message, type RegisterName } from "./messages.js";
import { resolveOptions, type BasicPaxosOptions } from "./options.js";
import { learn, receiveAccepted, receiveNack, receivePromise, submit, tickProposals } from "./proposer.js";
import { putRecord, recordOf, type PaxosState, type RequestId, type RequestResult } from "./state.js";

/** What a member must find on disk after a restart: its highest round and its register records. */
export interface DurableState {
  readonly round: number;
  readonly records: readonly RegisterRecord[];
}

/**
 * The work a member asks its driver to do, in this order:
 * 1. persist `round` (if present) and `records` (each replaces the stored record of its register),
 *    with one durability barrier for all of them (`mustSync`);
 * 2. send `messages`: promises and acceptances in them rely on step 1, and so does every ballot;
 * 3. answer `results`;
 * 4. call `advance(ready)`, which also delivers what this member sent itself.
 */
export interface Ready {
  readonly round: number | undefined;
  readonly records: readonly RegisterRecord[];
  readonly messages: readonly Message[];
  readonly results: readonly RequestResult[];
  readonly mustSync: boolean;
}

export type SubmitResult =
  { readonly ok: true } | { readonly ok: false; readonly error: "tooManyPending" | "valueTooLarge" };

export type StepResult = { readonly ok: true } | { readonly ok: false; readonly reason: "notForMe" | "notAcceptor" };

export interface Status {
  readonly id: NodeId;
  readonly round: number;
  readonly registersKnown: number;
  readonly proposalsPending: number;
  readonly requestsPending: number;
}

/**
 * One Basic Paxos member (proposer, acceptor if listed among the acceptors, and learner) for any number
 * of independent write-once registers. Pure: time arrives as tick(), randomness through the options,
 * and the work comes back as data from ready(); it performs no I/O.
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
    this.#s = {
      id: resolved.id,
      options: resolved,
      acceptors,
      quorum: Math.floor(acceptors.size / 2) + 1,
      round: durable?.round ?? 0,
      // A restarted member starts above what its own acceptor promised, instead of learning it from a nack.
      roundSeen: (durable?.records ?? []).reduce((high, r) => Math.max(high, r.promised.round), 0),
      records: new Map((durable?.records ?? []).map((r) => [r.register, r])),
      recordsChanged: new Set(),
      proposals: new Map(),
      requestsPending: 0,
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
   * Asks for `value` to become the register's decided value. The result for `request` names the value
   * decided, which is this one only if no other write got there first.
   */
  propose(register: RegisterName, value: Uint8Array, request: RequestId): SubmitResult {
    if (value.byteLength > this.#s.options.valueBytesMax) return { ok: false, error: "valueTooLarge" };
    return this.#submit(register, request, value);
  }

  /**
   * A linearizable read: a register not yet decided here costs a round, which completes any value it
   * finds accepted (so the answer stays true) or, finding none, answers "empty".
   */
  read(register: RegisterName, request: RequestId): SubmitResult {
    return this.#submit(register, request, undefined);
  }

  /** The decided value as this member has learned it; undefined may mean decided elsewhere. */
  chosen(register: RegisterName): Uint8Array | undefined {
    return this.#s.records.get(register)?.chosen;
  }

  status(): Status {
    const s = this.#s;
    return {
      id: s.id,
      round: s.round,
      registersKnown: s.records.size,
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
    const records = [...s.recordsChanged].map((register) => recordOf(s, register));
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

  #submit(register: RegisterName, request: RequestId, value: Uint8Array | undefined): SubmitResult {
    const s = this.#s;
    if (s.requestsPending >= s.options.requestsPendingMax) return { ok: false, error: "tooManyPending" };
    submit(s, register, { id: request, value });
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
        const record = recordOf(s, m.register);
        const next = m.type === "prepare" ? receivePrepare(record, m) : receiveAccept(record, m);
        putRecord(s, next.record);
        s.outbox.push(next.reply);
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
        learn(s, m.register, m.value);
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
