import assert from "node:assert/strict";
import { test } from "node:test";
import { utf8 } from "../../util/bytes.js";
import { logIndex, nodeId } from "../../util/ids.js";
import { Prng } from "../../util/prng.js";
import { decodePaxosMessage, encodePaxosMessage, paxosMessageBytes } from "./codec.js";
import type { Message, MessageType } from "./messages.js";
import { NOOP, type Ballot, type Value } from "./types.js";

const from = nodeId(1);
const to = nodeId(2);
const b = (counter: number, node: number): Ballot => ({ counter, node: nodeId(node) });
const cmd = (text: string): Value => ({ kind: "command", data: utf8(text) });
const s = logIndex;

/** One message of every type, with every optional shape exercised somewhere. */
const samples: readonly Message[] = [
  { type: "prepare", from, to, ballot: b(3, 1), fromSlot: s(1) },
  { type: "promise", from, to, ballot: b(4, 5), snapshotIndex: s(0), chosenThrough: s(0), chosen: [], accepted: [] },
  {
    type: "promise",
    from,
    to,
    ballot: b(4, 5),
    snapshotIndex: s(1),
    chosenThrough: s(3),
    chosen: [
      { slot: s(2), ballot: b(2, 1), value: cmd("x") },
      { slot: s(3), ballot: b(3, 1), value: NOOP },
    ],
    accepted: [
      { slot: s(2), ballot: b(2, 1), value: cmd("x") },
      { slot: s(5), ballot: b(3, 1), value: cmd("X") },
      { slot: s(9), ballot: b(1, 2), value: cmd("") },
    ],
  },
  { type: "accept", from, to, ballot: b(7, 1), round: 0, entries: [], commit: { from: s(1), runs: [] } },
  {
    type: "accept",
    from,
    to,
    ballot: b(2 ** 40, 3),
    round: 12,
    entries: [
      { slot: s(4), value: cmd("a") },
      { slot: s(6), value: NOOP },
    ],
    commit: {
      from: s(2),
      runs: [
        { last: s(2), ballot: b(1, 1) },
        { last: s(3), ballot: b(7, 1) },
      ],
    },
  },
  { type: "accepted", from, to, ballot: b(7, 1), round: 3, slots: [s(4), s(6)], learnedThrough: s(3), stuck: true },
  { type: "accepted", from, to, ballot: b(7, 1), round: 0, slots: [], learnedThrough: s(0), stuck: false },
  { type: "nack", from, to, ballot: b(3, 1), promised: b(4, 5) },
  { type: "learnRequest", from, to, fromSlot: s(8) },
  { type: "learn", from, to, entries: [{ slot: s(8), ballot: b(1, 1), value: cmd("v") }] },
  { type: "snapshot", from, to, snapshot: { index: s(30), data: utf8("state") } },
  { type: "readIndexRequest", from, to, context: utf8("ctx") },
  { type: "readIndexResponse", from, to, ballot: b(1, 2), context: new Uint8Array(0), index: s(0) },
  { type: "propose", from, to, data: utf8("put k v") },
];

test("every message type round-trips, and its size is what the encoder wrote", () => {
  const types = new Set<MessageType>();
  for (const m of samples) {
    const bytes = encodePaxosMessage(m);
    assert.equal(bytes.length, paxosMessageBytes(m));
    const decoded = decodePaxosMessage(bytes);
    assert.ok(decoded.ok, decoded.ok ? "" : decoded.error);
    assert.deepEqual(decoded.message, m);
    assert.deepEqual(encodePaxosMessage(decoded.message), bytes, "re-encodes to the same bytes");
    types.add(m.type);
  }
  assert.equal(types.size, 11, "every message type has a sample");
});

test("every truncation of every message is an error, never a throw", () => {
  for (const m of samples) {
    const bytes = encodePaxosMessage(m);
    for (let length = 0; length < bytes.length; length++) {
      const result = decodePaxosMessage(bytes.subarray(0, length));
      assert.equal(result.ok, false, `${m.type} cut to ${length} bytes decoded`);
    }
  }
});

test("trailing bytes, a wrong version and an unknown tag are refused with a reason", () => {
  const bytes = encodePaxosMessage(samples[0]!);
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  assert.match(error(longer), /trailing/);
  assert.match(error(patch(bytes, 0, 2)), /version/);
  assert.match(error(patch(bytes, 1, 99)), /tag/);
});

test("field values out of their domain are refused", () => {
  const prepare = encodePaxosMessage(samples[0]!);
  // Header: version, tag, from (8 bytes at 2), to (8 bytes at 10); then ballot counter at 18, node at 26.
  assert.match(error(patch(prepare, 9, 0)), /from: node id 0/);
  assert.match(error(patch(prepare, 17, 1)), /never messages itself/);
  assert.match(error(patch(prepare, 25, 0)), /counter starts at 1/);
  assert.match(error(patch(prepare, 2, 0xff)), /above 2\^53/);
  const accepted = encodePaxosMessage(samples[5]!);
  // ballot 16 + round 8 + learnedThrough 8 after the 18-byte header: stuck is at byte 50.
  assert.match(error(patch(accepted, 50, 2)), /boolean/);
  const noopWithData = encodePaxosMessage({
    type: "learn",
    from,
    to,
    entries: [{ slot: s(1), ballot: b(1, 1), value: cmd("z") }],
  });
  // count 4 + slot 8 + ballot 16 after the header: the value's kind byte is at byte 46.
  assert.match(error(patch(noopWithData, 46, 1)), /no-op carries no data/);
  assert.match(error(patch(noopWithData, 46, 7)), /unknown value kind/);
});

test("slot lists that are not ascending (or leave a gap where consecutive) are refused", () => {
  const twoSlots = encodePaxosMessage(samples[5]!);
  // The slot list starts after ballot, round, learnedThrough, stuck and the count: byte 55.
  const swapped = twoSlots.slice();
  swapped.set(twoSlots.subarray(63, 71), 55);
  swapped.set(twoSlots.subarray(55, 63), 63);
  assert.match(error(swapped), /must come after/);
  const gap = encodePaxosMessage({
    type: "learn",
    from,
    to,
    entries: [
      { slot: s(1), ballot: b(1, 1), value: NOOP },
      { slot: s(3), ballot: b(1, 1), value: NOOP },
    ],
  });
  assert.match(error(gap), /gap/);
});

test("a forged count cannot make the decoder allocate or loop beyond the input", () => {
  const learn = encodePaxosMessage({ type: "learn", from, to, entries: [] });
  const forged = learn.slice();
  new DataView(forged.buffer).setUint32(18, 0xffff_ffff);
  assert.match(error(forged), /count/);
});

test("random bytes and random corruptions of valid messages never throw", () => {
  const prng = new Prng(2024);
  for (let i = 0; i < 3000; i++) {
    const base = encodePaxosMessage(prng.pick(samples));
    const bytes = prng.chance(0.3) ? randomBytes(prng, prng.int(0, 80)) : corrupt(prng, base);
    const result = decodePaxosMessage(bytes);
    if (result.ok) assert.deepEqual(encodePaxosMessage(result.message), bytes, "a decoded message re-encodes exactly");
  }
});

function error(bytes: Uint8Array): string {
  const result = decodePaxosMessage(bytes);
  assert.equal(result.ok, false);
  return result.ok ? "" : result.error;
}

function patch(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = value;
  return copy;
}

function randomBytes(prng: Prng, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => prng.int(0, 256));
}

function corrupt(prng: Prng, bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  for (let n = prng.int(1, 4); n > 0; n--) copy[prng.int(0, copy.length)] = prng.int(0, 256);
  return copy;
}
