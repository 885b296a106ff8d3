import type { SnapshotMarker, StoredEntry } from "./types.js";

/**
 * The term of every index the WAL holds, which writes need to check continuity and to apply Raft's
 * snapshot rule. Kept as runs because terms change rarely: a run starts at `index` and lasts until
 * the next run starts or the log ends.
 * Invariants: offset ≤ last; runs are empty exactly when offset === last; runs[0].index === offset + 1;
 * run indexes strictly increase and run terms strictly increase.
 */
export interface LogTerms {
  /** The snapshot's index (0 when none): the entries held are offset+1 … last. */
  offset: number;
  offsetTerm: number;
  last: number;
  runs: { index: number; term: number }[];
}

export function logTerms(snapshot: SnapshotMarker | undefined, entries: readonly StoredEntry[]): LogTerms {
  const terms: LogTerms = {
    offset: snapshot?.index ?? 0,
    offsetTerm: snapshot?.term ?? 0,
    last: snapshot?.index ?? 0,
    runs: [],
  };
  appendTerms(terms, entries);
  return terms;
}

/** The term at `index`, or undefined if the WAL holds no entry (or snapshot) there. */
export function termAt(terms: LogTerms, index: number): number | undefined {
  if (index === terms.offset) return terms.offsetTerm;
  if (index < terms.offset || index > terms.last) return undefined;
  const runs = terms.runs;
  let low = 0;
  let high = runs.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (runs[middle]!.index <= index) low = middle;
    else high = middle - 1;
  }
  return runs[low]?.term;
}

/** Appends consecutive `entries`, first discarding any held at or after the first one's index. */
export function appendTerms(terms: LogTerms, entries: readonly StoredEntry[]): void {
  const first = entries[0];
  if (first === undefined) return;
  const runs = terms.runs;
  while (runs.length > 0 && runs[runs.length - 1]!.index >= first.index) runs.pop();
  for (const entry of entries) {
    if (runs[runs.length - 1]?.term !== entry.term) runs.push({ index: entry.index, term: entry.term });
  }
  terms.last = entries[entries.length - 1]!.index;
}

/**
 * Raft's rule for a snapshot (§7): if the log holds the snapshot's last entry, the entries after it
 * stay; otherwise the whole log is replaced by the snapshot. Returns whether the log was kept.
 */
export function compactTerms(terms: LogTerms, snapshot: SnapshotMarker): boolean {
  const logKept = termAt(terms, snapshot.index) === snapshot.term;
  if (logKept) {
    const runs = terms.runs;
    let drop = 0;
    while (drop < runs.length - 1 && runs[drop + 1]!.index <= snapshot.index + 1) drop++;
    runs.splice(0, drop);
    if (snapshot.index === terms.last) runs.length = 0;
    else if (runs[0] !== undefined) runs[0].index = snapshot.index + 1;
  } else {
    terms.runs = [];
    terms.last = snapshot.index;
  }
  terms.offset = snapshot.index;
  terms.offsetTerm = snapshot.term;
  return logKept;
}
