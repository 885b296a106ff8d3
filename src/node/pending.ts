import type { LogIndex, Term } from "../util/ids.js";
import { NodeRequestError, type NodeError } from "./errors.js";

interface Waiter<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (error: NodeRequestError) => void;
}

/**
 * Proposals this leader appended, keyed by log index, until that index is applied: with the
 * proposal's term the command was applied; with another term it definitely was not.
 */
export class PendingProposals {
  readonly #byIndex = new Map<number, Waiter<unknown> & { readonly term: Term; readonly timer: NodeJS.Timeout }>();

  get size(): number {
    return this.#byIndex.size;
  }

  add(index: LogIndex, t: Term, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#settle(index, { type: "timeout" }), timeoutMs);
      this.#byIndex.set(index, { term: t, resolve, reject, timer });
    });
  }

  /** The entry at `index` was applied (with `result` if it was a command). */
  applied(index: LogIndex, t: Term, result: unknown): void {
    const waiter = this.#byIndex.get(index);
    if (waiter === undefined) return;
    if (waiter.term !== t) {
      this.#settle(index, { type: "notApplied" });
      return;
    }
    clearTimeout(waiter.timer);
    this.#byIndex.delete(index);
    waiter.resolve(result);
  }

  /** A snapshot replaced everything through `index`: whether those proposals applied is unknown. */
  coveredBySnapshot(index: LogIndex): void {
    for (const key of [...this.#byIndex.keys()]) if (key <= index) this.#settle(key as LogIndex, { type: "timeout" });
  }

  failAll(error: NodeError): void {
    for (const key of [...this.#byIndex.keys()]) this.#settle(key as LogIndex, error);
  }

  #settle(index: LogIndex, error: NodeError): void {
    const waiter = this.#byIndex.get(index);
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    this.#byIndex.delete(index);
    waiter.reject(new NodeRequestError(error));
  }
}

/**
 * Proposals this member forwarded to the leader, keyed by their sequence number, until it applies
 * them. A forwarded proposal that never comes back (the leader dropped it, or lost leadership) is
 * not known to have failed: it times out, outcome unknown.
 */
export class ForwardedProposals {
  readonly #bySeq = new Map<number, Waiter<unknown> & { readonly timer: NodeJS.Timeout }>();
  #nextSeq = 0;

  get size(): number {
    return this.#bySeq.size;
  }

  /** A new sequence number, and the promise of its result. */
  add(timeoutMs: number): { seq: number; result: Promise<unknown> } {
    const seq = this.#nextSeq;
    this.#nextSeq = (this.#nextSeq + 1) >>> 0;
    const result = new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(seq, { type: "timeout" }), timeoutMs);
      this.#bySeq.set(seq, { resolve, reject, timer });
    });
    return { seq, result };
  }

  applied(seq: number, result: unknown): void {
    const waiter = this.#bySeq.get(seq);
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    this.#bySeq.delete(seq);
    waiter.resolve(result);
  }

  failAll(error: NodeError): void {
    for (const seq of [...this.#bySeq.keys()]) this.fail(seq, error);
  }

  fail(seq: number, error: NodeError): void {
    const waiter = this.#bySeq.get(seq);
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    this.#bySeq.delete(seq);
    waiter.reject(new NodeRequestError(error));
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
