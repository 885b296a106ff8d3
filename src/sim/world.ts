import type { NodeId } from "../raft/index.js";
import { EventQueue } from "./event_queue.js";

/**
 * Something due at a virtual time: the work of one life of a member's process (`owner`, `life`),
 * a message arriving at a member (`owner`, any life), or the world's own (no owner).
 */
interface WorldEvent {
  readonly owner: NodeId | undefined;
  readonly life: number | undefined;
  readonly run: () => void;
  cancelled: boolean;
}

/** What becomes of a due event: it runs, is dropped (its process died), or waits until a time (its process is stalled). */
type Gate = (event: WorldEvent) => "run" | "drop" | number;

/** Virtual time and everything scheduled in it, for one simulated cluster. */
export class World {
  now = 0;
  steps = 0;
  readonly #queue = new EventQueue<WorldEvent>();
  #gate: Gate = () => "run";

  setGate(gate: Gate): void {
    this.#gate = gate;
  }

  at(time: number, run: () => void, owner?: NodeId, life?: number): WorldEvent {
    const event: WorldEvent = { owner, life, run, cancelled: false };
    this.#queue.push(Math.max(time, this.now), event);
    return event;
  }

  /** Whether an event is due by `until`. */
  hasDue(until: number): boolean {
    const due = this.#queue.peekTime();
    return due !== undefined && due <= until;
  }

  /**
   * Runs the next event due by `until`, dropping or holding back on the way what the gate says and
   * skipping cancelled ones (none of them runs code, so none needs a turn of its own). Returns
   * whether one ran.
   */
  step(until: number): boolean {
    for (;;) {
      const due = this.#queue.peekTime();
      if (due === undefined || due > until) return false;
      const { at, item } = this.#queue.pop()!;
      this.now = at;
      if (item.cancelled) continue;
      const verdict = this.#gate(item);
      if (verdict === "drop") continue;
      if (verdict !== "run") {
        this.#queue.push(verdict, item);
        continue;
      }
      this.steps++;
      item.run();
      return true;
    }
  }
}
