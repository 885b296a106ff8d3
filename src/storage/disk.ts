/**
 * The few file operations the WAL and the snapshot store need, async so that a slow disk never
 * blocks the event loop. The node:fs implementation is `fsDisk`; the simulator supplies one that
 * loses unsynced writes, tears them and flips bits, which is why storage never touches node:fs itself.
 *
 * Failures: an operating failure (disk full, I/O error, missing file) rejects with an Error whose
 * `code` is an errno name ("ENOSPC", "EIO", "ENOENT", ...). Any other rejection is treated as a bug
 * and propagates.
 *
 * Durability contract, as on POSIX: written bytes survive a crash only after `datasync()` on that
 * file, or once a write through a handle opened with `durableWrites` has resolved; a created,
 * renamed or unlinked name survives only after `syncDir()` on its directory.
 */
export interface Disk {
  /**
   * Opens a file for reading and writing; with `create` the file must not exist yet (O_EXCL). With
   * `durableWrites` (O_DSYNC) each write is durable when it resolves: its bytes and the file size they
   * need, in one call instead of a write and a datasync. Nothing else is: a truncate, or what other
   * handles wrote, still needs `datasync()`.
   */
  open(path: string, options: { readonly create: boolean; readonly durableWrites?: boolean }): Promise<DiskFile>;
  readFile(path: string): Promise<Uint8Array>;
  /** Names (not paths) of the entries in `dir`, in no particular order. */
  list(dir: string): Promise<string[]>;
  /** Creates `dir` and any missing parents; succeeds if it exists. */
  mkdir(dir: string): Promise<void>;
  /** Atomically replaces `to` (if it exists) with `from`. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Makes the creations, renames and unlinks of names in `dir` durable (fsync on the directory). */
  syncDir(dir: string): Promise<void>;
}

/** An open file. Callers own it and must close it; positions are byte offsets from the start. */
export interface DiskFile {
  /**
   * Writes all of `data` at `position` (short writes are the implementation's to retry); durable when
   * it resolves if the file was opened with `durableWrites`. `data` is only borrowed: an
   * implementation that keeps it past the returned promise must copy it.
   */
  write(data: Uint8Array, position: number): Promise<void>;
  /** Makes the file's data and size durable (fdatasync). */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}
