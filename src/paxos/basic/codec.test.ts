import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "../../util/assert.js";
import { utf8 } from "../../util/bytes.js";
import { nodeId } from "../../util/ids.js";
import { Prng } from "../../util/prng.js";
import type { DecodeFailureKind } from "../../util/wire.js";
import type { Ballot } from "./ballot.js";
import { BASIC_PAXOS_WIRE_VERSION, decodeMessage, encodedBytes, encodeMessage } from "./codec.js";
import { REGISTER_NAME_BYTES_MAX, VALUE_BYTES_MAX, type Message } from "./messages.js";

const MAX = Number.MAX_SAFE_INTEGER; // 2^53 − 1, the largest counter the wire carries
const b = (round: number, proposer: number): Ballot => ({ round, proposer: nodeId(proposer) });
const e = { from: nodeId(1), to: nodeId(2), register: "r", instance: 1 } as const;
const far = { from: nodeId(MAX), to: nodeId(MAX - 1), register: "\u00ff\u0000k", instance: MAX } as const;
const longName = { ...e, register: "\u00ff".repeat(REGISTER_NAME_BYTES_MAX) } as const;
const big = new Uint8Array(VALUE_BYTES_MAX).fill(7);

/** Every message type, with empty values, counters near 2^53 and the longest name among them. */
const small: readonly Message[] = [
  { type: "prepare", ...e, ballot: b(3, 1) },
  { type: "prepare", ...far, ballot: b(MAX, MAX) },
  { type: "promise", ...e, ballot: b(4, 5), accepted: undefined },
  { type: "promise", ...e, ballot: b(4, 5), accepted: { ballot: b(3, 1), value: utf8("X") } },
  { type: "promise", ...far, ballot: b(MAX, 2), accepted: { ballot: b(MAX, 1), value: new Uint8Array(0) } },
  { type: "promise", ...e, ballot: b(4, 5), accepted: { ballot: b(4, 5), value: utf8("same ballot") } },
  { type: "accept", ...e, ballot: b(4, 5), value: utf8("X") },
  { type: "accept", ...longName, ballot: b(2 ** 40, 3), value: new Uint8Array(0) },
  { type: "accepted", ...far, ballot: b(MAX - 1, MAX) },
  { type: "nack", ...e, ballot: b(3, 1), promised: b(4, 5) },
  { type: "nack", ...e, ballot: b(4, 1), promised: b(4, 5) },
  { type: "nack", ...far, ballot: b(MAX, MAX - 1), promised: b(MAX, MAX) },
  { type: "chosen", ...e, value: utf8("X") },
  { type: "chosen", ...{ ...e, register: "" }, value: new Uint8Array(0) },
];
/** The largest values the wire carries: too big to truncate at every byte (see the truncation test). */
const huge: readonly Message[] = [
  { type: "accept", ...longName, ballot: b(MAX, MAX), value: big },
  { type: "chosen", ...far, value: big },
  { type: "promise", ...far, ballot: b(MAX, MAX), accepted: { ballot: b(MAX, MAX), value: big } },
];

function failure(bytes: Uint8Array): DecodeFailureKind {
  const result = decodeMessage(bytes);
  assert.ok(!result.ok, "expected a decode failure");
  assert.ok(result.error.message.includes(result.error.field) && result.error.offset <= bytes.length);
  return result.error.kind;
}

/** Decoding never throws; whatever decodes re-encodes to exactly the same bytes. */
function decodesCanonically(bytes: Uint8Array): boolean {
  const result = decodeMessage(bytes);
  if (!result.ok) return false;
  assert.deepEqual(encodeMessage(result.message), bytes, "a decodable input is the encoding of what it decodes to");
  return true;
}

test("codec: every message type round-trips, edge values included, at its computed size", () => {
  for (const m of [...small, ...huge]) {
    const bytes = encodeMessage(m);
    assert.equal(bytes.length, encodedBytes(m), m.type);
    assert.deepEqual(decodeMessage(bytes), { ok: true, message: m }, `${m.type} ${m.register.length}`);
  }
  const types = new Set(small.map((m) => m.type));
  assert.equal(types.size, 6, "all six message types");
});

test("codec: decoded values are copies, so the input buffer may be reused", () => {
  const bytes = encodeMessage({ type: "chosen", ...e, value: utf8("abc") });
  const result = decodeMessage(bytes);
  bytes.fill(0);
  assert.ok(result.ok && result.message.type === "chosen");
  assert.deepEqual(result.message.value, utf8("abc"));
});

test("codec: every strict prefix is truncated, every extension has trailing bytes", () => {
  for (const m of small) {
    const bytes = encodeMessage(m);
    for (let length = 0; length < bytes.length; length++) {
      assert.equal(failure(bytes.subarray(0, length)), "truncated", `${m.type} cut at ${length}`);
    }
    assert.equal(failure(Uint8Array.from([...bytes, 0])), "trailingBytes");
    assert.equal(failure(Uint8Array.from([...bytes, 1, 2, 3])), "trailingBytes");
  }
  // The largest messages: every cut in the header and around each field's edges, and every 4 KiB after.
  for (const m of huge) {
    const bytes = encodeMessage(m);
    const cuts = new Set<number>();
    for (let at = 0; at < 2200; at++) cuts.add(at);
    for (let at = 0; at < bytes.length; at += 4096) cuts.add(at);
    for (let at = bytes.length - 64; at < bytes.length; at++) cuts.add(at);
    for (const at of cuts) assert.equal(failure(bytes.subarray(0, at)), "truncated", `${m.type} cut at ${at}`);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    assert.equal(failure(longer), "trailingBytes");
  }
});

/** The encoding of `m` with `patch` applied to a copy. */
function patched(m: Message, patch: (bytes: Uint8Array, view: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(encodeMessage(m));
  patch(bytes, new DataView(bytes.buffer));
  return bytes;
}

// Offsets in a message with register "r": version 0, tag 1, from 2, to 10, name length 18, name 20,
// instance 21, body 29 (the first ballot's round), 37 (its proposer), 45 (what follows it).
const BODY = 29;

test("codec: oversized lengths, unknown versions and tags, and forbidden values are typed failures", () => {
  const chosen: Message = { type: "chosen", ...e, value: utf8("X") };
  const promise: Message = { type: "promise", ...e, ballot: b(4, 5), accepted: { ballot: b(3, 1), value: utf8("X") } };
  const nack: Message = { type: "nack", ...e, ballot: b(3, 1), promised: b(4, 5) };
  const cases: [DecodeFailureKind, Uint8Array][] = [
    ["oversized", patched(chosen, (_, v) => v.setUint32(BODY, VALUE_BYTES_MAX + 1))],
    ["oversized", patched(chosen, (_, v) => v.setUint32(BODY, 0xffff_ffff))],
    ["oversized", patched(chosen, (_, v) => v.setUint16(18, REGISTER_NAME_BYTES_MAX + 1))],
    ["unknownVersion", patched(chosen, (bytes) => (bytes[0] = BASIC_PAXOS_WIRE_VERSION + 1))],
    ["unknownVersion", Uint8Array.of(0)],
    ["unknownTag", patched(chosen, (bytes) => (bytes[1] = 7))],
    ["unknownTag", Uint8Array.of(BASIC_PAXOS_WIRE_VERSION, 0)],
    ["malformed", patched(chosen, (_, v) => v.setBigUint64(2, 0n))],
    ["malformed", patched(chosen, (_, v) => v.setBigUint64(10, 0n))],
    ["malformed", patched(chosen, (_, v) => v.setBigUint64(21, 0n))],
    ["malformed", patched(chosen, (_, v) => v.setBigUint64(21, 2n ** 53n))],
    ["malformed", patched(nack, (_, v) => v.setBigUint64(BODY, 0n))],
    ["malformed", patched(nack, (_, v) => v.setBigUint64(BODY + 8, 0n))],
    [
      "malformed",
      patched(nack, (_, v) => {
        v.setBigUint64(BODY + 16, 3n);
        v.setBigUint64(BODY + 24, 1n);
      }),
    ], // 3.1 = 3.1
    ["malformed", patched(nack, (_, v) => v.setBigUint64(BODY + 16, 2n))], // promised 2.5, below the ballot 3.1
    ["malformed", patched(promise, (bytes) => (bytes[BODY + 16] = 2))], // hasAccepted 2
    ["malformed", patched(promise, (_, v) => v.setBigUint64(BODY + 17, 5n))], // accepted 5.1 above promise 4.5
  ];
  for (const [kind, bytes] of cases) assert.equal(failure(bytes), kind);
  assert.ok(decodeMessage(patched(nack, (_, v) => v.setBigUint64(BODY + 16, 3n))).ok, "3.5 beats 3.1 by node id");
});

test("codec: the encoder refuses what the decoder would (programmer errors)", () => {
  const bad: Message[] = [
    { type: "chosen", ...e, register: "\u0100", value: utf8("X") },
    { type: "chosen", ...e, register: "x".repeat(REGISTER_NAME_BYTES_MAX + 1), value: utf8("X") },
    { type: "chosen", ...e, value: new Uint8Array(VALUE_BYTES_MAX + 1) },
    { type: "chosen", ...e, instance: 0, value: utf8("X") },
    { type: "prepare", ...e, ballot: b(0, 0) },
    { type: "nack", ...e, ballot: b(4, 5), promised: b(4, 5) },
    { type: "promise", ...e, ballot: b(4, 5), accepted: { ballot: b(5, 1), value: utf8("X") } },
  ];
  for (const m of bad) assert.throws(() => encodeMessage(m), AssertionError, m.type);
});

/** Random input built from plausible fields as well as raw noise, so fuzzing gets into every body. */
function randomInput(prng: Prng): Uint8Array {
  if (prng.chance(0.2)) return Uint8Array.from({ length: prng.int(0, 80) }, () => prng.int(0, 256));
  // Counts are mostly valid (1 to 3), sometimes 0; a u64 is seven zero bytes and the count.
  const u64 = (): number[] => [0, 0, 0, 0, 0, 0, 0, prng.chance(0.1) ? 0 : prng.int(1, 4)];
  const nameLength = prng.int(0, 3);
  const out = [prng.chance(0.97) ? BASIC_PAXOS_WIRE_VERSION : prng.int(0, 256), prng.int(0, 8)];
  out.push(...u64(), ...u64(), 0, nameLength, ...[97, 0, 255].slice(0, nameLength), ...u64());
  for (let k = prng.int(0, 5); k > 0; k--) {
    const roll = prng.int(0, 5);
    if (roll === 0)
      out.push(prng.int(0, 3)); // a boolean, mostly
    else if (roll <= 2)
      out.push(...u64(), ...u64()); // a ballot
    else if (roll === 3)
      out.push(0, 0, 0, prng.int(0, 3), ...[1, 2].slice(0, prng.int(0, 3))); // a value
    else for (let n = prng.int(1, 6); n > 0; n--) out.push(prng.int(0, 256));
  }
  return Uint8Array.from(out);
}

test("codec fuzz (seeded): random inputs never throw, and anything accepted is canonical", () => {
  const prng = new Prng(19);
  const decoded = new Map<string, number>();
  for (let k = 0; k < 20_000; k++) {
    const bytes = randomInput(prng);
    if (!decodesCanonically(bytes)) continue;
    const result = decodeMessage(bytes);
    const type = result.ok ? result.message.type : "";
    decoded.set(type, (decoded.get(type) ?? 0) + 1);
  }
  // The fuzz must get past the header into every body, or it tests only the header.
  for (const type of ["prepare", "promise", "accept", "accepted", "nack", "chosen"]) {
    assert.ok((decoded.get(type) ?? 0) >= 5, `${type}: ${decoded.get(type) ?? 0} random inputs decoded`);
  }
});

test("codec fuzz (seeded): byte mutations of valid encodings never throw, and anything accepted is canonical", () => {
  const prng = new Prng(4242);
  let stillValid = 0;
  let mutations = 0;
  for (const m of small) {
    const original = encodeMessage(m);
    for (let k = 0; k < 400; k++) {
      const bytes = new Uint8Array(original);
      const at = prng.int(0, bytes.length);
      bytes[at] = (bytes[at]! + prng.int(1, 256)) & 0xff;
      if (decodesCanonically(bytes)) stillValid++;
      mutations++;
    }
  }
  assert.ok(stillValid > 0 && stillValid < mutations, "mutations land both in data (valid) and in structure");
});
