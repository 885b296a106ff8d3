/**
 * Readies whose persist may run at once. A second one is written while the first one's fdatasync
 * runs and synced right after it (the WAL's group commit), so the disk never waits for the CPU work
 * between batches (applying, answering clients): what the Raft thesis §10.2.1 describes for the
 * leader, applied to every member. Completions are handled strictly in order.
 */
export const readiesInFlightMaxDefault = 2;

/** What the pipeline asks of the node it runs. */
interface ReadyPipelineHooks {
  /** Runs `fn` on a later turn of the event loop (Clock.soon). */
  readonly soon: (fn: () => void) => void;
  /** Readies whose persist may run at once. */
  readonly depth: number;
  /** The node stopped serving (a storage failure): start nothing more. */
  readonly failed: () => boolean;
  readonly hasReady: () => boolean;
  /**
   * Takes a Ready from the core and starts it; returns its completion, which must not finish
   * before `previous` (the Ready started before it) has.
   */
  readonly startReady: (previous: Promise<void>) => Promise<void>;
  /** Sends what may leave before the disk is done (heartbeats and their answers). */
  readonly sendEarly: () => void;
  /** An error escaped a Ready: a bug. */
  readonly onBug: (error: unknown) => void;
}

/**
 * The Ready loop's scheduling: take a Ready whenever fewer than `depth` are being persisted,
 * handle their completions strictly in order, and let heartbeats out while the disk is busy.
 * Input that arrives while a turn is pending joins the next batch.
 */
export class ReadyPipeline {
  readonly #hooks: ReadyPipelineHooks;
  #scheduled = false;
  #running = false;
  #idle: Promise<void> = Promise.resolve();
  /** The completions of Readies being persisted, oldest first. */
  #inFlight: Promise<void>[] = [];
  /** Wakes a loop waiting on a persist when new input arrives, so it can start the next one. */
  #wake: (() => void) | undefined;
  #halted = false;

  constructor(hooks: ReadyPipelineHooks) {
    this.#hooks = hooks;
  }

  /** Whether the loop was halted: nothing may touch the log any more. */
  get halted(): boolean {
    return this.#halted;
  }

  /** Asks for a turn of the loop, if there is work and none is pending. */
  schedule(): void {
    const hooks = this.#hooks;
    if (this.#scheduled || hooks.failed()) return;
    if (!hooks.hasReady()) return;
    if (this.#running && this.#wake === undefined) return;
    this.#scheduled = true;
    // Not a microtask: input that arrives in this I/O phase joins the batch.
    hooks.soon(() => {
      this.#scheduled = false;
      if (this.#halted) return;
      if (this.#running) this.#wake?.();
      else this.#idle = this.#run().catch((error: unknown) => hooks.onBug(error));
    });
  }

  /** Starts nothing more; the Readies in flight finish (or fail) on their own. */
  halt(): void {
    this.#halted = true;
  }

  /** Halts, and settles once the loop has stopped. */
  async close(): Promise<void> {
    this.#halted = true;
    await this.#idle;
  }

  async #run(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    const hooks = this.#hooks;
    try {
      while (!hooks.failed() && !this.#halted) {
        if (this.#inFlight.length < hooks.depth && hooks.hasReady()) {
          this.#start();
        } else if (this.#inFlight.length > 0) {
          // Heartbeats and their answers must not wait for the disk (a slow fsync would cost the leader its followers).
          hooks.sendEarly();
          await this.#nextCompletionOrInput();
        } else {
          break;
        }
      }
      await Promise.all(this.#inFlight);
    } finally {
      this.#running = false;
    }
    this.schedule();
  }

  #start(): void {
    const previous = this.#inFlight.at(-1) ?? Promise.resolve();
    const done = this.#hooks.startReady(previous);
    this.#inFlight.push(done);
    void done.then(
      () => this.#inFlight.shift(),
      (error: unknown) => this.#hooks.onBug(error),
    );
  }

  /** Waits until the oldest Ready in flight is handled, or new input could start another one. */
  async #nextCompletionOrInput(): Promise<void> {
    const oldest = this.#inFlight[0]!;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      void oldest.then(resolve, resolve);
    });
    this.#wake = undefined;
  }
}
