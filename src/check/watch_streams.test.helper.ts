/**
 * Random committed histories, ranges and correct watch streams over them, and one corruption of each
 * kind, for the watch checker's tests. Test-only (imported by *.test.ts files).
 */
import type { Prng } from "../util/prng.js";
import { inWatchRange } from "./index.js";
import type { RecordedWatch, WatchEvent, WatchGuarantee, WatchMessage, WatchRange } from "./index.js";

export const KEYS = ["a", "ab", "b", "ba", "c", "x/1", "x/2"];
const PREFIXES = ["", "a", "b", "c", "x/", "q"];
const BOUNDS = ["", "a", "ab", "b", "bz", "c", "x/", "x/2", "z"];

/** Revision r's events are `revisions[r - 1]`: single puts and deletes, and txns of 2 or 3 keys. */
export function randomRevisions(prng: Prng, count: number): WatchEvent[][] {
  const live = new Set<string>();
  const revisions: WatchEvent[][] = [];
  for (let revision = 1; revision <= count; revision++) {
    const free = [...KEYS];
    const size = prng.chance(0.25) ? prng.int(2, 4) : 1;
    const keys = Array.from({ length: size }, () => free.splice(prng.int(0, free.length), 1)[0]!);
    revisions.push(
      keys.map((key): WatchEvent => {
        // A delete of an absent key writes nothing, so it has no revision and no event.
        if (live.has(key) && prng.chance(0.3)) {
          live.delete(key);
          return { type: "delete", key, value: "", revision };
        }
        live.add(key);
        return { type: "put", key, value: `v${prng.int(0, 4)}`, revision };
      }),
    );
  }
  return revisions;
}

export function randomRange(prng: Prng): WatchRange {
  switch (prng.int(0, 3)) {
    case 0:
      return { key: prng.pick(KEYS) };
    case 1:
      return { prefix: prng.pick(PREFIXES) };
    default: {
      const i = prng.int(0, BOUNDS.length - 1);
      const from = BOUNDS[i]!;
      return prng.chance(0.3) ? { from } : { from, to: BOUNDS[prng.int(i + 1, BOUNDS.length)]! };
    }
  }
}

/**
 * A stream a correct server could send: the range's events from `startRevision` up to a random cut (the
 * end of the history, mostly), revisions packed into messages at random, progress notifications at any
 * revision below the next one with events not yet sent, and sometimes a final cancellation.
 */
export function correctStream(
  prng: Prng,
  revisions: readonly (readonly WatchEvent[])[],
  range: WatchRange,
  startRevision: number,
  name: string,
): RecordedWatch {
  const head = revisions.length;
  const end = prng.chance(0.3) ? prng.int(Math.min(startRevision - 1, head), head + 1) : head;
  const inRange = (r: number): WatchEvent[] => revisions[r - 1]!.filter((e) => inWatchRange(range, e.key));
  const withEvents = Array.from({ length: head }, (_, i) => i + 1).filter((r) => inRange(r).length > 0);
  let next = 0;
  const messages: WatchMessage[] = [];
  let batch: WatchEvent[] = [];
  /** After everything up to `sent` went out: a progress notification may vouch for any revision below the next event. */
  const flush = (sent: number): void => {
    if (batch.length > 0) messages.push({ kind: "events", events: batch });
    batch = [];
    while (next < withEvents.length && withEvents[next]! <= sent) next++;
    const below = Math.min(withEvents[next] ?? head + 1, head + 1);
    if (prng.chance(0.3)) messages.push({ kind: "progress", revision: prng.int(0, below) });
  };
  for (let r = startRevision; r <= end; r++) {
    batch.push(...inRange(r));
    if (batch.length > 0 && prng.chance(0.5)) flush(r);
  }
  flush(Math.max(end, startRevision - 1));
  if (prng.chance(0.2)) messages.push({ kind: "canceled", reason: "server shutting down" });
  return { name, range, startRevision, messages };
}

export const CORRUPTIONS = {
  gap: "reliable",
  duplicate: "unique",
  split: "atomic",
  bookmark: "bookmarkable",
  order: "ordered",
  value: "reliable",
  range: "reliable",
  uncommitted: "reliable",
  terminal: "terminal",
} as const satisfies Record<string, WatchGuarantee>;
export type Corruption = keyof typeof CORRUPTIONS;

/** Where each event of a stream is: message index, position, event. */
type Located = readonly [number, number, WatchEvent];

function located(messages: readonly WatchMessage[]): Located[] {
  return messages.flatMap((m, i) => (m.kind === "events" ? m.events.map((e, j): Located => [i, j, e]) : []));
}

function withEvents(messages: readonly WatchMessage[], i: number, events: WatchEvent[]): WatchMessage[] {
  const copy = [...messages];
  if (events.length === 0) copy.splice(i, 1);
  else copy[i] = { kind: "events", events };
  return copy;
}

function eventsOf(m: WatchMessage | undefined): WatchEvent[] {
  return m?.kind === "events" ? [...m.events] : [];
}

/** `items` with `count` items at `at` replaced by `inserted` (Array.prototype.toSpliced is ES2023). */
function spliced<T>(items: readonly T[], at: number, count: number, ...inserted: T[]): T[] {
  const copy = [...items];
  copy.splice(at, count, ...inserted);
  return copy;
}

/**
 * `stream` with one corruption of `kind`, which breaks `CORRUPTIONS[kind]` and nothing else; undefined
 * when the stream has nothing to corrupt that way (too few events, a range without an outside).
 */
export function corrupt(
  kind: Corruption,
  prng: Prng,
  stream: RecordedWatch,
  revisions: readonly (readonly WatchEvent[])[],
): RecordedWatch | undefined {
  const messages = corruptMessages(kind, prng, stream, revisions);
  return messages === undefined ? undefined : { ...stream, messages };
}

function corruptMessages(
  kind: Corruption,
  prng: Prng,
  stream: RecordedWatch,
  revisions: readonly (readonly WatchEvent[])[],
): WatchMessage[] | undefined {
  const { messages } = stream;
  const all = located(messages);
  const someEvent = all.length === 0 ? undefined : prng.pick(all);
  switch (kind) {
    case "gap":
      return skipRevision(prng, messages);
    case "duplicate":
      return (
        someEvent &&
        withEvents(messages, someEvent[0], spliced(eventsOf(messages[someEvent[0]]), someEvent[1], 0, someEvent[2]))
      );
    case "split":
      return splitRevision(prng, messages);
    case "bookmark":
      return someEvent && spliced(messages, someEvent[0], 0, { kind: "progress", revision: someEvent[2].revision });
    case "order":
      return reorder(prng, messages);
    case "value":
      return someEvent && replaceEvent(messages, someEvent, { ...someEvent[2], value: `${someEvent[2].value}!` });
    case "range": {
      const outside = KEYS.filter((k) => !inWatchRange(stream.range, k));
      return someEvent && outside.length > 0
        ? replaceEvent(messages, someEvent, { ...someEvent[2], key: prng.pick(outside) })
        : undefined;
    }
    case "uncommitted":
      return addUncommitted(prng, stream, revisions);
    case "terminal":
      return [
        ...messages,
        ...(messages.at(-1)?.kind === "canceled" ? [] : [{ kind: "canceled", reason: "shutdown" } as const]),
        { kind: "progress", revision: 0 },
      ];
  }
}

function replaceEvent(messages: readonly WatchMessage[], [i, j]: Located, replacement: WatchEvent): WatchMessage[] {
  return withEvents(messages, i, spliced(eventsOf(messages[i]), j, 1, replacement));
}

/** Drops every event of one revision that the stream still vouches for afterwards. */
function skipRevision(prng: Prng, messages: readonly WatchMessage[]): WatchMessage[] | undefined {
  const all = located(messages);
  const highestEvent = all.reduce((h, [, , e]) => Math.max(h, e.revision), 0);
  const highestProgress = messages.reduce((h, m) => Math.max(h, m.kind === "progress" ? m.revision : 0), 0);
  const pool = all.filter(([, , e]) => e.revision < highestEvent || e.revision <= highestProgress);
  if (pool.length === 0) return undefined;
  const [i, , victim] = prng.pick(pool);
  return withEvents(
    messages,
    i,
    eventsOf(messages[i]).filter((e) => e.revision !== victim.revision),
  );
}

/** Moves the tail of a revision of several events into a message of its own right after. */
function splitRevision(prng: Prng, messages: readonly WatchMessage[]): WatchMessage[] | undefined {
  const firsts = located(messages).filter(([i, j, e]) => eventsOf(messages[i])[j + 1]?.revision === e.revision);
  if (firsts.length === 0) return undefined;
  const [i, j] = prng.pick(firsts);
  const events = eventsOf(messages[i]);
  return spliced(
    messages,
    i,
    1,
    { kind: "events", events: events.slice(0, j + 1) },
    { kind: "events", events: events.slice(j + 1) },
  );
}

/** Swaps two neighbouring event messages, or in a stream of one, moves its last revision first. */
function reorder(prng: Prng, messages: readonly WatchMessage[]): WatchMessage[] | undefined {
  const indexes = messages.flatMap((m, i) => (m.kind === "events" ? [i] : []));
  if (indexes.length >= 2) {
    const k = prng.int(0, indexes.length - 1);
    const [a, b] = [indexes[k]!, indexes[k + 1]!];
    return spliced(spliced(messages, a, 1, messages[b]!), b, 1, messages[a]!);
  }
  if (indexes.length === 0) return undefined;
  const events = eventsOf(messages[indexes[0]!]);
  const last = events.at(-1)!.revision;
  if (events[0]!.revision === last) return undefined;
  const moved = [...events.filter((e) => e.revision === last), ...events.filter((e) => e.revision !== last)];
  return withEvents(messages, indexes[0]!, moved);
}

/**
 * Adds an event in range that no revision wrote: on a key its revision left alone, or else one past the
 * end of the history.
 */
function addUncommitted(
  prng: Prng,
  stream: RecordedWatch,
  revisions: readonly (readonly WatchEvent[])[],
): WatchMessage[] {
  const { messages, range } = stream;
  const candidates = [...KEYS, "key" in range ? range.key : "prefix" in range ? `${range.prefix}q` : range.from];
  const keys = candidates.filter((k) => inWatchRange(range, k));
  const spots = located(messages).flatMap(([i, j, e]) => {
    const written = new Set(revisions[e.revision - 1]!.map((w) => w.key));
    return keys
      .filter((k) => !written.has(k))
      .map((key): Located => [i, j, { ...e, type: "put", key, value: "bogus" }]);
  });
  if (spots.length > 0) {
    const [i, j, bogus] = prng.pick(spots);
    return withEvents(messages, i, spliced(eventsOf(messages[i]), j + 1, 0, bogus));
  }
  const beyond: WatchMessage = {
    kind: "events",
    events: [{ type: "put", key: keys[0]!, value: "bogus", revision: revisions.length + 1 }],
  };
  const canceled = messages.at(-1)?.kind === "canceled";
  return canceled ? spliced(messages, messages.length - 1, 0, beyond) : [...messages, beyond];
}
