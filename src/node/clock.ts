/** A scheduled call; cancelling it after it ran, or twice, does nothing. */
export interface Timer {
  cancel(): void;
}

/**
 * How the node reads time and schedules its own work. `realClock` is the process's clock; the
 * simulator gives each member a clock of virtual time, so the node it runs is the node users run.
 * Nothing under src/node but real_clock.ts touches timers or the time of day.
 */
export interface Clock {
  /** Milliseconds on a monotonic clock (only differences mean anything). */
  now(): number;
  /** Calls `run` once, `ms` from now. */
  after(ms: number, run: () => void): Timer;
  /** Calls `run` every `ms` until cancelled. */
  every(ms: number, run: () => void): Timer;
  /**
   * Calls `run` once the input already waiting has been handled (setImmediate, not a microtask):
   * what arrives meanwhile joins the same batch.
   */
  soon(run: () => void): void;
}
