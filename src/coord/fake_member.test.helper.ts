import { decodeCommand, KvStore, type KvCommand } from "../kv/index.js";
import { NodeRequestError, type Clock, type Timer } from "../node/index.js";
import type { NodeId, Role } from "../raft/index.js";
import { logIndex } from "../util/ids.js";
import type { LessorNode } from "./lessor_node.js";

interface ManualTimer {
  at: number;
  readonly run: () => void;
  readonly everyMs: number | undefined;
  cancelled: boolean;
}

/** Lets the promises already settled run their callbacks (one macrotask turn drains them all). */
export function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock the test moves by hand, with Node's event-loop order where it matters: `advance` runs each
 * timer at its time; `stall` moves time without running any (the loop was blocked), after which
 * `runTimers` is the timers phase and `runSoon` a check phase (what `soon` queued during one runs
 * in the next, as setImmediate's do).
 */
export class ManualClock implements Clock {
  #now = 0;
  #timers: ManualTimer[] = [];
  #soon: (() => void)[] = [];

  now(): number {
    return this.#now;
  }

  after(ms: number, run: () => void): Timer {
    return this.#add(ms, run, undefined);
  }

  every(ms: number, run: () => void): Timer {
    return this.#add(ms, run, ms);
  }

  soon(run: () => void): void {
    this.#soon.push(run);
  }

  /** Runs every timer due by `to` at its time, and what each queued with `soon`, then moves time to `to`. */
  async advance(to: number): Promise<void> {
    for (;;) {
      const next = this.#due(to)[0];
      if (next === undefined) break;
      this.#now = next.at;
      this.#fire(next);
      await drainMicrotasks();
      while (this.#soon.length > 0) await this.runSoon();
    }
    this.#now = to;
  }

  /** Moves time by `ms` running nothing: the process was stopped. */
  stall(ms: number): void {
    this.#now += ms;
  }

  /** The timers phase after a stall: each due timer once, an interval rescheduled from now. */
  async runTimers(): Promise<void> {
    for (const timer of this.#due(this.#now)) this.#fire(timer);
    await drainMicrotasks();
  }

  /** One check phase: what was queued with `soon` before it began. */
  async runSoon(): Promise<void> {
    const queued = this.#soon;
    this.#soon = [];
    for (const run of queued) run();
    await drainMicrotasks();
  }

  #add(ms: number, run: () => void, everyMs: number | undefined): Timer {
    const timer: ManualTimer = { at: this.#now + ms, run, everyMs, cancelled: false };
    this.#timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  #due(to: number): ManualTimer[] {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    return this.#timers.filter((t) => t.at <= to).sort((a, b) => a.at - b.at);
  }

  #fire(timer: ManualTimer): void {
    if (timer.everyMs === undefined) timer.cancelled = true;
    else timer.at = this.#now + timer.everyMs;
    timer.run();
  }
}

/**
 * A member's node reduced to what the lessor uses: it leads (or not) as the test says, applies each
 * proposal to a real store at once unless the test holds proposals back, and serves read barriers
 * at once unless the test holds those.
 */
export class FakeNode implements LessorNode {
  readonly kv = new KvStore();
  role: Role = "leader";
  term = 1;
  leader = 1 as NodeId;
  /** Every command proposed, in order. */
  readonly proposed: KvCommand[] = [];
  /** When set, a proposal that returns true fails (not applied) instead. */
  refuse: ((command: KvCommand) => boolean) | undefined;
  /** When set, read barriers wait for the returned promise. */
  barrier: (() => Promise<void>) | undefined;
  #index = 0;

  propose(command: Uint8Array): Promise<unknown> {
    const decoded = decodeCommand(command);
    if (!decoded.ok) throw new Error(decoded.error);
    this.proposed.push(decoded.command);
    if (this.refuse?.(decoded.command) === true) return Promise.reject(new NodeRequestError({ type: "notApplied" }));
    return Promise.resolve(this.kv.apply(command, logIndex(++this.#index)));
  }

  readBarrier(): Promise<void> {
    return this.barrier?.() ?? Promise.resolve();
  }

  status(): ReturnType<LessorNode["status"]> {
    const index = this.#index;
    return {
      id: 1 as NodeId,
      role: this.role,
      term: this.term,
      leader: this.role === "leader" ? (1 as NodeId) : this.leader,
      commitIndex: index,
      appliedIndex: index,
      lastIndex: index,
      snapshotIndex: 0,
    };
  }

  /** The leases whose revoke was proposed, in order. */
  revokesProposed(): number[] {
    return this.proposed.flatMap((command) => (command.type === "leaseRevoke" ? [command.id] : []));
  }
}
