import type { KvStore } from "../kv/index.js";
import type { Clock } from "../node/index.js";
import { Compactor, type CompactionProposer } from "./compactor.js";
import { WatchHub } from "./watch_hub.js";

interface WatchServiceOptions {
  readonly kv: KvStore;
  readonly clock: Clock;
  readonly bufferEventsMax?: number;
  readonly progressIntervalMs?: number;
  readonly historyRevisionsMax?: number;
  readonly historyBytesMax?: number;
}

/** A member's watch hub and, once its Raft node runs, the compactor that bounds the hub's history. */
export interface WatchService {
  readonly hub: WatchHub;
  /** Starts the compactor (once): it proposes through `raft` when this member leads. */
  startCompactor(raft: CompactionProposer): void;
  /** Stops the compactor and ends every watch with `stopping`. */
  close(): void;
}

/**
 * The hub listens to the store from the moment it is created, so create the service before the
 * node: the entries a restarting member replays then enter its history too.
 */
export function createWatchService(options: WatchServiceOptions): WatchService {
  const hub = new WatchHub(options);
  let compactor: Compactor | undefined;
  return {
    hub,
    startCompactor: (raft) => {
      compactor ??= new Compactor({ ...options, history: hub.history, raft });
    },
    close: () => {
      compactor?.close();
      hub.close();
    },
  };
}
