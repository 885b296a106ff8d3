/**
 * Helpers shared by the checker's tests: terse operation builders and a simulated sequential register
 * that produces linearizable histories. Test-only (imported by *.test.ts files).
 */
import type { Prng } from "../util/prng.js";
import type { KvOp, Operation, Outcome } from "./history.js";

export const get = (): KvOp => ({ type: "get" });
export const put = (value: string): KvOp => ({ type: "put", value });
export const del = (): KvOp => ({ type: "delete" });
export const cas = (expected: string | null, value: string): KvOp => ({ type: "cas", expected, value });

export interface OpSpec {
  readonly key?: string;
  readonly client?: number;
  readonly op: KvOp;
  /** [invokedAt, completedAt]; completedAt ignored for unknown. */
  readonly at: readonly [number, number];
  readonly outcome?: Outcome;
  readonly result?: string | null | boolean;
}

/** Builds a history from specs; ids are the specs' positions. */
export function history(...specs: OpSpec[]): Operation[] {
  return specs.map((s, id) => ({
    id,
    client: s.client ?? id,
    key: s.key ?? "k",
    op: s.op,
    invokedAt: s.at[0],
    completedAt: (s.outcome ?? "ok") === "unknown" ? Infinity : s.at[1],
    outcome: s.outcome ?? "ok",
    ...(s.result === undefined ? {} : { result: s.result }),
  }));
}

/** An operation waiting for its simulated results: where it takes effect, if it does. */
export interface Planned {
  readonly client: number;
  readonly key: string;
  readonly op: KvOp;
  readonly invokedAt: number;
  readonly completedAt: number;
  readonly outcome: Outcome;
  /** When it takes effect on the register; undefined = never (fail, or an unknown never applied). */
  readonly appliedAt: number | undefined;
}

/**
 * Runs planned operations against one sequential register per key in `appliedAt` order and fills in
 * their results: the history a correct store would produce, linearizable by construction.
 */
export function simulate(planned: readonly Planned[]): Operation[] {
  const results = new Map<number, string | null | boolean>();
  const state = new Map<string, string | null>();
  const order = planned
    .map((p, id) => ({ p, id }))
    .filter((x) => x.p.appliedAt !== undefined)
    .sort((x, y) => (x.p.appliedAt as number) - (y.p.appliedAt as number) || x.id - y.id);
  for (const { p, id } of order) {
    const current = state.get(p.key) ?? null;
    switch (p.op.type) {
      case "get":
        results.set(id, current);
        break;
      case "put":
        state.set(p.key, p.op.value);
        break;
      case "delete":
        state.set(p.key, null);
        break;
      case "cas": {
        const hit = current === p.op.expected;
        if (hit) state.set(p.key, p.op.value);
        results.set(id, hit);
        break;
      }
    }
  }
  return planned.map((p, id) => {
    const result = results.get(id);
    const known = p.outcome === "ok" && result !== undefined;
    return {
      id,
      client: p.client,
      key: p.key,
      op: p.op,
      invokedAt: p.invokedAt,
      completedAt: p.outcome === "ok" ? p.completedAt : Infinity,
      outcome: p.outcome,
      ...(known ? { result } : {}),
    };
  });
}

/** A uniform float in [lo, hi]. */
export function between(prng: Prng, lo: number, hi: number): number {
  return lo + prng.next() * (hi - lo);
}
