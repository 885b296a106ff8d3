import type { KvStore, RangeAnswer, RangeEntry, RangeRequest, StoredKv } from "../kv/index.js";
import { answerRange, etcdSpan, isEmptySpan } from "../kv/index.js";
import { assert } from "../util/assert.js";
import type { WatchHistory } from "./watch_history.js";

/**
 * etcd's Range at any revision, or why not: `compacted` when the revision is below the cluster's
 * compaction or below what this member's history holds (etcd's ErrCompacted), `future` when it is above
 * the store's revision (ErrFutureRev). `revision` is the store's when the answer was made.
 */
export type RangeAtAnswer =
  | { readonly type: "range"; readonly answer: RangeAnswer; readonly revision: number }
  | { readonly type: "compacted"; readonly compactRevision: number; readonly revision: number }
  | { readonly type: "future"; readonly revision: number };

/**
 * Answers `request` at its revision from the current state and the history's events after that
 * revision, undone newest first (each event carries the key's previous state). The history lives here,
 * beside the watches that already keep it, not in the state machine: it is a member's cache of what it
 * applied, trimmed by the member's own bounds, so two members may hold different amounts of it and a
 * replicated command must never depend on it.
 *
 * `history` must be the one the store's listener feeds (it holds every revision up to the store's).
 * A past read costs the range's current size plus the events since that revision.
 */
export function rangeAt(store: KvStore, history: WatchHistory, request: RangeRequest): RangeAtAnswer {
  const current = store.revision();
  const at = request.revision ?? 0;
  if (at > current) return { type: "future", revision: current };
  if (at === 0 || at === current)
    return { type: "range", answer: store.rangeEtcd({ ...request, revision: 0 }), revision: current };
  const oldest = Math.max(store.compactRevision(), history.firstRevision() - 1);
  if (at < oldest) return { type: "compacted", compactRevision: oldest, revision: current };
  assert(history.lastRevision() === current, `rangeAt: history at ${history.lastRevision()}, store at ${current}`);
  const span = etcdSpan(request.key, request.rangeEnd);
  if (isEmptySpan(span)) return { type: "range", answer: { kvs: [], more: false, count: 0 }, revision: current };
  const inSpan = (key: string): boolean => key >= span.from && (span.to === undefined || key < span.to);
  const state = new Map<string, StoredKv>();
  for (const { key, kv } of store.rangeEntries(span)) state.set(key, kv);
  for (let revision = current; revision > at; revision--) {
    const events = history.eventsAt(revision)!;
    for (let i = events.length - 1; i >= 0; i--) {
      const { key, prev } = events[i]!;
      if (!inSpan(key)) continue;
      if (prev === undefined) state.delete(key);
      else state.set(key, prev);
    }
  }
  const entries: RangeEntry[] = [...state.keys()].sort().map((key) => ({ key, kv: state.get(key)! }));
  return { type: "range", answer: answerRange(request, entries), revision: current };
}
