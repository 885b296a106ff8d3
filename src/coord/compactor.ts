import { encodeCommand, type KvStore } from "../kv/index.js";
import type { Clock, Timer } from "../node/index.js";
import type { HistoryView } from "./watch_hub.js";

/** What the compactor needs of the Raft node (RaftNode has it). */
export interface CompactionProposer {
  status(): { readonly role: string };
  propose(command: Uint8Array): Promise<unknown>;
}

interface CompactorOptions {
  readonly kv: KvStore;
  readonly history: HistoryView;
  readonly raft: CompactionProposer;
  readonly clock: Clock;
  /** Compact when the history holds more revisions than this (default 100,000)... */
  readonly historyRevisionsMax?: number;
  /** ...or takes more bytes than this (default 64 MiB). */
  readonly historyBytesMax?: number;
  readonly checkIntervalMs?: number;
}

/**
 * Keeps the members' event histories bounded: on the leader only, every second, when its history
 * holds more than historyRevisionsMax revisions or historyBytesMax bytes, it proposes a compaction
 * that keeps the newest half. The compaction is a log entry, so every member forgets the same
 * revisions. A proposal that fails (a leader change, a full log) is simply tried again next check.
 */
export class Compactor {
  readonly #options: CompactorOptions;
  readonly #bounds: { readonly revisionsMax: number; readonly bytesMax: number };
  readonly #timer: Timer;
  #proposing = false;

  constructor(options: CompactorOptions) {
    this.#options = options;
    this.#bounds = {
      revisionsMax: options.historyRevisionsMax ?? 100_000,
      bytesMax: options.historyBytesMax ?? 64 * 1024 * 1024,
    };
    this.#timer = options.clock.every(options.checkIntervalMs ?? 1000, () => this.#check());
  }

  close(): void {
    this.#timer.cancel();
  }

  #check(): void {
    const { kv, history, raft } = this.#options;
    if (this.#proposing || raft.status().role !== "leader") return;
    const revision = history.compactionTarget(this.#bounds);
    if (revision === undefined || revision <= kv.compactRevision() || revision > kv.revision()) return;
    this.#proposing = true;
    // One at a time: the next check would otherwise propose the same revision again, to be refused.
    raft.propose(encodeCommand({ type: "compact", revision })).then(
      () => (this.#proposing = false),
      () => (this.#proposing = false),
    );
  }
}
