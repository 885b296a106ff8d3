import { nodeId, type NodeId } from "../util/ids.js";

/** What a member name may look like: short, printable, safe in a path and a URL. */
const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function isValidName(name: string): boolean {
  return namePattern.test(name);
}

/**
 * Raft's numeric id for a member name (FNV-1a, never 0). Operators use names ("n1"); the core and
 * the wire use numbers. Two names of one cluster that hash alike are refused where members are
 * added, so the mapping stays one to one.
 */
export function nodeIdOf(name: string): NodeId {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return nodeId(hash === 0 ? 1 : hash);
}
