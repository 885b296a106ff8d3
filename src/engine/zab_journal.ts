import { ByteReader, ByteWriter, DecodeError, U32_BYTES, U64_BYTES, U8_BYTES } from "../util/wire.js";
import { compareZxid, epoch, formatZxid, ZXID_ZERO, type Epoch, type Epochs, type Txn } from "../zab/index.js";

/*
 * ZAB's durable state as a journal of writes, each one WAL entry (docs/engines.md, "Durable state
 * per engine"): a history write may cut a suffix without appending (a follower dropping an earlier
 * epoch's tail), which Raft's entries cannot say, and one Ready's history and epochs in one WAL
 * record land together or not at all (the core asks for the history before the epochs; one record
 * is stronger). Recovery replays the entries in order. Big-endian:
 *   version:u8 (1) · hasEpochs:u8 · [acceptedEpoch:u64 · currentEpoch:u64] ·
 *   hasTruncate:u8 · [truncateAfter:u64] · first:u64 · count:u32 ·
 *   count × (epoch:u64 · counter:u64 · data:bytes)
 * where `first` is the history position of the first appended transaction (0 when none is).
 */
const version = 1;
const txnBytesMin = U64_BYTES * 2 + U32_BYTES;

interface ZabJournalEntry {
  readonly epochs: Epochs | undefined;
  readonly truncateAfter: number | undefined;
  /** The history position of the first of `txns` (0 when none is appended). */
  readonly first: number;
  readonly txns: readonly Txn[];
}

export function encodeZabJournalEntry(entry: ZabJournalEntry): Uint8Array {
  let size = U8_BYTES * 3 + (entry.epochs === undefined ? 0 : U64_BYTES * 2) + U64_BYTES + U32_BYTES;
  if (entry.truncateAfter !== undefined) size += U64_BYTES;
  for (const txn of entry.txns) size += txnBytesMin + txn.data.length;
  const w = new ByteWriter(new Uint8Array(size));
  w.u8(version);
  w.bool(entry.epochs !== undefined);
  if (entry.epochs !== undefined) {
    w.u64(entry.epochs.acceptedEpoch);
    w.u64(entry.epochs.currentEpoch);
  }
  w.bool(entry.truncateAfter !== undefined);
  if (entry.truncateAfter !== undefined) w.u64(entry.truncateAfter);
  w.u64(entry.first);
  w.u32(entry.txns.length);
  for (const txn of entry.txns) {
    w.u64(txn.zxid.epoch);
    w.u64(txn.zxid.counter);
    w.bytes(txn.data);
  }
  return w.finish("zab journal entry");
}

/** A journal entry, or why it is not one (the WAL's checksum passed, so this is a bug or a foreign directory). */
export function decodeZabJournalEntry(
  bytes: Uint8Array,
): { ok: true; entry: ZabJournalEntry } | { ok: false; error: string } {
  try {
    const r = new ByteReader(bytes);
    const v = r.u8("version");
    if (v !== version) r.fail("version", `unknown journal version ${v}`);
    const epochs = r.bool("hasEpochs")
      ? { acceptedEpoch: epoch(r.u64("acceptedEpoch")), currentEpoch: epoch(r.u64("currentEpoch")) }
      : undefined;
    const truncateAfter = r.bool("hasTruncate") ? r.u64("truncateAfter") : undefined;
    const first = r.u64("first");
    const count = r.count("count", txnBytesMin);
    const txns: Txn[] = [];
    for (let k = 0; k < count; k++) {
      const zxid = { epoch: epoch(r.u64("epoch")), counter: r.u64("counter") };
      txns.push({ zxid, data: r.bytes("data").slice() });
    }
    r.end();
    return { ok: true, entry: { epochs, truncateAfter, first, txns } };
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, error: error.message };
    throw error;
  }
}

/** What recovery has rebuilt so far; replay grows it in place (a long journal is not copied per entry). */
export interface ZabRecovery {
  acceptedEpoch: Epoch;
  currentEpoch: Epoch;
  readonly history: Txn[];
}

/**
 * Applies one journal entry to what recovery rebuilt, or says why it cannot follow what came
 * before (a truncation beyond the history, an append leaving a gap, zxids that do not increase,
 * epochs that go back): each means a damaged or foreign directory.
 */
export function replayZabJournalEntry(state: ZabRecovery, entry: ZabJournalEntry): string | undefined {
  const { history } = state;
  if (entry.truncateAfter !== undefined) {
    if (entry.truncateAfter > history.length)
      return `truncates after ${entry.truncateAfter}, beyond the ${history.length} stored`;
    history.length = entry.truncateAfter;
  }
  if (entry.txns.length > 0 && entry.first !== history.length + 1)
    return `appends at ${entry.first} after ${history.length} stored`;
  let last = history.at(-1)?.zxid ?? ZXID_ZERO;
  for (const txn of entry.txns) {
    if (txn.zxid.counter < 1 || compareZxid(txn.zxid, last) <= 0)
      return `${formatZxid(txn.zxid)} after ${formatZxid(last)}`;
    last = txn.zxid;
    history.push(txn);
  }
  const { acceptedEpoch, currentEpoch } = entry.epochs ?? state;
  if (acceptedEpoch < state.acceptedEpoch || currentEpoch < state.currentEpoch || currentEpoch > acceptedEpoch)
    return `epochs ${acceptedEpoch}/${currentEpoch} after ${state.acceptedEpoch}/${state.currentEpoch}`;
  state.acceptedEpoch = acceptedEpoch;
  state.currentEpoch = currentEpoch;
  return undefined;
}
