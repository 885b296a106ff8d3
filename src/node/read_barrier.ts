import type { EngineCore, EngineReadState } from "../engine/engine.js";
import type { Clock } from "./clock.js";
import { NodeRequestError, type NodeError } from "./errors.js";
import type { NodeObserver } from "./node_options.js";
import { AppliedWaiters } from "./pending.js";
import { ReadRounds } from "./read_rounds.js";
import type { Ticker } from "./ticker.js";

interface ReadBarrierOptions {
  readonly raw: Pick<EngineCore<never>, "read">;
  readonly ticker: Ticker;
  readonly clock: Clock;
  readonly observer: NodeObserver | undefined;
  readonly electionTimeoutMs: number;
  /** Wakes the Ready loop: the core has work. */
  readonly schedule: () => void;
}

/**
 * When a read may be served from this member's state machine: a ReadIndex round (one per batch of
 * reads), or the leader's lease unless the ticker says our own loop stalled, then the wait until
 * this member has applied through the index the round returned.
 */
export class ReadBarrier {
  readonly #o: ReadBarrierOptions;
  readonly #rounds: ReadRounds;
  readonly #leaseRounds: ReadRounds;
  readonly #applied = new AppliedWaiters();

  constructor(options: ReadBarrierOptions) {
    this.#o = options;
    this.#rounds = this.#newRounds("safe", 0);
    this.#leaseRounds = this.#newRounds("lease", 1);
  }

  /** Resolves when a read at `consistency` may be served, given the index applied now. */
  async wait(consistency: "linearizable" | "lease", applied: () => number): Promise<void> {
    const index = await (consistency === "lease" ? this.#leaseRounds : this.#rounds).read();
    return this.#applied.waitFor(index, applied());
  }

  /** A Ready's read states, then what it applied. */
  advanced(readStates: readonly EngineReadState[], applied: number): void {
    for (const read of readStates) {
      this.#rounds.confirmed(read.context, read.index);
      this.#leaseRounds.confirmed(read.context, read.index);
    }
    this.#applied.appliedTo(applied);
  }

  failAll(error: NodeError): void {
    this.#rounds.failAll(new NodeRequestError(error));
    this.#leaseRounds.failAll(new NodeRequestError(error));
    this.#applied.failAll(error);
  }

  #newRounds(wanted: "safe" | "lease", tag: number): ReadRounds {
    return new ReadRounds({
      start: (context) => this.#start(context, wanted),
      timeoutMs: 2 * this.#o.electionTimeoutMs,
      clock: this.#o.clock,
      tag,
    });
  }

  #start(context: Uint8Array, wanted: "safe" | "lease"): boolean {
    const mode = wanted === "lease" && this.#o.ticker.leaseVoid() ? "safe" : wanted;
    const ok = this.#o.raw.read(context, mode).ok;
    if (ok) this.#o.observer?.readIndexRound?.(mode);
    if (ok) this.#o.schedule();
    return ok;
  }
}
