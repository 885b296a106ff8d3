import { performance } from "node:perf_hooks";
import type { Clock, Timer } from "./clock.js";

/** The process's own clock: performance.now() and Node's timers. */
export const realClock: Clock = {
  now: () => performance.now(),
  after(ms, run): Timer {
    const timer = setTimeout(run, ms);
    return { cancel: () => clearTimeout(timer) };
  },
  every(ms, run): Timer {
    const timer = setInterval(run, ms);
    return { cancel: () => clearInterval(timer) };
  },
  soon(run) {
    setImmediate(run);
  },
};
