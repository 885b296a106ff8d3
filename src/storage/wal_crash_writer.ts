/**
 * The process that wal_crash.test.ts kills: it appends to the WAL in `argv[2]` forever, with a new
 * term on every start, a few saves in flight at once, and periodic compaction, and prints
 * "<index> <term>" for the last entry of each save once save() has resolved (the acknowledgement a
 * Raft node would send). Entry data is a function of (index, term), so the test can check content.
 */
import { pathToFileURL } from "node:url";
import { assert } from "../util/assert.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import { fsDisk } from "./fs_disk.js";
import type { StoredEntry } from "./types.js";
import { Wal } from "./wal.js";

const savesInFlightMax = 4;
const compactEverySaves = 50;

export function crashEntryData(index: number, t: number): Uint8Array {
  return new TextEncoder().encode(`entry ${index} of term ${t} `.repeat(1 + (index % 5)));
}

async function main(dir: string): Promise<void> {
  const opened = await Wal.open(fsDisk, dir, { walSegmentBytesMax: 16 * 1024 });
  if (!opened.ok) throw new Error(opened.error.message);
  const { wal, recovered } = opened.value;
  const t = term((recovered.hardState?.term ?? 0) + 1);
  const lastBefore = recovered.entries[recovered.entries.length - 1]?.index ?? recovered.snapshot?.index ?? 0;
  let next = lastBefore + 1;
  let acked = lastBefore;
  let saves = 0;
  const inFlight = new Set<Promise<void>>();
  for (;;) {
    const entries: StoredEntry[] = [];
    for (let k = 0; k < 1 + (saves % 13); k++, next++) {
      entries.push({ index: logIndex(next), term: t, kind: "normal", data: crashEntryData(next, t) });
    }
    const last = next - 1;
    const saving = wal
      .save({ entries, hardState: { term: t, vote: nodeId(1), commit: logIndex(acked) } })
      .then((result) => {
        if (!result.ok) throw new Error(result.error.message);
        acked = last;
        process.stdout.write(`${last} ${t}\n`);
      });
    inFlight.add(saving);
    void saving.finally(() => inFlight.delete(saving));
    if (++saves % compactEverySaves === 0 && acked > lastBefore) {
      const compacted = await wal.compact({ index: logIndex(acked), term: t });
      if (!compacted.ok) throw new Error(compacted.error.message);
    }
    if (inFlight.size >= savesInFlightMax) await Promise.race(inFlight);
  }
}

// Imported by the test for crashEntryData; runs only as the entry script.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2];
  assert(dir !== undefined, "usage: wal_crash_writer DIR");
  await main(dir);
}
