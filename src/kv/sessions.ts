import { assert } from "../util/assert.js";
import type { LogIndex } from "../util/ids.js";
import { logIndex } from "../util/ids.js";
import type { Reader, Writer } from "./binary.js";
import { asciiBytes, asciiString, isVisibleAscii } from "./binary.js";
import type { Session } from "./commands.js";
import { clientIdBytesMax } from "./limits.js";
import type { ExecutedResult } from "./results.js";
import { readResult, resultSize, writeResult } from "./results.js";

/** Bounds of the session table; every replica must use the same values (they shape the replicated state). */
export interface SessionLimits {
  /** At least 1: beyond it, a new client's session evicts the least recently used one. */
  readonly sessionsMax: number;
  /** At least 1: a session unused while this many log entries were applied is dropped. */
  readonly sessionExpiryEntries: number;
}

/** A client's last executed write: its seq, its result, and the index of the entry that last used it. */
interface SessionEntry {
  readonly seq: number;
  readonly result: ExecutedResult;
  readonly lastIndex: LogIndex;
}

/** What to do with a command carrying a session. */
type SessionCheck =
  | { readonly type: "new" }
  | { readonly type: "duplicate"; readonly result: ExecutedResult }
  | { readonly type: "stale" };

/**
 * The exactly-once table (Raft thesis §6.3): clientId → the last write executed for it. Everything
 * here is decided by log index, never by a clock, so every replica keeps and drops the same sessions.
 *
 * Invariants: at most `sessionsMax` entries; the Map's insertion order is the order of `lastIndex`,
 * strictly increasing (each entry touches at most one session, and moves it to the end), so the first
 * entry is the least recently used one and expiry and eviction both take from the front.
 */
export class SessionTable {
  readonly #limits: SessionLimits;
  readonly #entries: Map<string, SessionEntry>;

  constructor(limits: SessionLimits, entries: Map<string, SessionEntry> = new Map()) {
    assert(Number.isSafeInteger(limits.sessionsMax) && limits.sessionsMax >= 1, `sessionsMax ${limits.sessionsMax}`);
    assert(
      Number.isSafeInteger(limits.sessionExpiryEntries) && limits.sessionExpiryEntries >= 1,
      `sessionExpiryEntries ${limits.sessionExpiryEntries}`,
    );
    this.#limits = limits;
    this.#entries = entries;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(clientId: string): SessionEntry | undefined {
    return this.#entries.get(clientId);
  }

  /** Drops the sessions not used in the `sessionExpiryEntries` entries before `index`. */
  expire(index: LogIndex): void {
    for (const [clientId, entry] of this.#entries) {
      if (index - entry.lastIndex < this.#limits.sessionExpiryEntries) return;
      this.#entries.delete(clientId);
    }
  }

  /**
   * Whether the command of `session` at `index` is new, a retry of the client's last write (whose
   * result is returned, and the session counts as used), or older than it.
   */
  check(session: Session, index: LogIndex): SessionCheck {
    const entry = this.#entries.get(session.clientId);
    if (entry === undefined || session.seq > entry.seq) return { type: "new" };
    if (session.seq < entry.seq) return { type: "stale" };
    this.#touch(session.clientId, { ...entry, lastIndex: index });
    return { type: "duplicate", result: entry.result };
  }

  /** Remembers the result of the client's new write at `index`, evicting the least recently used session if full. */
  record(session: Session, result: ExecutedResult, index: LogIndex): void {
    this.#touch(session.clientId, { seq: session.seq, result, lastIndex: index });
    if (this.#entries.size > this.#limits.sessionsMax) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }

  #touch(clientId: string, entry: SessionEntry): void {
    this.#entries.delete(clientId);
    this.#entries.set(clientId, entry);
  }

  /** Bytes `write` takes. */
  encodedSize(): number {
    let size = 4;
    for (const [clientId, entry] of this.#entries) size += 1 + clientId.length + 16 + resultSize(entry.result);
    return size;
  }

  /**
   * Little-endian: u32 count, then in least-recently-used-first order (by lastIndex, so the same table
   * gives the same bytes): u8 clientId length, clientId, u64 seq, u64 lastIndex, result (results.ts).
   */
  write(w: Writer): void {
    w.u32(this.#entries.size);
    for (const [clientId, entry] of this.#entries) {
      w.u8(clientId.length);
      w.raw(asciiBytes(clientId)!);
      w.u64(entry.seq);
      w.u64(entry.lastIndex);
      writeResult(w, entry.result);
    }
  }

  /**
   * The table `write` wrote, checked against the state it was saved with (`appliedIndex`, `revision`)
   * and these limits, or why the bytes cannot be one. A table that these limits would not have kept
   * means replicas disagree on the limits, which would make them disagree on which retries to apply.
   */
  static read(
    r: Reader,
    saved: { readonly limits: SessionLimits; readonly appliedIndex: LogIndex; readonly revision: number },
  ): SessionTable | string {
    const { limits, appliedIndex, revision } = saved;
    const count = r.u32();
    if (count === undefined) return "truncated session count";
    if (count > limits.sessionsMax) return `${count} sessions, over sessionsMax ${limits.sessionsMax} (limits differ?)`;
    const entries = new Map<string, SessionEntry>();
    let previousIndex = 0;
    for (let i = 0; i < count; i++) {
      const length = r.u8();
      const id = length === undefined ? undefined : r.raw(length);
      const seq = r.u64();
      const lastIndex = r.u64();
      if (id === undefined || seq === undefined || lastIndex === undefined) return `session ${i}: truncated`;
      if (id.length === 0 || id.length > clientIdBytesMax || !isVisibleAscii(id)) return `session ${i}: bad clientId`;
      const clientId = asciiString(id);
      if (entries.has(clientId)) return `session ${i}: clientId ${clientId} repeated`;
      if (lastIndex <= previousIndex || lastIndex > appliedIndex) {
        return `session ${i}: lastIndex ${lastIndex} out of order (previous ${previousIndex}, applied ${appliedIndex})`;
      }
      if (appliedIndex - lastIndex >= limits.sessionExpiryEntries) {
        return `session ${i}: lastIndex ${lastIndex} should have expired by ${appliedIndex} (limits differ?)`;
      }
      const result = readResult(r, revision);
      if (typeof result === "string") return `session ${i}: ${result}`;
      entries.set(clientId, { seq, result, lastIndex: logIndex(lastIndex) });
      previousIndex = lastIndex;
    }
    return new SessionTable(limits, entries);
  }
}
