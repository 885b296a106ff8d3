import type { ZabTypes } from "../engine/zab.js";
import type { NodeView } from "../node/index.js";
import type { NodeId } from "../raft/index.js";
import { epoch, type Epoch, type ZabSoftState } from "../zab/index.js";
import { positionOf } from "./zab_positions.js";

/**
 * Which ZAB epochs ended by design: their leader proposed the last zxid its counter allows, saw
 * all of it commit, and stepped down so that a new epoch could take over (ZooKeeper forces a new
 * epoch rather than let the counter roll over). The liveness check forgives such a hand-over and
 * nothing else, so this is read from the leader's own state as it leaves, not inferred from timing:
 * an epoch whose leader crashed, lost its quorum or gave way for any other reason is not in here.
 */
export class ExhaustedEpochs {
  /** The counter's last value; undefined for the core's 32-bit default, which no run uses up. */
  readonly #counterMax: number | undefined;
  /** Per member: the epoch it led in broadcast at its last Ready. */
  readonly #leading = new Map<NodeId, Epoch>();
  readonly #ended = new Set<number>();

  constructor(counterBits: number | undefined) {
    this.#counterMax = counterBits === undefined ? undefined : 2 ** counterBits - 1;
  }

  /**
   * At each Ready of `member`: when it no longer leads the epoch it led in broadcast, that epoch
   * ran out if its history holds the epoch's last zxid and it had committed it — the core's own
   * condition for stepping down (src/zab/leader.ts, leaderProgress).
   */
  observe(member: NodeId, soft: ZabSoftState, node: NodeView<ZabTypes>): void {
    const led = this.#leading.get(member);
    const leading = soft.role === "leading" && soft.phase === "broadcast" ? soft.epoch : undefined;
    if (led === leading) return;
    if (leading === undefined) this.#leading.delete(member);
    else this.#leading.set(member, leading);
    if (led === undefined || this.#counterMax === undefined) return;
    const last = positionOf(node.coreView(), { epoch: epoch(led), counter: this.#counterMax });
    if (last > 0 && node.status().commitIndex >= last) this.#ended.add(led);
  }

  /** A new life of `member`: an epoch it led ended with the crash, not with its counter. */
  restarted(member: NodeId): void {
    this.#leading.delete(member);
  }

  has(reign: number): boolean {
    return this.#ended.has(reign);
  }
}
