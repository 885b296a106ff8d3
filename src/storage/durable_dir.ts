import { dirname, normalize } from "node:path";
import type { Disk } from "./disk.js";

/**
 * Creates `dir` and any missing parents, then makes the whole path durable. It syncs every directory
 * from the top of the path down to `dir` itself, so that each level's name survives a crash, and
 * so do the entries already in `dir`.
 *
 * It syncs every level, and not only the ones this call created. A process that was killed between
 * its mkdir and its syncs leaves directories that exist only in the page cache, and they look no
 * different from durable ones, so this cannot tell which levels need it. The same goes for entries
 * in `dir` that such a process created, renamed or unlinked: they are made durable before anyone
 * builds on them. A relative path stops at ".", which mkdir never creates.
 */
export async function mkdirDurable(disk: Disk, dir: string): Promise<void> {
  await disk.mkdir(dir);
  const levels: string[] = [];
  for (let level = normalize(dir); ; level = dirname(level)) {
    levels.push(level);
    if (dirname(level) === level) break;
  }
  // From the top down: a crash part way leaves a durable prefix of the path, never an orphan.
  for (const level of levels.reverse()) await disk.syncDir(level);
}
