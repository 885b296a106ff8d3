import { MessageChannel } from "node:worker_threads";

/**
 * The simulator's step barrier. The node it runs awaits promises, so after each event every
 * microtask that event started must run before the next event does, and only a macrotask waits for
 * an empty microtask queue. Every simulated cluster in the process waits for the same one: seeds
 * run side by side pay for it once per step between them, and each stays deterministic, because
 * its own microtasks run in the order it queued them, whoever shares the turn.
 *
 * The macrotask is a message to ourselves rather than setImmediate: Node hands a port the messages
 * queued meanwhile without another trip round the event loop, draining microtasks between them,
 * which makes a turn about four times cheaper (measured: 0.75 µs against 2.9 µs).
 */
let next: Promise<void> | undefined;
let wake: (() => void) | undefined;
let channel: MessageChannel | undefined;

function port(): MessageChannel {
  if (channel !== undefined) return channel;
  channel = new MessageChannel();
  channel.port1.on("message", () => {
    // Nothing else may keep the process alive while no turn is awaited.
    channel!.port1.unref();
    const resolve = wake!;
    next = undefined;
    wake = undefined;
    resolve();
  });
  return channel;
}

export function nextTurn(): Promise<void> {
  if (next !== undefined) return next;
  const { port1, port2 } = port();
  next = new Promise((resolve) => (wake = resolve));
  port1.ref();
  port2.postMessage(null);
  return next;
}
