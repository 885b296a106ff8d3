const descriptions: Record<string, string> = {
  ENOENT: "no such file or directory",
  EEXIST: "file already exists",
  EBADF: "bad file descriptor",
  EIO: "i/o error",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EISDIR: "illegal operation on a directory",
  ENOTDIR: "not a directory",
  EACCES: "permission denied",
};

/** An Error shaped like Node's fs errors: `code`, `syscall`, `path`, message "CODE: what, syscall 'path'". */
export function errnoError(code: string, syscall: string, path: string): Error {
  const error = new Error(`${code}: ${descriptions[code] ?? "simulated failure"}, ${syscall} '${path}'`);
  return Object.assign(error, { code, syscall, path });
}
