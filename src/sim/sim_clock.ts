import type { Clock, Timer } from "../node/index.js";
import type { NodeId } from "../raft/index.js";
import type { World } from "./world.js";

/**
 * One life of a member's clock: virtual time, running `rate` times as fast as the world's (a
 * drifting oscillator). Its timers belong to that life: they stop with a crash and wait out a stall.
 */
export class SimClock implements Clock {
  readonly #world: World;
  readonly #owner: NodeId;
  readonly #life: number;
  readonly #rate: number;

  constructor(options: { world: World; owner: NodeId; life: number; rate: number }) {
    this.#world = options.world;
    this.#owner = options.owner;
    this.#life = options.life;
    this.#rate = options.rate;
  }

  now(): number {
    return this.#world.now * this.#rate;
  }

  after(ms: number, run: () => void): Timer {
    const event = this.#world.at(this.#worldTimeIn(ms), run, this.#owner, this.#life);
    return { cancel: () => (event.cancelled = true) };
  }

  every(ms: number, run: () => void): Timer {
    let cancelled = false;
    const fire = (): void => {
      // As setInterval does after a stall: the next call is one period after this late one.
      event = this.#world.at(this.#worldTimeIn(ms), fire, this.#owner, this.#life);
      if (!cancelled) run();
    };
    let event = this.#world.at(this.#worldTimeIn(ms), fire, this.#owner, this.#life);
    return {
      cancel: () => {
        cancelled = true;
        event.cancelled = true;
      },
    };
  }

  soon(run: () => void): void {
    this.#world.at(this.#world.now, run, this.#owner, this.#life);
  }

  #worldTimeIn(ms: number): number {
    return this.#world.now + Math.max(0, ms) / this.#rate;
  }
}
