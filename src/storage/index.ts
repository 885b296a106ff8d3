/** Storage: the durable Raft log (WAL) and snapshot files, over an injected `Disk`. */
export type { Disk, DiskFile } from "./disk.js";
export { mkdirDurable } from "./durable_dir.js";
export type { StorageError, StorageResult } from "./errors.js";
export { fsDisk } from "./fs_disk.js";
export { SnapshotStore } from "./snapshot_store.js";
export type { SnapshotFileWriter } from "./snapshot_writer.js";
export { Wal } from "./wal.js";
