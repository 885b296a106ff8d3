import type { EngineName } from "../engine/engine.js";
import { runSeed, type RunResult } from "./vopr.js";

/**
 * Runs seeds `concurrency` at a time in this process. They share each step's macrotask (turn.ts),
 * which is most of the cost of a step, and stay deterministic: each seed's run is the same alone.
 */
export async function sweep(
  seeds: Iterable<number>,
  options: { concurrency: number; engine?: EngineName; onResult?: (result: RunResult) => void },
): Promise<RunResult[]> {
  const results: RunResult[] = [];
  const queue = [...seeds];
  const worker = async (): Promise<void> => {
    for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
      const result = await runSeed(seed, undefined, options.engine);
      results.push(result);
      options.onResult?.(result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return results.sort((a, b) => a.seed - b.seed);
}
