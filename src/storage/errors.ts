/**
 * Operating errors of the storage layer, returned as values (DESIGN rule 5). `message` is always one
 * line that names the file, so a node can print it and exit.
 * - corrupt: data on disk that cannot be what this code wrote; `offset` is the byte where it starts.
 *   The node must not start: guessing would risk dropping writes that were acknowledged.
 * - noSpace: the disk is full (ENOSPC, EDQUOT).
 * - io: any other failure the disk reported (EIO, EACCES, ...), `code` being its errno name.
 */
export type StorageError =
  | { readonly type: "corrupt"; readonly file: string; readonly offset: number; readonly message: string }
  | { readonly type: "noSpace"; readonly file: string; readonly message: string }
  | { readonly type: "io"; readonly file: string; readonly code: string; readonly message: string };

export type StorageResult<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: StorageError };

export const OK: StorageResult<void> = { ok: true, value: undefined };

export function corrupt(file: string, offset: number, why: string): StorageError {
  return { type: "corrupt", file, offset, message: `corrupt ${file} at byte ${offset}: ${why}` };
}

/**
 * Turns a rejection from `Disk` into a StorageError. A rejection without an errno `code` is not an
 * operating error but a bug, so it is rethrown.
 */
export function diskError(cause: unknown, doing: string, file: string): StorageError {
  const code = cause instanceof Error && "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
  if (code === undefined) throw cause;
  const detail = cause instanceof Error ? cause.message.split("\n", 1)[0] : code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return { type: "noSpace", file, message: `disk full while ${doing} ${file}: ${detail}` };
  }
  return { type: "io", file, code, message: `${code} while ${doing} ${file}: ${detail}` };
}

export function failed<T>(error: StorageError): StorageResult<T> {
  return { ok: false, error };
}
