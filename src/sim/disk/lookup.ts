import { posix } from "node:path";
import type { Dir, Inode } from "./crash_model.js";
import { errnoError } from "./errno.js";

/*
 * Path resolution in the live directory tree, failing as a file system does; `syscall` names the
 * call in the error, as Node's fs errors do.
 */

export function components(path: string): string[] {
  if (!posix.isAbsolute(path)) throw new Error(`SimDisk: paths must be absolute, not ${path}`);
  return posix
    .normalize(path)
    .split("/")
    .filter((name) => name !== "");
}

/** The directory that holds the last component of `path`, and that component. */
export function parentOf(root: Dir, path: string, syscall: string): { parent: Dir; name: string } {
  const names = components(path);
  const name = names.pop();
  if (name === undefined) throw errnoError("EISDIR", syscall, path);
  return { parent: walk(root, names, path, syscall), name };
}

export function dirAt(root: Dir, path: string, syscall: string): Dir {
  return walk(root, components(path), path, syscall);
}

export function fileAt(root: Dir, path: string, syscall: string): Inode {
  const { parent, name } = parentOf(root, path, syscall);
  const entry = parent.live.get(name);
  if (entry === undefined) throw errnoError("ENOENT", syscall, path);
  if (entry.type === "dir") throw errnoError("EISDIR", syscall, path);
  return entry.inode;
}

function walk(root: Dir, names: readonly string[], path: string, syscall: string): Dir {
  let dir = root;
  for (const name of names) {
    const entry = dir.live.get(name);
    if (entry === undefined) throw errnoError("ENOENT", syscall, path);
    if (entry.type !== "dir") throw errnoError("ENOTDIR", syscall, path);
    dir = entry.dir;
  }
  return dir;
}
