/**
 * Watch streams as clients record them: events, messages, ranges, and the violations the watch checker
 * (watch_checker.ts) reports against a committed history (watch_history.ts).
 */

/** One change at one revision. A txn writes each key at most once, so (revision, key) names an event. */
export interface WatchEvent {
  readonly type: "put" | "delete";
  readonly key: string;
  readonly value: string;
  readonly revision: number;
}

/**
 * The keys a watch covers: one key; every key starting with `prefix` ("" = all); or `from` ≤ key < `to`
 * (no `to` = no upper bound). Comparison is JavaScript's (UTF-16 code units): callers that convert
 * bytes to strings keep byte order for ASCII keys.
 */
export type WatchRange =
  { readonly key: string } | { readonly prefix: string } | { readonly from: string; readonly to?: string };

export type WatchMessage =
  | { readonly kind: "events"; readonly events: readonly WatchEvent[] }
  | { readonly kind: "progress"; readonly revision: number }
  | { readonly kind: "canceled"; readonly reason: string; readonly compactRevision?: number };

/** One connection's worth of a watch: the revision it asked to start from and what it received, in order. */
export interface WatchSegment {
  readonly startRevision: number;
  readonly messages: readonly WatchMessage[];
}

/**
 * A watch as the application saw it. For a watch resumed across reconnects, `messages` is what the
 * client delivered over all of them, so it is checked as one stream; `checkResumedSegments` checks the
 * reconnects themselves.
 */
export interface RecordedWatch extends WatchSegment {
  readonly name: string;
  readonly range: WatchRange;
}

export type WatchGuarantee =
  "ordered" | "unique" | "reliable" | "atomic" | "resumable" | "bookmarkable" | "terminal" | "divergent";

export interface WatchViolation {
  readonly guarantee: WatchGuarantee;
  readonly watch: string;
  readonly detail: string;
}

export function inWatchRange(range: WatchRange, key: string): boolean {
  if ("key" in range) return key === range.key;
  if ("prefix" in range) return key.startsWith(range.prefix);
  return range.from <= key && (range.to === undefined || key < range.to);
}

/** Every key is in the range, so every revision has an event in it. */
export function coversKeyspace(range: WatchRange): boolean {
  if ("key" in range) return false;
  if ("prefix" in range) return range.prefix === "";
  return range.from === "" && range.to === undefined;
}

export function describeRange(range: WatchRange): string {
  if ("key" in range) return `key ${quote(range.key)}`;
  if ("prefix" in range) return `prefix ${quote(range.prefix)}`;
  return `[${quote(range.from)}, ${range.to === undefined ? "∞" : quote(range.to)})`;
}

/** A delete's value is shown only when there is one, since events are compared with it too. */
export function describeEvent(e: WatchEvent): string {
  if (e.type === "put") return `put ${quote(e.key)}=${quote(e.value)}`;
  return e.value === "" ? `delete ${quote(e.key)}` : `delete ${quote(e.key)} (value ${quote(e.value)})`;
}

// Values may be large: a detail names them, it does not reproduce them.
export function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

export function sameEvent(a: WatchEvent, b: WatchEvent): boolean {
  return a.type === b.type && a.key === b.key && a.value === b.value;
}

/**
 * How many of `messages` count: all of them, or those up to a cancellation, which ends the stream
 * (anything after it breaks terminality).
 */
export function untilCancellation(messages: readonly WatchMessage[]): number {
  const canceled = messages.findIndex((m) => m.kind === "canceled");
  return canceled === -1 ? messages.length : canceled + 1;
}

/** At most this many violations are reported per watch: the first say what broke, the rest mostly echo it. */
export const MAX_VIOLATIONS_PER_WATCH = 10;

export class ViolationLog {
  readonly list: WatchViolation[] = [];

  constructor(private readonly watch: string) {}

  get full(): boolean {
    return this.list.length >= MAX_VIOLATIONS_PER_WATCH;
  }

  add(guarantee: WatchGuarantee, detail: string): void {
    if (!this.full) this.list.push({ guarantee, watch: this.watch, detail });
  }
}
