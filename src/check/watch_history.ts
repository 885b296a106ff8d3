/**
 * The committed history watch streams are checked against (watch_checker.ts holds the checks).
 *
 * The history is the authority on what each revision wrote. It is either complete, recorded from every
 * revision the state machine applied (the simulator), or pieced together from the streams of watchers
 * of the whole keyspace when no global record exists (a real-process test): then it knows only the
 * revisions somebody observed, and reliability is checked only there.
 */
import { assert } from "../util/assert.js";
import { ViolationLog, coversKeyspace, describeEvent, quote, sameEvent, untilCancellation } from "./watch_stream.js";
import type { RecordedWatch, WatchEvent, WatchViolation } from "./watch_stream.js";

interface StoredRevision {
  readonly events: readonly WatchEvent[];
  /** Who recorded it first, named when another source disagrees. */
  readonly source: string;
  /** Only for revisions of several events (txns), so that a lookup stays O(1) without a map per revision. */
  readonly byKey: ReadonlyMap<string, WatchEvent> | undefined;
}

/** The events of each committed revision, recorded once (a second record of a revision must agree). */
export class CommittedHistory {
  /** Every committed revision was recorded, so a revision missing from it was never committed. */
  readonly complete: boolean;
  readonly #revisions = new Map<number, StoredRevision>();
  readonly #order: number[] = [];
  #sorted = true;
  #last = 0;

  constructor(options: { readonly complete: boolean }) {
    this.complete = options.complete;
  }

  /** The highest recorded revision (0 when empty). */
  get lastRevision(): number {
    return this.#last;
  }

  /**
   * Records what `revision` wrote, or compares it with what was recorded before: a difference is a
   * `divergent` violation of `source`, and the first record stands.
   */
  record(revision: number, events: readonly WatchEvent[], source = "history"): WatchViolation | undefined {
    const byKey = validateRevision(revision, events, source);
    const known = this.#revisions.get(revision);
    if (known !== undefined) {
      const difference = divergence(known, events, source);
      if (difference === undefined) return undefined;
      return {
        guarantee: "divergent",
        watch: source,
        detail: `divergent history at revision ${revision}: ${difference}`,
      };
    }
    this.#revisions.set(revision, { events, source, byKey });
    if (revision < this.#last) this.#sorted = false;
    this.#order.push(revision);
    this.#last = Math.max(this.#last, revision);
    return undefined;
  }

  knows(revision: number): boolean {
    return this.#revisions.has(revision);
  }

  eventsAt(revision: number): readonly WatchEvent[] {
    return this.#revisions.get(revision)?.events ?? [];
  }

  /** The event `revision` wrote on `key`, if the history knows one. */
  event(revision: number, key: string): WatchEvent | undefined {
    const stored = this.#revisions.get(revision);
    return stored === undefined ? undefined : lookup(stored, key);
  }

  /** The recorded revisions in [from, to], ascending. */
  *revisionsBetween(from: number, to: number): Generator<number> {
    if (!this.#sorted) {
      this.#order.sort((a, b) => a - b);
      this.#sorted = true;
    }
    for (let i = lowerBound(this.#order, from); i < this.#order.length && this.#order[i]! <= to; i++) {
      yield this.#order[i]!;
    }
  }
}

/** Throws on a record no store could have made; returns the key index a txn's revision needs. */
function validateRevision(
  revision: number,
  events: readonly WatchEvent[],
  source: string,
): ReadonlyMap<string, WatchEvent> | undefined {
  const what = `${source}: revision ${revision}`;
  assert(Number.isSafeInteger(revision) && revision >= 1, `${what} is not a revision`);
  assert(events.length > 0, `${what} has no event (every write raises the revision by one)`);
  for (const e of events) assert(e.revision === revision, `${what} holds an event at revision ${e.revision}`);
  if (events.length === 1) return undefined;
  const byKey = new Map(events.map((e) => [e.key, e]));
  assert(byKey.size === events.length, `${what} writes a key twice`);
  return byKey;
}

function lookup(stored: StoredRevision, key: string): WatchEvent | undefined {
  if (stored.byKey !== undefined) return stored.byKey.get(key);
  const only = stored.events[0]!;
  return only.key === key ? only : undefined;
}

/** The first difference between what `source` saw at a revision and what was recorded (order within a revision aside). */
function divergence(known: StoredRevision, events: readonly WatchEvent[], source: string): string | undefined {
  for (const e of events) {
    const k = lookup(known, e.key);
    if (k === undefined) return `${source} saw ${describeEvent(e)}, ${known.source} saw no event on that key`;
    if (!sameEvent(k, e)) return `${source} saw ${describeEvent(e)}, ${known.source} saw ${describeEvent(k)}`;
  }
  if (events.length === known.events.length) return undefined;
  // Keys are unique on both sides and every key of `events` is known: the known side has more.
  const keys = new Set(events.map((e) => e.key));
  const extra = known.events.find((e) => !keys.has(e.key))!;
  return `${source} saw no event on ${quote(extra.key)}, ${known.source} saw ${describeEvent(extra)}`;
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The history the whole-keyspace watchers among `watches` saw (an incomplete one: revisions nobody saw
 * are unknown), and where two of them disagree on a revision. Each watcher contributes the revisions from
 * its start on, up to its cancellation; a key delivered twice at one revision counts once (checkWatch
 * reports the duplicate).
 */
export function historyFromObservations(watches: readonly RecordedWatch[]): {
  history: CommittedHistory;
  violations: WatchViolation[];
} {
  const history = new CommittedHistory({ complete: false });
  const violations: WatchViolation[] = [];
  for (const watch of watches) {
    if (!coversKeyspace(watch.range)) continue;
    const log = new ViolationLog(watch.name);
    for (const [revision, byKey] of observedRevisions(watch)) {
      const divergent = history.record(revision, [...byKey.values()], watch.name);
      if (divergent !== undefined) log.add(divergent.guarantee, divergent.detail);
    }
    violations.push(...log.list);
  }
  return { history, violations };
}

function observedRevisions(watch: RecordedWatch): Map<number, Map<string, WatchEvent>> {
  const revisions = new Map<number, Map<string, WatchEvent>>();
  for (const message of watch.messages.slice(0, untilCancellation(watch.messages))) {
    if (message.kind !== "events") continue;
    for (const e of message.events) {
      if (!Number.isSafeInteger(e.revision) || e.revision < watch.startRevision) continue;
      let byKey = revisions.get(e.revision);
      if (byKey === undefined) revisions.set(e.revision, (byKey = new Map<string, WatchEvent>()));
      if (!byKey.has(e.key)) byKey.set(e.key, e);
    }
  }
  return revisions;
}
