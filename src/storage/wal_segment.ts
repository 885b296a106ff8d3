/**
 * Segment file names: `<seq>-<firstIndex>.wal`, both 16 hex digits so that names sort like numbers.
 * `seq` counts segments from 0 with no gaps, so a missing file shows. `firstIndex` is the index the
 * log expected next when the segment was created; an overwrite may later write lower indexes into it.
 */
const pattern = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

export interface SegmentName {
  readonly name: string;
  readonly seq: number;
  readonly firstIndex: number;
}

export function segmentName(seq: number, firstIndex: number): SegmentName {
  return { name: `${hex16(seq)}-${hex16(firstIndex)}.wal`, seq, firstIndex };
}

/** The segments among `names` (other files are not the WAL's business), in sequence order. */
export function parseSegmentNames(names: readonly string[]): SegmentName[] {
  const segments: SegmentName[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (match === null) continue;
    segments.push({ name, seq: parseInt(match[1]!, 16), firstIndex: parseInt(match[2]!, 16) });
  }
  return segments.sort((a, b) => a.seq - b.seq);
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, "0");
}
