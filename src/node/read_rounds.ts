import type { Clock, Timer } from "./clock.js";
import { NodeRequestError } from "./errors.js";

interface ReadWaiter {
  readonly resolve: (index: number) => void;
  readonly reject: (error: NodeRequestError) => void;
}

/**
 * Batches linearizable reads into ReadIndex rounds: every read that arrives while a round is in
 * flight joins the next one, so a thousand concurrent reads cost one heartbeat round, not a thousand.
 */
export class ReadRounds {
  readonly #start: (context: Uint8Array) => boolean;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #tag: number;
  #queued: ReadWaiter[] = [];
  #inFlight: { readonly id: number; readonly waiters: ReadWaiter[]; readonly timer: Timer } | undefined;
  #nextId = 1;

  /**
   * `start` asks Raft for a read index with this context; false when no leader is known. `tag` (a
   * byte) sets this batcher's contexts apart from another's on the same node: Raft hands every read
   * state to both, and a round confirmed for the other (started earlier, at an older index) must not
   * release this one's reads.
   */
  constructor(options: { start: (context: Uint8Array) => boolean; timeoutMs: number; clock: Clock; tag: number }) {
    this.#start = options.start;
    this.#timeoutMs = options.timeoutMs;
    this.#clock = options.clock;
    this.#tag = options.tag;
  }

  /** Resolves with an index that the state machine must reach before the read may be served. */
  read(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ resolve, reject });
      this.#startRound();
    });
  }

  /** A ReadState arrived from Raft. */
  confirmed(context: Uint8Array, index: number): void {
    const round = this.#inFlight;
    if (
      round === undefined ||
      context.byteLength !== 5 ||
      context[0] !== this.#tag ||
      new DataView(context.buffer, context.byteOffset, 5).getUint32(1) !== round.id
    )
      return;
    round.timer.cancel();
    this.#inFlight = undefined;
    for (const w of round.waiters) w.resolve(index);
    this.#startRound();
  }

  failAll(error: NodeRequestError): void {
    const waiters = [...(this.#inFlight?.waiters ?? []), ...this.#queued];
    this.#inFlight?.timer.cancel();
    this.#inFlight = undefined;
    this.#queued = [];
    for (const w of waiters) w.reject(error);
  }

  #startRound(): void {
    if (this.#inFlight !== undefined || this.#queued.length === 0) return;
    const id = this.#nextId++;
    const context = new Uint8Array(5);
    context[0] = this.#tag;
    new DataView(context.buffer).setUint32(1, id);
    const waiters = this.#queued;
    this.#queued = [];
    if (!this.#start(context)) {
      for (const w of waiters) w.reject(new NodeRequestError({ type: "noLeader" }));
      return;
    }
    // A round can be lost with a leader change; its reads may simply be retried.
    const timer = this.#clock.after(this.#timeoutMs, () => {
      if (this.#inFlight?.id !== id) return;
      this.#inFlight = undefined;
      for (const w of waiters) w.reject(new NodeRequestError({ type: "timeout" }));
      this.#startRound();
    });
    this.#inFlight = { id, waiters, timer };
  }
}
