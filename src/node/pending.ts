import { sameTag, type EngineTag } from "../engine/engine.js";
import type { LogIndex } from "../util/ids.js";
import type { Clock, Timer } from "./clock.js";
import { NodeRequestError, type NodeError } from "./errors.js";

interface Waiter<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: NodeRequestError) => void;
}

/** Promises keyed by `Key`, each with `Extra` data and a timer that fails it as "timeout". */
class TimedWaiters<Key, Extra> {
  readonly #byKey = new Map<Key, Waiter<unknown> & { readonly extra: Extra; readonly timer: Timer }>();
  readonly #clock: Clock;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#byKey.size;
  }

  add(key: Key, extra: Extra, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = this.#clock.after(timeoutMs, () => this.fail(key, { type: "timeout" }));
      this.#byKey.set(key, { extra, resolve, reject, timer });
    });
  }

  extra(key: Key): Extra | undefined {
    return this.#byKey.get(key)?.extra;
  }

  resolve(key: Key, value: unknown): void {
    const waiter = this.#byKey.get(key);
    if (waiter === undefined) return;
    waiter.timer.cancel();
    this.#byKey.delete(key);
    waiter.resolve(value);
  }

  fail(key: Key, error: NodeError): void {
    const waiter = this.#byKey.get(key);
    if (waiter === undefined) return;
    waiter.timer.cancel();
    this.#byKey.delete(key);
    waiter.reject(new NodeRequestError(error));
  }

  failWhere(matches: (key: Key) => boolean, error: NodeError): void {
    for (const key of [...this.#byKey.keys()]) if (matches(key)) this.fail(key, error);
  }
}

/**
 * Proposals this leader appended, keyed by log index, until that index is applied: with the
 * proposal's tag (Raft: its term) the command was applied; with another it definitely was not.
 */
export class PendingProposals {
  readonly #waiters: TimedWaiters<number, EngineTag>;

  constructor(clock: Clock) {
    this.#waiters = new TimedWaiters(clock);
  }

  get size(): number {
    return this.#waiters.size;
  }

  add(index: LogIndex, tag: EngineTag, timeoutMs: number): Promise<unknown> {
    return this.#waiters.add(index, tag, timeoutMs);
  }

  /** The entry at `index` was applied (with `result` if it was a command). */
  applied(index: LogIndex, tag: EngineTag, result: unknown): void {
    const proposed = this.#waiters.extra(index);
    if (proposed === undefined) return;
    if (sameTag(proposed, tag)) this.#waiters.resolve(index, result);
    else this.#waiters.fail(index, { type: "notApplied" });
  }

  /** A snapshot replaced everything through `index`: whether those proposals applied is unknown. */
  coveredBySnapshot(index: LogIndex): void {
    this.#waiters.failWhere((key) => key <= index, { type: "timeout" });
  }

  failAll(error: NodeError): void {
    this.#waiters.failWhere(() => true, error);
  }
}

/**
 * Proposals this member forwarded to the leader, keyed by their sequence number, until it applies
 * them. A forwarded proposal that never comes back (the leader dropped it, or lost leadership) is
 * not known to have failed: it times out, outcome unknown.
 */
export class ForwardedProposals {
  readonly #waiters: TimedWaiters<number, undefined>;
  #nextSeq = 0;

  constructor(clock: Clock) {
    this.#waiters = new TimedWaiters(clock);
  }

  get size(): number {
    return this.#waiters.size;
  }

  /** A new sequence number, and the promise of its result. */
  add(timeoutMs: number): { seq: number; result: Promise<unknown> } {
    const seq = this.reserve();
    return { seq, result: this.#waiters.add(seq, undefined, timeoutMs) };
  }

  /**
   * A sequence number no forwarded proposal of this run uses, for a proposal made on the leader
   * that needs unique bytes too (its waiter is in PendingProposals): applying it settles nothing here.
   */
  reserve(): number {
    const seq = this.#nextSeq;
    this.#nextSeq = (this.#nextSeq + 1) >>> 0;
    return seq;
  }

  applied(seq: number, result: unknown): void {
    this.#waiters.resolve(seq, result);
  }

  fail(seq: number, error: NodeError): void {
    this.#waiters.fail(seq, error);
  }

  failAll(error: NodeError): void {
    this.#waiters.failWhere(() => true, error);
  }
}

/** Reads waiting for the state machine to reach an index. */
export class AppliedWaiters {
  #waiting: (Waiter<void> & { readonly index: number })[] = [];

  waitFor(index: number, applied: number): Promise<void> {
    if (index <= applied) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiting.push({ index, resolve, reject }));
  }

  appliedTo(applied: number): void {
    if (this.#waiting.length === 0) return;
    const ready = this.#waiting.filter((w) => w.index <= applied);
    this.#waiting = this.#waiting.filter((w) => w.index > applied);
    for (const w of ready) w.resolve();
  }

  failAll(error: NodeError): void {
    const all = this.#waiting;
    this.#waiting = [];
    for (const w of all) w.reject(new NodeRequestError(error));
  }
}
