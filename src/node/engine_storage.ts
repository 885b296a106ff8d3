import type { EngineTypes, SnapshotRef, SnapshotTaken } from "../engine/engine.js";
import type { RaftTypes } from "../engine/raft.js";
import type { SnapshotFileWriter, StorageResult } from "../storage/index.js";
import type { Term } from "../util/ids.js";
import type { NodeStorage } from "./node_storage.js";

/** How one engine's durable writes are made durable; the WAL and snapshot store below are shared. */
export interface EngineStorage<E extends EngineTypes> {
  /** Calls may overlap; each completes after the ones asked for before it. */
  persist(write: E["write"], mustSync: boolean): Promise<StorageResult<void>>;
  /**
   * Starts this node's own snapshot file, written a piece at a time as it is encoded; its `finish`
   * makes it durable, then lets the log forget what it covers.
   */
  beginSnapshot(taken: SnapshotTaken<E["snapshot"]>): SnapshotFileWriter;
  /** The data of a snapshot this node stored (for a peer that needs it). */
  loadSnapshotData(ref: SnapshotRef): Promise<StorageResult<Uint8Array>>;
  close(): Promise<StorageResult<void>>;
}

/** Raft's node storage behind the seam. */
export function raftStorage(storage: NodeStorage): EngineStorage<RaftTypes> {
  return {
    persist: (ready) => storage.persist(ready),
    beginSnapshot: (taken) => storage.beginSnapshot(taken.store.meta, taken.store.compact),
    loadSnapshotData: (ref) => storage.loadSnapshotData({ index: ref.index, term: ref.term as Term }),
    close: () => storage.close(),
  };
}
