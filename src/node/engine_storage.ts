import type { EngineTypes, SnapshotRef, SnapshotTaken } from "../engine/engine.js";
import type { RaftTypes } from "../engine/raft.js";
import type { StorageResult } from "../storage/index.js";
import type { Term } from "../util/ids.js";
import type { NodeStorage } from "./node_storage.js";

/** How one engine's durable writes are made durable; the WAL and snapshot store below are shared. */
export interface EngineStorage<E extends EngineTypes> {
  /** Calls may overlap; each completes after the ones asked for before it. */
  persist(write: E["write"], mustSync: boolean): Promise<StorageResult<void>>;
  /** Stores this node's own snapshot, then lets the log forget what it covers. */
  saveSnapshot(taken: SnapshotTaken<E["snapshot"]>, data: Uint8Array): Promise<StorageResult<void>>;
  /** The data of a snapshot this node stored (for a peer that needs it). */
  loadSnapshotData(ref: SnapshotRef): Promise<StorageResult<Uint8Array>>;
  close(): Promise<StorageResult<void>>;
}

/** Raft's node storage behind the seam. */
export function raftStorage(storage: NodeStorage): EngineStorage<RaftTypes> {
  return {
    persist: (ready) => storage.persist(ready),
    saveSnapshot: (taken, data) => storage.saveSnapshot({ meta: taken.store.meta, data }, taken.store.compact),
    loadSnapshotData: (ref) => storage.loadSnapshotData({ index: ref.index, term: ref.term as Term }),
    close: () => storage.close(),
  };
}
