import type { LogIndex, NodeId } from "../util/ids.js";
import type { EngineCore, EngineTypes } from "./engine.js";

/** The only randomness a core uses; the node injects a seeded generator so that a seed replays a run. */
interface Random {
  /** An integer in [min, maxExclusive). */
  int(min: number, maxExclusive: number): number;
}

/** What the node decides for every engine: who it is, its timing in ticks, its randomness. */
export interface CoreOptions {
  readonly id: NodeId;
  readonly random: Random;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly checkInvariants: boolean;
}

/** How the node builds an engine's core from what its storage recovered. */
export interface EngineFactory<E extends EngineTypes> {
  create(options: CoreOptions, durable: E["durable"]): EngineCore<E>;
  /** The snapshot the recovered state starts from, to restore the state machine from. */
  snapshotOf(durable: E["durable"]): { readonly index: LogIndex; readonly data: Uint8Array } | undefined;
}
