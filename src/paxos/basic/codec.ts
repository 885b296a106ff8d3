/*
 * The Basic Paxos wire format (version 1). Integers big-endian; u64 = a safe integer in two u32
 * halves (util/wire.ts); bool = u8 0 or 1.
 *
 *   payload   = version:u8 (1) · tag:u8 · from:u64 · to:u64 · register · instance:u64 · body
 *   register  = length:u16 (≤ REGISTER_NAME_BYTES_MAX) · that many bytes, one per code unit
 *   ballot    = round:u64 (≥ 1) · proposer:u64 (≥ 1)
 *   value     = length:u32 (≤ VALUE_BYTES_MAX) · that many bytes
 *   1 prepare    ballot
 *   2 promise    ballot · hasAccepted:bool · (ballot · value, only when hasAccepted; that ballot ≤ the first)
 *   3 accept     ballot · value
 *   4 accepted   ballot
 *   5 nack       ballot · promised:ballot (above the first)
 *   6 chosen     value
 *
 * Node ids and instances are ≥ 1. Every byte string decodes to at most one message, which re-encodes
 * to exactly those bytes; decoded byte fields are copies, so the input buffer may be reused at once.
 */
import { assert, assertNever } from "../../util/assert.js";
import { nodeId, type NodeId } from "../../util/ids.js";
import {
  ByteReader,
  ByteWriter,
  DecodeError,
  U16_BYTES,
  U32_BYTES,
  U64_BYTES,
  U8_BYTES,
  type DecodeFailure,
} from "../../util/wire.js";
import { compareBallots, type Ballot } from "./ballot.js";
import {
  isRegisterName,
  REGISTER_NAME_BYTES_MAX,
  VALUE_BYTES_MAX,
  type AcceptedValue,
  type Message,
} from "./messages.js";

export const BASIC_PAXOS_WIRE_VERSION = 1;

const TAGS = {
  prepare: 1,
  promise: 2,
  accept: 3,
  accepted: 4,
  nack: 5,
  chosen: 6,
} as const satisfies Record<Message["type"], number>;
const TYPE_OF_TAG = new Map<number, Message["type"]>(
  Object.entries(TAGS).map(([type, tag]) => [tag, type as Message["type"]] as const),
);

const FIXED_HEADER_BYTES = U8_BYTES * 2 + U64_BYTES * 2 + U16_BYTES + U64_BYTES;
const BALLOT_BYTES = U64_BYTES * 2;

export type DecodeResult =
  { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly error: DecodeFailure };

/** The encoded size of `m` in bytes. */
export function encodedBytes(m: Message): number {
  return FIXED_HEADER_BYTES + m.register.length + bodyBytes(m);
}

function bodyBytes(m: Message): number {
  switch (m.type) {
    case "prepare":
    case "accepted":
      return BALLOT_BYTES;
    case "promise":
      return BALLOT_BYTES + U8_BYTES + (m.accepted === undefined ? 0 : BALLOT_BYTES + valueBytes(m.accepted.value));
    case "accept":
      return BALLOT_BYTES + valueBytes(m.value);
    case "nack":
      return BALLOT_BYTES * 2;
    case "chosen":
      return valueBytes(m.value);
    default:
      return assertNever(m, "message");
  }
}

const valueBytes = (value: Uint8Array): number => U32_BYTES + value.length;

/**
 * Encodes a message. What the decoder would refuse (a register name that is not a short binary
 * string, an oversized value, a node id or instance of 0, a zero ballot) is a programmer error here.
 */
export function encodeMessage(m: Message): Uint8Array {
  assert(isRegisterName(m.register), `register name of ${m.register.length} code units is not a wire name`);
  assert(m.from >= 1 && m.to >= 1 && m.instance >= 1, `${m.type}: node id or instance 0`);
  const w = new ByteWriter(new Uint8Array(encodedBytes(m)));
  w.u8(BASIC_PAXOS_WIRE_VERSION);
  w.u8(TAGS[m.type]);
  w.u64(m.from);
  w.u64(m.to);
  w.u16(m.register.length);
  for (let i = 0; i < m.register.length; i++) w.u8(m.register.charCodeAt(i));
  w.u64(m.instance);
  writeBody(w, m);
  return w.finish(m.type);
}

function writeBody(w: ByteWriter, m: Message): void {
  switch (m.type) {
    case "prepare":
    case "accepted":
      writeBallot(w, m.ballot);
      return;
    case "promise":
      writeBallot(w, m.ballot);
      w.u8(m.accepted === undefined ? 0 : 1);
      if (m.accepted === undefined) return;
      assert(compareBallots(m.accepted.ballot, m.ballot) <= 0, "a promise reporting an acceptance above itself");
      writeBallot(w, m.accepted.ballot);
      writeValue(w, m.accepted.value);
      return;
    case "accept":
      writeBallot(w, m.ballot);
      writeValue(w, m.value);
      return;
    case "nack":
      assert(compareBallots(m.promised, m.ballot) > 0, "a nack whose promise does not beat its ballot");
      writeBallot(w, m.ballot);
      writeBallot(w, m.promised);
      return;
    case "chosen":
      writeValue(w, m.value);
      return;
    default:
      assertNever(m, "message");
  }
}

function writeBallot(w: ByteWriter, b: Ballot): void {
  assert(b.round >= 1 && b.proposer >= 1, "the zero ballot is never sent");
  w.u64(b.round);
  w.u64(b.proposer);
}

function writeValue(w: ByteWriter, value: Uint8Array): void {
  assert(value.length <= VALUE_BYTES_MAX, `a value of ${value.length} bytes is above the wire's limit`);
  w.bytes(value);
}

/**
 * Decodes and validates one message: known version and tag, every length within the input and its
 * limit, integers safe, node ids, instances and ballot parts ≥ 1, booleans 0/1, a promise's
 * acceptance not above its ballot, a nack's promise above its ballot, and no trailing bytes. Never
 * throws on bad input and never reads outside `bytes`.
 */
export function decodeMessage(bytes: Uint8Array): DecodeResult {
  try {
    const r: ByteReader = new ByteReader(bytes);
    const version = r.u8("version");
    if (version !== BASIC_PAXOS_WIRE_VERSION) {
      r.fail("version", `wire version ${version}, this node speaks ${BASIC_PAXOS_WIRE_VERSION}`, "unknownVersion");
    }
    const tag = r.u8("tag");
    const type = TYPE_OF_TAG.get(tag);
    if (type === undefined) r.fail("tag", `unknown message tag ${tag}`, "unknownTag");
    const envelope = {
      from: readPositive(r, "from") as NodeId,
      to: readPositive(r, "to") as NodeId,
      register: readRegister(r),
      instance: readPositive(r, "instance"),
    };
    const message = readBody(r, type, envelope);
    r.end();
    return { ok: true, message };
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, error: error.failure };
    throw error;
  }
}

type Envelope = Pick<Message, "from" | "to" | "register" | "instance">;

function readBody(r: ByteReader, type: Message["type"], e: Envelope): Message {
  switch (type) {
    case "prepare":
      return { type: "prepare", ...e, ballot: readBallot(r, "prepare.ballot") };
    case "promise": {
      const ballot = readBallot(r, "promise.ballot");
      return { type: "promise", ...e, ballot, accepted: readReported(r, ballot) };
    }
    case "accept": {
      const ballot = readBallot(r, "accept.ballot");
      return { type: "accept", ...e, ballot, value: readValue(r, "accept.value") };
    }
    case "accepted":
      return { type: "accepted", ...e, ballot: readBallot(r, "accepted.ballot") };
    case "nack": {
      const ballot = readBallot(r, "nack.ballot");
      const promised = readBallot(r, "nack.promised");
      if (compareBallots(promised, ballot) <= 0) r.fail("nack.promised", "does not beat the ballot");
      return { type: "nack", ...e, ballot, promised };
    }
    case "chosen":
      return { type: "chosen", ...e, value: readValue(r, "chosen.value") };
    default:
      return assertNever(type, "message type");
  }
}

function readReported(r: ByteReader, promised: Ballot): AcceptedValue | undefined {
  if (!r.bool("promise.hasAccepted")) return undefined;
  const ballot = readBallot(r, "promise.accepted.ballot");
  if (compareBallots(ballot, promised) > 0) r.fail("promise.accepted.ballot", "above the promise");
  return { ballot, value: readValue(r, "promise.accepted.value") };
}

function readPositive(r: ByteReader, field: string): number {
  const n = r.u64(field);
  if (n === 0) r.fail(field, "0 (counts start at 1)");
  return n;
}

function readBallot(r: ByteReader, field: string): Ballot {
  const round = readPositive(r, `${field}.round`);
  return { round, proposer: nodeId(readPositive(r, `${field}.proposer`)) };
}

function readRegister(r: ByteReader): string {
  const length = r.u16("register");
  if (length > REGISTER_NAME_BYTES_MAX) {
    r.fail("register", `name of ${length} bytes, at most ${REGISTER_NAME_BYTES_MAX}`, "oversized");
  }
  return String.fromCharCode(...r.raw("register", length));
}

function readValue(r: ByteReader, field: string): Uint8Array {
  const length = r.u32(field);
  if (length > VALUE_BYTES_MAX) r.fail(field, `${length} bytes, at most ${VALUE_BYTES_MAX}`, "oversized");
  return r.raw(field, length);
}
