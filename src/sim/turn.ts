/**
 * The simulator's step barrier. The node it runs awaits promises, so after each event every
 * microtask that event started must run before the next event does, and only a macrotask waits for
 * an empty microtask queue. Every simulated cluster in the process waits for the same one: seeds
 * run side by side pay for it once per step between them, and each stays deterministic, because
 * its own microtasks run in the order it queued them, whoever shares the turn.
 */
let next: Promise<void> | undefined;

export function nextTurn(): Promise<void> {
  next ??= new Promise((resolve) =>
    setImmediate(() => {
      next = undefined;
      resolve();
    }),
  );
  return next;
}
