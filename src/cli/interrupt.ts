/**
 * The commands that run until stopped (watch, lease keepalive, lock, elect): SIGINT and SIGTERM
 * become an aborted signal, so the command can clean up — resign, release, revoke — and exit with a
 * status of its own choosing, instead of dying on the spot.
 */

export type StopSignal = "SIGINT" | "SIGTERM";

/** Runs `use` with a signal that SIGINT or SIGTERM aborts (its reason: the signal's name). */
export async function untilInterrupted<T>(use: (interrupted: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const handlers = (["SIGINT", "SIGTERM"] as const).map((name) => {
    const handler = (): void => controller.abort(name);
    process.on(name, handler);
    return [name, handler] as const;
  });
  try {
    return await use(controller.signal);
  } finally {
    for (const [name, handler] of handlers) process.removeListener(name, handler);
  }
}

/** A promise that resolves when the signal is aborted. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
