/**
 * Checks recorded watch streams against etcd's watch guarantees: ordered, unique, reliable, atomic,
 * resumable (through the logical stream, and checkResumedSegments for the reconnects), bookmarkable, and
 * a cancellation ends the stream. One pass over the stream, then one over the history's revisions in
 * the window the stream vouched for: time and memory linear in both.
 */
import { assert } from "../util/assert.js";
import {
  ViolationLog,
  coversKeyspace,
  describeEvent,
  describeRange,
  inWatchRange,
  sameEvent,
  untilCancellation,
} from "./watch_stream.js";
import type { RecordedWatch, WatchEvent, WatchMessage, WatchSegment, WatchViolation } from "./watch_stream.js";
import type { CommittedHistory } from "./watch_history.js";

/**
 * The violations of `watch` against `history`, at most MAX_VIOLATIONS_PER_WATCH, in the order found:
 * the stream's messages first, then the events it vouched for but never delivered.
 */
export function checkWatch(history: CommittedHistory, watch: RecordedWatch): WatchViolation[] {
  assertStart(watch.name, watch.startRevision);
  const log = new ViolationLog(watch.name);
  const scan = new StreamScan(history, watch, log);
  const end = untilCancellation(watch.messages);
  for (let i = 0; i < end && !log.full; i++) scan.message(i, watch.messages[i]!);
  reportAfterCancellation(watch.messages, end, log, "");
  if (!log.full) checkVouched(history, watch, scan, log);
  return log.list;
}

/**
 * The reconnects of one watch: each segment must resume no later than one past the highest revision the
 * segments before it vouched for (an event or a progress notification), and each ends at its cancellation.
 */
export function checkResumedSegments(watch: string, segments: readonly WatchSegment[]): WatchViolation[] {
  const log = new ViolationLog(watch);
  let vouched = 0;
  segments.forEach((segment, k) => {
    assertStart(watch, segment.startRevision);
    const start = segment.startRevision;
    if (k > 0 && start > vouched + 1) {
      log.add(
        "resumable",
        `segment ${k} resumed at revision ${start}, but the segments before it vouched only up to revision ` +
          `${vouched}: ${revisionSpan(vouched + 1, start - 1)} lost`,
      );
    }
    const end = untilCancellation(segment.messages);
    reportAfterCancellation(segment.messages, end, log, `segment ${k}: `);
    vouched = Math.max(vouched, start - 1, highestVouched(segment.messages, end));
  });
  return log.list;
}

function assertStart(watch: string, startRevision: number): void {
  assert(
    Number.isSafeInteger(startRevision) && startRevision >= 1,
    `watch ${watch}: startRevision ${startRevision} is not a revision (revisions start at 1)`,
  );
}

function reportAfterCancellation(
  messages: readonly WatchMessage[],
  end: number,
  log: ViolationLog,
  where: string,
): void {
  if (end === messages.length) return;
  log.add(
    "terminal",
    `${where}message ${end} (${messages.length - end} in all) follows the cancellation in message ${end - 1}`,
  );
}

function highestVouched(messages: readonly WatchMessage[], end: number): number {
  let highest = 0;
  for (const m of messages.slice(0, end)) {
    if (m.kind === "progress" && Number.isSafeInteger(m.revision)) highest = Math.max(highest, m.revision);
    if (m.kind !== "events") continue;
    for (const e of m.events) if (Number.isSafeInteger(e.revision)) highest = Math.max(highest, e.revision);
  }
  return highest;
}

/** Where each revision was delivered: the message it began in and its keys. */
interface Delivered {
  readonly message: number;
  readonly keys: Set<string>;
}

/** The checks made message by message, and what the checks of the whole stream need from them. */
class StreamScan {
  readonly delivered = new Map<number, Delivered>();
  highestEvent = 0;
  highestProgress = 0;
  progressMessage = -1;

  constructor(
    private readonly history: CommittedHistory,
    private readonly watch: RecordedWatch,
    private readonly log: ViolationLog,
  ) {}

  message(index: number, m: WatchMessage): void {
    switch (m.kind) {
      case "events":
        for (let j = 0; j < m.events.length && !this.log.full; j++) this.#event(index, j, m.events[j]!);
        return;
      case "progress":
        this.#progress(index, m.revision);
        return;
      case "canceled":
        return;
    }
  }

  #event(message: number, position: number, e: WatchEvent): void {
    const where = (): string => `message ${message} event ${position} (${describeEvent(e)} at revision ${e.revision})`;
    let seen = this.delivered.get(e.revision);
    if (seen?.keys.has(e.key) === true) {
      this.log.add("unique", `${where()} was already delivered (its revision first in message ${seen.message})`);
      return;
    }
    this.#checkPlace(message, e, seen, where);
    this.#checkContent(e, where);
    if (seen === undefined) this.delivered.set(e.revision, (seen = { message, keys: new Set() }));
    seen.keys.add(e.key);
    if (Number.isSafeInteger(e.revision)) this.highestEvent = Math.max(this.highestEvent, e.revision);
  }

  #checkPlace(message: number, e: WatchEvent, seen: Delivered | undefined, where: () => string): void {
    if (e.revision < this.highestEvent) {
      this.log.add("ordered", `${where()} came after an event at revision ${this.highestEvent}`);
    } else if (seen !== undefined && seen.message !== message) {
      this.log.add("atomic", `${where()}: its revision was split, it began in message ${seen.message}`);
    } else if (e.revision <= this.highestProgress && e.revision >= this.watch.startRevision) {
      this.log.add(
        "bookmarkable",
        `${where()} came after the progress notification at revision ${this.highestProgress} ` +
          `(message ${this.progressMessage})`,
      );
    }
  }

  #checkContent(e: WatchEvent, where: () => string): void {
    const { history, watch } = this;
    if (!inWatchRange(watch.range, e.key)) {
      this.log.add("reliable", `${where()} is outside the watch's range ${describeRange(watch.range)}`);
    } else if (!Number.isSafeInteger(e.revision) || e.revision < watch.startRevision) {
      this.log.add("reliable", `${where()} is not at a revision from the start revision ${watch.startRevision} on`);
    } else if (!history.knows(e.revision)) {
      if (history.complete) {
        this.log.add(
          "reliable",
          `${where()} was never committed: no revision ${e.revision} was (the last is ${history.lastRevision})`,
        );
      }
    } else {
      const committed = history.event(e.revision, e.key);
      if (committed === undefined) {
        this.log.add("reliable", `${where()} was never committed: its revision wrote nothing on that key`);
      } else if (!sameEvent(committed, e)) {
        this.log.add("reliable", `${where()} differs from the committed ${describeEvent(committed)}`);
      }
    }
  }

  #progress(message: number, revision: number): void {
    if (!Number.isSafeInteger(revision) || revision < 0) {
      this.log.add("bookmarkable", `message ${message}: progress notification at ${revision}, not a revision`);
      return;
    }
    if (this.history.complete && revision > this.history.lastRevision) {
      this.log.add(
        "bookmarkable",
        `message ${message}: progress notification at revision ${revision}, ` +
          `past the last committed revision ${this.history.lastRevision}`,
      );
    }
    if (revision > this.highestProgress) {
      this.highestProgress = revision;
      this.progressMessage = message;
    }
  }
}

/**
 * Every event in range from the start revision up to the highest revision the stream vouched for was
 * delivered (checked where the history knows the revision). A whole-keyspace watch also needs no
 * history: every revision has an event, so its revisions are contiguous; revisions it skipped whole
 * are reported as gaps rather than event by event.
 */
function checkVouched(history: CommittedHistory, watch: RecordedWatch, scan: StreamScan, log: ViolationLog): void {
  const vouched = Math.max(scan.highestEvent, scan.highestProgress);
  if (vouched < watch.startRevision) return;
  const how =
    scan.highestProgress > scan.highestEvent
      ? `by the progress notification in message ${scan.progressMessage}`
      : "by an event";
  const whole = coversKeyspace(watch.range);
  if (whole) {
    for (const gap of gaps(watch.startRevision, vouched, scan.delivered)) {
      log.add(
        "reliable",
        `${gap} never delivered, though every revision has an event and revision ${vouched} was vouched for ${how}`,
      );
    }
  }
  for (const revision of history.revisionsBetween(watch.startRevision, vouched)) {
    const seen = scan.delivered.get(revision);
    if (whole && seen === undefined) continue;
    for (const e of history.eventsAt(revision)) {
      if (!inWatchRange(watch.range, e.key) || seen?.keys.has(e.key) === true) continue;
      log.add(
        "reliable",
        `${describeEvent(e)} at revision ${revision} was never delivered, though revision ${vouched} was vouched for ${how}`,
      );
    }
    if (log.full) return;
  }
}

/** The revisions in [start, vouched] that nothing was delivered at, as spans. */
function gaps(start: number, vouched: number, delivered: ReadonlyMap<number, unknown>): string[] {
  const revisions = [...delivered.keys()].filter((r) => Number.isSafeInteger(r) && r >= start).sort((a, b) => a - b);
  const spans: string[] = [];
  let expected = start;
  for (const revision of [...revisions, vouched + 1]) {
    if (revision > expected) spans.push(revisionSpan(expected, revision - 1));
    expected = revision + 1;
  }
  return spans;
}

function revisionSpan(first: number, last: number): string {
  return first === last ? `revision ${first} was` : `revisions ${first}..${last} were`;
}
