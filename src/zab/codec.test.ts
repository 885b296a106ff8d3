import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeId } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { decodeZabMessage, encodeZabMessage, ZAB_WIRE_VERSION } from "./codec.js";
import type { ZabMessage, ZabMessageType } from "./messages.js";
import { epoch, zxid, ZXID_ZERO } from "./types.js";

const from = nodeId(2);
const to = nodeId(5);
const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const txns = [
  { zxid: zxid(3, 7), data: bytes(1, 2, 3) },
  { zxid: zxid(4, 1), data: bytes() },
];

/** One sample of every message type, with values that need all of a field's width. */
const SAMPLES: Record<ZabMessageType, ZabMessage> = {
  notification: {
    type: "notification",
    from,
    to,
    round: 2 ** 40 + 3,
    state: "leading",
    vote: { leader: nodeId(3), epoch: epoch(9), zxid: zxid(9, 4_000_000_000) },
  },
  followerInfo: { type: "followerInfo", from, to, acceptedEpoch: epoch(Number.MAX_SAFE_INTEGER) },
  newEpoch: { type: "newEpoch", from, to, epoch: epoch(12) },
  ackEpoch: {
    type: "ackEpoch",
    from,
    to,
    epoch: epoch(12),
    promised: true,
    currentEpoch: epoch(11),
    lastZxid: zxid(11, 2),
    extents: [
      { epoch: epoch(11), lastCounter: 2 },
      { epoch: epoch(4), lastCounter: 9 },
    ],
  },
  newLeader: { type: "newLeader", from, to, epoch: epoch(4), prevZxid: zxid(3, 6), txns },
  ack: { type: "ack", from, to, epoch: epoch(4), zxid: zxid(4, 1) },
  proposal: { type: "proposal", from, to, epoch: epoch(4), prevZxid: ZXID_ZERO, txns },
  commit: { type: "commit", from, to, epoch: epoch(4), zxid: zxid(3, 7) },
  ping: { type: "ping", from, to, epoch: epoch(4), committedZxid: ZXID_ZERO, round: 17 },
  pong: { type: "pong", from, to, epoch: epoch(4), round: 17, lastZxid: zxid(4, 3), durableZxid: zxid(4, 1) },
  syncRequest: { type: "syncRequest", from, to, context: bytes(9, 9) },
  syncResponse: { type: "syncResponse", from, to, epoch: epoch(4), context: bytes(), index: 12 },
  forward: { type: "forward", from, to, data: bytes(7, 0, 7) },
};

test("every message type survives a round trip, and re-encodes to the same bytes", () => {
  for (const message of Object.values(SAMPLES)) {
    const encoded = encodeZabMessage(message);
    const decoded = decodeZabMessage(encoded);
    assert.ok(decoded.ok, `${message.type}: ${decoded.ok ? "" : decoded.error}`);
    assert.deepEqual(decoded.message, message);
    assert.deepEqual(encodeZabMessage(decoded.message), encoded);
  }
});

test("every truncation of every message, and a trailing byte, is refused with an error", () => {
  for (const message of Object.values(SAMPLES)) {
    const encoded = encodeZabMessage(message);
    for (let length = 0; length < encoded.length; length++) {
      const result = decodeZabMessage(encoded.subarray(0, length));
      assert.equal(result.ok, false, `${message.type} cut to ${length} bytes decoded`);
    }
    const longer = new Uint8Array(encoded.length + 1);
    longer.set(encoded);
    const result = decodeZabMessage(longer);
    assert.ok(!result.ok && result.error.includes("trailing"), `${message.type} with a trailing byte`);
  }
});

test("random corruption never throws, and whatever still decodes re-encodes to the same bytes", () => {
  const random = new Prng(99);
  const samples = Object.values(SAMPLES).map(encodeZabMessage);
  for (let k = 0; k < 20_000; k++) {
    const corrupt = Uint8Array.from(random.pick(samples));
    const flips = random.int(1, 4);
    for (let f = 0; f < flips; f++) corrupt[random.int(0, corrupt.length)] = random.int(0, 256);
    const result = decodeZabMessage(corrupt);
    if (result.ok) assert.deepEqual(encodeZabMessage(result.message), corrupt);
  }
});

test("malformed fields are refused with a message naming the field", () => {
  const cases: [string, (b: Uint8Array) => void, string][] = [
    ["version", (b) => (b[0] = ZAB_WIRE_VERSION + 1), "version"],
    ["tag", (b) => (b[1] = 200), "tag"],
    ["from is node 0", (b) => b.fill(0, 2, 10), "from"],
  ];
  const encoded = encodeZabMessage(SAMPLES.ack);
  for (const [name, corrupt, field] of cases) {
    const copy = Uint8Array.from(encoded);
    corrupt(copy);
    const result = decodeZabMessage(copy);
    assert.ok(!result.ok && result.error.startsWith(field), `${name}: ${JSON.stringify(result)}`);
  }
});

test("the decoder refuses what no correct member sends", () => {
  const refused: [string, ZabMessage, string][] = [
    ["txns out of order", { ...SAMPLES.proposal, txns: [txns[1]!, txns[0]!] } as ZabMessage, "txns"],
    ["a txn at or before prevZxid", { ...SAMPLES.newLeader, prevZxid: zxid(3, 7) } as ZabMessage, "txns"],
    ["a txn of a later epoch than the message", { ...SAMPLES.proposal, epoch: epoch(3) } as ZabMessage, "txns"],
    ["a zxid naming no transaction", { ...SAMPLES.ack, zxid: zxid(4, 0) } as ZabMessage, "zxid"],
    ["extents not ending at lastZxid", { ...SAMPLES.ackEpoch, lastZxid: zxid(11, 3) } as ZabMessage, "extents"],
    [
      "extents repeating an epoch",
      {
        ...SAMPLES.ackEpoch,
        extents: [
          { epoch: epoch(11), lastCounter: 2 },
          { epoch: epoch(11), lastCounter: 1 },
        ],
      } as ZabMessage,
      "extents",
    ],
    [
      "a vote for node 0",
      {
        ...SAMPLES.notification,
        vote: { ...(SAMPLES.notification as { vote: object }).vote, leader: nodeId(0) },
      } as ZabMessage,
      "vote.leader",
    ],
  ];
  for (const [name, message, field] of refused) {
    const result = decodeZabMessage(encodeZabMessage(message));
    assert.ok(!result.ok && result.error.startsWith(field), `${name}: ${JSON.stringify(result)}`);
  }
});

test("a notification state byte outside looking/following/leading and a boolean other than 0/1 are refused", () => {
  const notification = encodeZabMessage(SAMPLES.notification);
  notification[2 + 16 + 8] = 3;
  const badState = decodeZabMessage(notification);
  assert.ok(!badState.ok && badState.error.startsWith("state"));
  const ackEpoch = encodeZabMessage(SAMPLES.ackEpoch);
  ackEpoch[2 + 16 + 8] = 2;
  const badBool = decodeZabMessage(ackEpoch);
  assert.ok(!badBool.ok && badBool.error.startsWith("promised"));
});

test("a forward whose data length runs past the frame, or whose sender is node 0, is refused naming the field", () => {
  const encoded = encodeZabMessage(SAMPLES.forward);
  assert.equal(encoded[1], 13, "wire tag 13");
  const header = 2 + 16;
  const tooLong = Uint8Array.from(encoded);
  new DataView(tooLong.buffer).setUint32(header, 4);
  const long = decodeZabMessage(tooLong);
  assert.ok(!long.ok && long.error.startsWith("data"), JSON.stringify(long));
  const fromZero = Uint8Array.from(encoded);
  fromZero.fill(0, 2, 10);
  const zero = decodeZabMessage(fromZero);
  assert.ok(!zero.ok && zero.error.startsWith("from"), JSON.stringify(zero));
  const empty = decodeZabMessage(encodeZabMessage({ ...SAMPLES.forward, data: bytes() } as ZabMessage));
  assert.ok(
    empty.ok && empty.message.type === "forward" && empty.message.data.length === 0,
    "empty data is a transaction",
  );
});
