/*
 * The Multi-Paxos wire format (version 1). Integers big-endian; u64 = a safe integer in two u32
 * halves (util/wire.ts); bytes = u32 length + bytes; bool = u8 0 or 1; n = u32 item count.
 *
 *   payload   = version:u8 (1) · tag:u8 · from:u64 · to:u64 · body
 *   ballot    = counter:u64 · node:u64              (both ≥ 1)
 *   value     = kind:u8 (0 command, 1 no-op) · data:bytes   (a no-op's data is empty)
 *   record    = slot:u64 · ballot · value           (slot ≥ 1)
 *   1 prepare            ballot · fromSlot:u64 (≥ 1)
 *   2 promise            ballot · snapshotIndex:u64 · chosenThrough:u64 · n × record (chosen) ·
 *                        n × record (accepted)
 *   3 accept             ballot · round:u64 · n × (slot:u64 · value) · commitFrom:u64 · n × (last:u64 · ballot)
 *   4 accepted           ballot · round:u64 · learnedThrough:u64 · stuck:bool · n × slot:u64
 *   5 nack               ballot · promised:ballot
 *   6 learnRequest       fromSlot:u64 (≥ 1)
 *   7 learn              n × record
 *   8 snapshot           index:u64 (≥ 1) · data:bytes
 *   9 readIndexRequest   context:bytes
 *  10 readIndexResponse  ballot · context:bytes · index:u64
 *  11 propose            data:bytes
 *
 * Slot lists ascend strictly (chosen values and learn entries are consecutive; commit runs end at
 * or after commitFrom), so a byte string decodes to at most one message, which re-encodes to it.
 * Decoded byte fields are copies: the input buffer may be reused at once.
 */
import { assert, assertNever } from "../../util/assert.js";
import { logIndex, nodeId } from "../../util/ids.js";
import { ByteReader, ByteWriter, DecodeError, U32_BYTES, U64_BYTES, U8_BYTES } from "../../util/wire.js";
import type { Accept, Message, MessageType, SlotValue } from "./messages.js";
import type { AcceptedRecord, Ballot, Slot, Value } from "./types.js";

export const PAXOS_WIRE_VERSION = 1;

const TAGS = {
  prepare: 1,
  promise: 2,
  accept: 3,
  accepted: 4,
  nack: 5,
  learnRequest: 6,
  learn: 7,
  snapshot: 8,
  readIndexRequest: 9,
  readIndexResponse: 10,
  propose: 11,
} as const satisfies Record<MessageType, number>;
const TYPE_OF_TAG = new Map<number, MessageType>(
  Object.entries(TAGS).map(([type, tag]) => [tag, type as MessageType] as const),
);

const HEADER_BYTES = U8_BYTES * 2 + U64_BYTES * 2;
const BALLOT_BYTES = U64_BYTES * 2;
const VALUE_BYTES_MIN = U8_BYTES + U32_BYTES;
const RECORD_BYTES_MIN = U64_BYTES + BALLOT_BYTES + VALUE_BYTES_MIN;

export type PaxosDecodeResult =
  { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly error: string };

// ---- encoding ----------------------------------------------------------------------------------

const valueBytes = (v: Value): number => VALUE_BYTES_MIN + v.data.length;
const recordsBytes = (records: readonly AcceptedRecord[]): number =>
  U32_BYTES + records.reduce((sum, r) => sum + U64_BYTES + BALLOT_BYTES + valueBytes(r.value), 0);

function bodyBytes(m: Message): number {
  switch (m.type) {
    case "prepare":
      return BALLOT_BYTES + U64_BYTES;
    case "promise":
      return BALLOT_BYTES + U64_BYTES * 2 + recordsBytes(m.chosen) + recordsBytes(m.accepted);
    case "accept": {
      const entries = m.entries.reduce((sum, e) => sum + U64_BYTES + valueBytes(e.value), 0);
      const runs = m.commit.runs.length * (U64_BYTES + BALLOT_BYTES);
      return BALLOT_BYTES + U64_BYTES + U32_BYTES + entries + U64_BYTES + U32_BYTES + runs;
    }
    case "accepted":
      return BALLOT_BYTES + U64_BYTES * 2 + U8_BYTES + U32_BYTES + m.slots.length * U64_BYTES;
    case "nack":
      return BALLOT_BYTES * 2;
    case "learnRequest":
      return U64_BYTES;
    case "learn":
      return recordsBytes(m.entries);
    case "snapshot":
      return U64_BYTES + U32_BYTES + m.snapshot.data.length;
    case "readIndexRequest":
      return U32_BYTES + m.context.length;
    case "propose":
      return U32_BYTES + m.data.length;
    case "readIndexResponse":
      return BALLOT_BYTES + U32_BYTES + m.context.length + U64_BYTES;
    default:
      return assertNever(m, "message");
  }
}

/** The encoded size of `m` in bytes. */
export function paxosMessageBytes(m: Message): number {
  return HEADER_BYTES + bodyBytes(m);
}

/** Encodes a message; a field out of range (a negative slot, a fraction) is a programmer error. */
export function encodePaxosMessage(m: Message): Uint8Array {
  const w = new ByteWriter(new Uint8Array(paxosMessageBytes(m)));
  w.u8(PAXOS_WIRE_VERSION);
  w.u8(TAGS[m.type]);
  w.u64(m.from);
  w.u64(m.to);
  writeBody(w, m);
  return w.finish(m.type);
}

function writeBallot(w: ByteWriter, b: Ballot): void {
  w.u64(b.counter);
  w.u64(b.node);
}

function writeValue(w: ByteWriter, v: Value): void {
  w.u8(v.kind === "command" ? 0 : 1);
  w.bytes(v.data);
}

/** The decoder's ordering rule, asserted on the way out: a message built here always decodes. */
function assertAscending(slots: readonly number[], what: string): void {
  for (let i = 1; i < slots.length; i++)
    if (!(slots[i]! > slots[i - 1]!)) assert(false, `${what}: slots not ascending`);
}

function writeRecords(w: ByteWriter, records: readonly AcceptedRecord[]): void {
  assertAscending(
    records.map((r) => r.slot),
    "records",
  );
  w.u32(records.length);
  for (const r of records) {
    w.u64(r.slot);
    writeBallot(w, r.ballot);
    writeValue(w, r.value);
  }
}

function writeBody(w: ByteWriter, m: Message): void {
  switch (m.type) {
    case "prepare":
      writeBallot(w, m.ballot);
      w.u64(m.fromSlot);
      return;
    case "promise":
      writeBallot(w, m.ballot);
      w.u64(m.snapshotIndex);
      w.u64(m.chosenThrough);
      writeRecords(w, m.chosen);
      writeRecords(w, m.accepted);
      return;
    case "accept":
      writeAccept(w, m);
      return;
    case "accepted":
      writeBallot(w, m.ballot);
      w.u64(m.round);
      w.u64(m.learnedThrough);
      w.bool(m.stuck);
      assertAscending(m.slots, "accepted");
      w.u32(m.slots.length);
      for (const slot of m.slots) w.u64(slot);
      return;
    case "nack":
      writeBallot(w, m.ballot);
      writeBallot(w, m.promised);
      return;
    case "learnRequest":
      w.u64(m.fromSlot);
      return;
    case "learn":
      writeRecords(w, m.entries);
      return;
    case "snapshot":
      w.u64(m.snapshot.index);
      w.bytes(m.snapshot.data);
      return;
    case "readIndexRequest":
      w.bytes(m.context);
      return;
    case "readIndexResponse":
      writeBallot(w, m.ballot);
      w.bytes(m.context);
      w.u64(m.index);
      return;
    case "propose":
      w.bytes(m.data);
      return;
    default:
      assertNever(m, "message");
  }
}

function writeAccept(w: ByteWriter, m: Accept): void {
  writeBallot(w, m.ballot);
  w.u64(m.round);
  assertAscending(
    m.entries.map((e) => e.slot),
    "accept",
  );
  w.u32(m.entries.length);
  for (const e of m.entries) {
    w.u64(e.slot);
    writeValue(w, e.value);
  }
  w.u64(m.commit.from);
  w.u32(m.commit.runs.length);
  for (const run of m.commit.runs) {
    w.u64(run.last);
    writeBallot(w, run.ballot);
  }
}

// ---- decoding ----------------------------------------------------------------------------------

/** Decodes one message, or says what is wrong with the bytes; never throws on bad input. */
export function decodePaxosMessage(bytes: Uint8Array): PaxosDecodeResult {
  try {
    return { ok: true, message: decodeOrThrow(new ByteReader(bytes)) };
  } catch (e) {
    if (e instanceof DecodeError) return { ok: false, error: e.message };
    throw e;
  }
}

function decodeOrThrow(r: ByteReader): Message {
  const version = r.u8("version");
  if (version !== PAXOS_WIRE_VERSION) r.fail("version", `unsupported wire version ${version}`);
  const tag = r.u8("tag");
  const type = TYPE_OF_TAG.get(tag);
  if (type === undefined) r.fail("tag", `unknown message tag ${tag}`);
  const from = readNode(r, "from");
  const to = readNode(r, "to");
  if (from === to) r.fail("to", "a member never messages itself");
  const message = readBody(r, type, { from, to });
  r.end();
  return message;
}

function readNode(r: ByteReader, field: string): ReturnType<typeof nodeId> {
  const id = r.u64(field);
  if (id === 0) r.fail(field, "node id 0 names no one");
  return nodeId(id);
}

function readBallot(r: ByteReader, field: string): Ballot {
  const counter = r.u64(`${field}.counter`);
  if (counter === 0) r.fail(`${field}.counter`, "a ballot's counter starts at 1");
  return { counter, node: readNode(r, `${field}.node`) };
}

function readSlot(r: ByteReader, field: string, after: number): Slot {
  const slot = r.u64(field);
  if (slot <= after) r.fail(field, `slot ${slot} must come after ${after}`);
  return logIndex(slot);
}

/** A bytes field, copied: a decoded message never aliases the input (see the header). */
function readBytes(r: ByteReader, field: string): Uint8Array {
  return r.bytes(field).slice();
}

function readValue(r: ByteReader, field: string): Value {
  const kind = r.u8(`${field}.kind`);
  if (kind > 1) r.fail(`${field}.kind`, `unknown value kind ${kind}`);
  const data = readBytes(r, `${field}.data`);
  if (kind === 1 && data.length > 0) r.fail(`${field}.data`, "a no-op carries no data");
  return { kind: kind === 0 ? "command" : "noop", data };
}

/** Records with ascending slots; `consecutive` also forbids gaps. */
function readRecords(r: ByteReader, field: string, consecutive: boolean): AcceptedRecord[] {
  const n = r.count(field, RECORD_BYTES_MIN);
  const records: AcceptedRecord[] = [];
  for (let i = 0; i < n; i++) {
    const previous = records.at(-1)?.slot ?? 0;
    const slot = readSlot(r, `${field}[${i}].slot`, previous);
    if (consecutive && previous !== 0 && slot !== previous + 1) r.fail(`${field}[${i}].slot`, "slots leave a gap");
    records.push({ slot, ballot: readBallot(r, `${field}[${i}].ballot`), value: readValue(r, `${field}[${i}]`) });
  }
  return records;
}

type Addressed = { readonly from: ReturnType<typeof nodeId>; readonly to: ReturnType<typeof nodeId> };

function readBody(r: ByteReader, type: MessageType, env: Addressed): Message {
  switch (type) {
    case "prepare":
      return { type, ...env, ballot: readBallot(r, "ballot"), fromSlot: readSlot(r, "fromSlot", 0) };
    case "promise":
      return readPromise(r, env);
    case "accept":
      return readAccept(r, env);
    case "accepted":
      return readAccepted(r, env);
    case "nack":
      return { type, ...env, ballot: readBallot(r, "ballot"), promised: readBallot(r, "promised") };
    case "learnRequest":
      return { type, ...env, fromSlot: readSlot(r, "fromSlot", 0) };
    case "learn":
      return { type, ...env, entries: readRecords(r, "entries", true) };
    case "snapshot":
      return { type, ...env, snapshot: { index: readSlot(r, "index", 0), data: readBytes(r, "data") } };
    case "readIndexRequest":
      return { type, ...env, context: readBytes(r, "context") };
    case "readIndexResponse":
      return {
        type,
        ...env,
        ballot: readBallot(r, "ballot"),
        context: readBytes(r, "context"),
        index: logIndex(r.u64("index")),
      };
    case "propose":
      return { type, ...env, data: readBytes(r, "data") };
    default:
      return assertNever(type, "message type");
  }
}

function readPromise(r: ByteReader, env: Addressed): Message {
  const ballot = readBallot(r, "ballot");
  const snapshotIndex = logIndex(r.u64("snapshotIndex"));
  const chosenThrough = logIndex(r.u64("chosenThrough"));
  if (chosenThrough < snapshotIndex) r.fail("chosenThrough", "behind the snapshot");
  const chosen = readRecords(r, "chosen", true);
  if ((chosen.at(-1)?.slot ?? 0) > chosenThrough) r.fail("chosen", "a chosen slot beyond chosenThrough");
  const accepted = readRecords(r, "accepted", false);
  if (accepted.length > 0 && accepted[0]!.slot <= snapshotIndex) r.fail("accepted", "a record under the snapshot");
  return { type: "promise", ...env, ballot, snapshotIndex, chosenThrough, chosen, accepted };
}

function readAccept(r: ByteReader, env: Addressed): Message {
  const ballot = readBallot(r, "ballot");
  const round = r.u64("round");
  const n = r.count("entries", U64_BYTES + VALUE_BYTES_MIN);
  const entries: SlotValue[] = [];
  for (let i = 0; i < n; i++) {
    const slot = readSlot(r, `entries[${i}].slot`, entries.at(-1)?.slot ?? 0);
    entries.push({ slot, value: readValue(r, `entries[${i}]`) });
  }
  const from = readSlot(r, "commitFrom", 0);
  const runCount = r.count("runs", U64_BYTES + BALLOT_BYTES);
  const runs: { last: Slot; ballot: Ballot }[] = [];
  for (let i = 0; i < runCount; i++) {
    const last = readSlot(r, `runs[${i}].last`, runs.at(-1)?.last ?? from - 1);
    runs.push({ last, ballot: readBallot(r, `runs[${i}].ballot`) });
  }
  return { type: "accept", ...env, ballot, round, entries, commit: { from, runs } };
}

function readAccepted(r: ByteReader, env: Addressed): Message {
  const ballot = readBallot(r, "ballot");
  const round = r.u64("round");
  const learnedThrough = logIndex(r.u64("learnedThrough"));
  const stuck = r.bool("stuck");
  const n = r.count("slots", U64_BYTES);
  const slots: Slot[] = [];
  for (let i = 0; i < n; i++) slots.push(readSlot(r, `slots[${i}]`, slots.at(-1) ?? 0));
  return { type: "accepted", ...env, ballot, round, learnedThrough, stuck, slots };
}
