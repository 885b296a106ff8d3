import { assert } from "../util/assert.js";
import type { HistoryWrite } from "./history.js";
import type { Epochs } from "./state.js";
import { epoch, type DurableState, type Txn } from "./types.js";

export const EMPTY_DURABLE_STATE: DurableState = { acceptedEpoch: epoch(0), currentEpoch: epoch(0), history: [] };

/**
 * The durable state after one Ready's write (history first, then epochs), as an in-memory store
 * keeps it; a driver with real storage does the same to its files. Asserts the write continues
 * the stored history, pairing the core's own checks.
 */
export function applyWrite(
  durable: DurableState,
  write: { readonly epochs: Epochs | undefined; readonly history: HistoryWrite },
): DurableState {
  const { truncateAfter, entries } = write.history;
  let history: readonly Txn[] = durable.history;
  if (truncateAfter !== undefined) {
    assert(truncateAfter <= history.length, `truncate after ${truncateAfter} beyond stored ${history.length}`);
    history = history.slice(0, truncateAfter);
  }
  const first = entries[0];
  if (first !== undefined) {
    assert(first.index === history.length + 1, `append at ${first.index} after stored ${history.length}`);
    history = [...history, ...entries.map(({ zxid, data }) => ({ zxid, data }))];
  }
  return {
    acceptedEpoch: write.epochs?.acceptedEpoch ?? durable.acceptedEpoch,
    currentEpoch: write.epochs?.currentEpoch ?? durable.currentEpoch,
    history,
  };
}
