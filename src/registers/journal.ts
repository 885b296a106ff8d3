/*
 * The register service's journal entries: what one Ready asked to persist, as one WAL entry.
 *
 *   entry   = version:u8 (1) · kind:u8 · body
 *   kind 1, header: members:bytes (UTF-8 JSON, name → member id): the first entry of every journal,
 *           so a data directory started with another membership is refused instead of misread
 *   kind 2, state:  round:u64 · count:u32 · record × count
 *   record  = register:(length:u16 · bytes) · instance:u64 · promised:ballot · hasAccepted:bool ·
 *             (ballot · value:bytes, when hasAccepted) · hasChosen:bool · (value:bytes, when hasChosen)
 *   ballot  = round:u64 · proposer:u64 (0.0 is the zero ballot: nothing promised)
 *
 * A record replaces the journal's earlier record of its instance; recovery keeps the last one.
 * Integers big-endian (util/wire.ts). The WAL checksums each entry, so a decode failure here is a
 * bug or a file written by something else, reported as corruption.
 */
import { nodeId } from "../util/ids.js";
import { ByteReader, ByteWriter, DecodeError, U16_BYTES, U32_BYTES, U64_BYTES, U8_BYTES } from "../util/wire.js";
import {
  isRegisterName,
  REGISTER_NAME_BYTES_MAX,
  VALUE_BYTES_MAX,
  compareBallots,
  type Ballot,
  type InstanceRecord,
} from "../paxos/basic/index.js";
import { fromUtf8, utf8 } from "../util/bytes.js";

const JOURNAL_VERSION = 1;
const HEADER = 1;
const STATE = 2;
const BALLOT_BYTES = U64_BYTES * 2;

type JournalEntry =
  | { readonly kind: "header"; readonly members: Readonly<Record<string, number>> }
  | { readonly kind: "state"; readonly round: number; readonly records: readonly InstanceRecord[] };

export function encodeJournalEntry(entry: JournalEntry): Uint8Array {
  if (entry.kind === "header") {
    const members = utf8(JSON.stringify(entry.members));
    const w = new ByteWriter(new Uint8Array(U8_BYTES * 2 + U32_BYTES + members.length));
    w.u8(JOURNAL_VERSION);
    w.u8(HEADER);
    w.bytes(members);
    return w.finish("journal header");
  }
  const size = entry.records.reduce((sum, r) => sum + recordBytes(r), U8_BYTES * 2 + U64_BYTES + U32_BYTES);
  const w = new ByteWriter(new Uint8Array(size));
  w.u8(JOURNAL_VERSION);
  w.u8(STATE);
  w.u64(entry.round);
  w.u32(entry.records.length);
  for (const record of entry.records) writeRecord(w, record);
  return w.finish("journal state");
}

export function decodeJournalEntry(
  bytes: Uint8Array,
): { readonly ok: true; readonly entry: JournalEntry } | { readonly ok: false; readonly error: string } {
  try {
    const r = new ByteReader(bytes);
    const version = r.u8("version");
    if (version !== JOURNAL_VERSION) r.fail("version", `journal version ${version}, expected ${JOURNAL_VERSION}`);
    const kind = r.u8("kind");
    const entry = readEntry(r, kind);
    r.end();
    return { ok: true, entry };
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, error: error.message };
    throw error;
  }
}

function readEntry(r: ByteReader, kind: number): JournalEntry {
  if (kind === HEADER) return { kind: "header", members: readMembers(r) };
  if (kind !== STATE) r.fail("kind", `unknown journal entry kind ${kind}`);
  const round = r.u64("round");
  const count = r.count("records", U16_BYTES + U64_BYTES + BALLOT_BYTES + U8_BYTES * 2);
  return { kind: "state", round, records: Array.from({ length: count }, () => readRecord(r)) };
}

function recordBytes(r: InstanceRecord): number {
  const accepted = r.accepted === undefined ? 0 : BALLOT_BYTES + U32_BYTES + r.accepted.value.length;
  const chosen = r.chosen === undefined ? 0 : U32_BYTES + r.chosen.length;
  return U16_BYTES + r.register.length + U64_BYTES + BALLOT_BYTES + U8_BYTES * 2 + accepted + chosen;
}

function writeRecord(w: ByteWriter, record: InstanceRecord): void {
  w.u16(record.register.length);
  for (let i = 0; i < record.register.length; i++) w.u8(record.register.charCodeAt(i));
  w.u64(record.instance);
  writeBallot(w, record.promised);
  w.bool(record.accepted !== undefined);
  if (record.accepted !== undefined) {
    writeBallot(w, record.accepted.ballot);
    w.bytes(record.accepted.value);
  }
  w.bool(record.chosen !== undefined);
  if (record.chosen !== undefined) w.bytes(record.chosen);
}

function writeBallot(w: ByteWriter, ballot: Ballot): void {
  w.u64(ballot.round);
  w.u64(ballot.proposer);
}

function readRecord(r: ByteReader): InstanceRecord {
  const length = r.u16("record.register");
  if (length > REGISTER_NAME_BYTES_MAX) r.fail("record.register", `name of ${length} bytes`, "oversized");
  const register = String.fromCharCode(...r.raw("record.register", length));
  if (!isRegisterName(register)) r.fail("record.register", "not a register name");
  const instance = r.u64("record.instance");
  if (instance === 0) r.fail("record.instance", "0 (instances start at 1)");
  const promised = readBallot(r, "record.promised");
  const accepted = r.bool("record.hasAccepted")
    ? { ballot: readBallot(r, "record.accepted.ballot"), value: readValue(r, "record.accepted.value") }
    : undefined;
  if (accepted !== undefined && compareBallots(accepted.ballot, promised) > 0) {
    r.fail("record.accepted.ballot", "above the promise");
  }
  const chosen = r.bool("record.hasChosen") ? readValue(r, "record.chosen") : undefined;
  return { register, instance, promised, accepted, chosen };
}

function readBallot(r: ByteReader, field: string): Ballot {
  const round = r.u64(`${field}.round`);
  const proposer = r.u64(`${field}.proposer`);
  if ((round === 0) !== (proposer === 0)) r.fail(field, "a ballot with only one part zero");
  return { round, proposer: nodeId(proposer) };
}

function readValue(r: ByteReader, field: string): Uint8Array {
  const length = r.u32(field);
  if (length > VALUE_BYTES_MAX) r.fail(field, `${length} bytes, at most ${VALUE_BYTES_MAX}`, "oversized");
  return r.raw(field, length);
}

function readMembers(r: ByteReader): Record<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(r.bytes("members")));
  } catch {
    r.fail("members", "not JSON");
  }
  const valid =
    typeof parsed === "object" &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((id) => Number.isSafeInteger(id) && (id as number) >= 1);
  if (!valid) r.fail("members", "not a map of names to member ids");
  return parsed as Record<string, number>;
}
