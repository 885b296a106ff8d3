import type { AcceptedRecord, Ballot, HardState } from "../paxos/multi/index.js";
import { logIndex, nodeId } from "../util/ids.js";
import { ByteReader, ByteWriter, DecodeError, U32_BYTES, U64_BYTES, U8_BYTES } from "../util/wire.js";

/*
 * Multi-Paxos's durable state as a journal of writes, each one WAL entry (docs/engines.md, "Durable
 * state per engine"): an acceptor's records replace their slot, not a suffix, so they cannot be
 * Raft entries; a journal entry holds one Ready's promise and records, and recovery keeps the
 * latest promise and the latest record per slot. A checkpoint is an entry like any other holding
 * every record still needed, after which the WAL forgets the entries before it. Big-endian:
 *   version:u8 (1) · hasPromise:u8 · [counter:u64 · node:u64] · count:u32 ·
 *   count × (slot:u64 · counter:u64 · node:u64 · kind:u8 (0 command, 1 noop) · data:bytes)
 */
const version = 1;
const recordBytesMin = U64_BYTES * 3 + U8_BYTES + U32_BYTES;

interface JournalEntry {
  readonly hardState: HardState | undefined;
  readonly accepted: readonly AcceptedRecord[];
}

export function encodeJournalEntry(entry: JournalEntry): Uint8Array {
  let size = U8_BYTES * 2 + (entry.hardState === undefined ? 0 : U64_BYTES * 2) + U32_BYTES;
  for (const r of entry.accepted) size += recordBytesMin + r.value.data.length;
  const w = new ByteWriter(new Uint8Array(size));
  w.u8(version);
  w.u8(entry.hardState === undefined ? 0 : 1);
  if (entry.hardState !== undefined) writeBallot(w, entry.hardState.promised);
  w.u32(entry.accepted.length);
  for (const r of entry.accepted) {
    w.u64(r.slot);
    writeBallot(w, r.ballot);
    w.u8(r.value.kind === "command" ? 0 : 1);
    w.bytes(r.value.data);
  }
  return w.finish("paxos journal entry");
}

/** A journal entry, or why it is not one (the WAL's checksum passed, so this is a bug or a foreign directory). */
export function decodeJournalEntry(
  bytes: Uint8Array,
): { ok: true; entry: JournalEntry } | { ok: false; error: string } {
  try {
    const r = new ByteReader(bytes);
    const v = r.u8("version");
    if (v !== version) r.fail("version", `unknown journal version ${v}`);
    const hasPromise = r.bool("hasPromise");
    const hardState = hasPromise ? { promised: readBallot(r) } : undefined;
    const count = r.count("count", recordBytesMin);
    const accepted: AcceptedRecord[] = [];
    for (let k = 0; k < count; k++) {
      const slot = logIndex(r.u64("slot"));
      const ballot = readBallot(r);
      const kind = r.u8("kind");
      if (kind > 1) r.fail("kind", `unknown value kind ${kind}`);
      const data = r.bytes("data").slice();
      accepted.push({ slot, ballot, value: { kind: kind === 0 ? "command" : "noop", data } });
    }
    r.end();
    return { ok: true, entry: { hardState, accepted } };
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, error: error.message };
    throw error;
  }
}

function writeBallot(w: ByteWriter, b: Ballot): void {
  w.u64(b.counter);
  w.u64(b.node);
}

function readBallot(r: ByteReader): Ballot {
  return { counter: r.u64("counter"), node: nodeId(r.u64("node")) };
}
