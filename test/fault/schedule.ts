/**
 * The seeded fault schedule: the same seed gives the same faults, targets and timings. Targets that
 * only exist at run time ("the leader") stay symbolic here and are resolved by the nemesis.
 * Faults come in rounds, each a shuffle of every kind, so that even a short run sees them all.
 */
import { Prng } from "raftkv/raft";

export const faultKinds = [
  "kill-leader",
  "kill-minority",
  "pause-leader",
  "pause-node",
  "partition-halves",
  "isolate-leader",
  "isolate-node",
  "bridge",
] as const;

export type FaultKind = (typeof faultKinds)[number];

export interface FaultStep {
  readonly kind: FaultKind;
  /** A seeded order of the members; each kind takes its targets from the front. */
  readonly order: readonly string[];
  /** kill-minority: how many members to kill (1 or 2 of 5). */
  readonly count: number;
  /** How long the fault lasts. */
  readonly holdMs: number;
  /** Quiet time after healing it, before the next fault. */
  readonly gapMs: number;
}

export interface ScheduleTiming {
  readonly holdMsMin: number;
  readonly holdMsMax: number;
  readonly gapMsMin: number;
  readonly gapMsMax: number;
}

function shuffle<T>(prng: Prng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = prng.int(0, i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** An endless stream of fault steps for `members`, the same for the same seed. */
export function* faultSchedule(seed: number, members: readonly string[], timing: ScheduleTiming): Generator<FaultStep> {
  const prng = new Prng(seed);
  const minorityMax = Math.floor((members.length - 1) / 2);
  for (;;) {
    for (const kind of shuffle(prng, faultKinds)) {
      yield {
        kind,
        order: shuffle(prng, members),
        count: prng.int(1, minorityMax + 1),
        holdMs: prng.int(timing.holdMsMin, timing.holdMsMax + 1),
        gapMs: prng.int(timing.gapMsMin, timing.gapMsMax + 1),
      };
    }
  }
}

/** The partition a step asks for, as groups that cannot reach each other (a bridge reaches both). */
export function partitionOf(step: FaultStep): {
  readonly sides: readonly (readonly string[])[];
  readonly bridge?: string;
} {
  const o = step.order;
  switch (step.kind) {
    case "partition-halves": {
      const cut = Math.floor(o.length / 2);
      return { sides: [o.slice(0, cut), o.slice(cut)] };
    }
    case "bridge": {
      const half = Math.floor((o.length - 1) / 2);
      return { sides: [o.slice(0, half), o.slice(half + 1)], bridge: o[half]! };
    }
    case "kill-leader":
    case "kill-minority":
    case "pause-leader":
    case "pause-node":
    case "isolate-leader":
    case "isolate-node":
      throw new Error(`${step.kind} is not a partition of fixed groups`);
  }
}
