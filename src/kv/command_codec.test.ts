import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import type { KvCommand } from "./commands.js";
import { decodeCommand, encodeCommand } from "./command_codec.js";
import { validateCommand } from "./command_checks.js";
import { clientIdBytesMax, commandBytesMax, keyBytesMax, txnOpsMax, valueBytesMax } from "./limits.js";
import { bytes, randomCommand } from "./test_support.test.helper.js";

const session = { clientId: "client-1", seq: 42 };

const examples: readonly KvCommand[] = [
  { type: "put", key: bytes("k"), value: bytes("v") },
  { type: "put", key: bytes("k"), value: new Uint8Array(0) },
  { type: "put", key: bytes("k"), value: bytes("v"), ifModRevision: 0 },
  { type: "put", key: bytes("k"), value: bytes("v"), ifModRevision: Number.MAX_SAFE_INTEGER, session },
  {
    type: "put",
    key: new Uint8Array([0, 0xff, 0x80]),
    value: new Uint8Array([0xff, 0]),
    session: { clientId: "~!", seq: 0 },
  },
  { type: "delete", key: bytes("gone") },
  { type: "delete", key: bytes("gone"), session },
  { type: "txn", compare: [], success: [], failure: [] },
  {
    type: "txn",
    compare: [
      { key: bytes("a"), value: bytes("1") },
      { key: bytes("b"), modRevision: 0 },
      { key: bytes("c"), value: new Uint8Array(0), modRevision: 7 },
    ],
    success: [
      { type: "put", key: bytes("a"), value: bytes("2") },
      { type: "get", key: bytes("a") },
      { type: "delete", key: bytes("b") },
    ],
    failure: [{ type: "get", key: bytes("a") }],
    session,
  },
  { type: "put", key: bytes("k"), value: bytes("v"), lease: 7 },
  { type: "put", key: bytes("k"), value: bytes("v"), ifModRevision: 3, lease: Number.MAX_SAFE_INTEGER, session },
  {
    type: "txn",
    compare: [{ key: bytes("lock/1"), modRevision: 0 }],
    success: [{ type: "put", key: bytes("lock/1"), value: bytes(""), lease: 9 }],
    failure: [{ type: "get", key: bytes("lock/1") }],
  },
  { type: "leaseGrant", id: 1, ttlSeconds: 9_000_000_000 },
  { type: "leaseRevoke", id: Number.MAX_SAFE_INTEGER },
  {
    type: "leaseCheckpoint",
    checkpoints: [
      { id: 5, remainingMs: 0 },
      { id: 6, remainingMs: 1234 },
    ],
  },
  { type: "compact", revision: 42 },
];

test("every command kind survives encode → decode unchanged, and the encoding is canonical", () => {
  for (const command of examples) {
    assert.equal(validateCommand(command), undefined);
    const encoded = encodeCommand(command);
    const decoded = decodeCommand(encoded);
    assert.deepEqual(decoded, { ok: true, command });
    assert.deepEqual(encodeCommand(decoded.command), encoded);
  }
});

test("random valid commands round-trip", () => {
  const prng = new Prng(11);
  for (let i = 0; i < 2000; i++) {
    const command = randomCommand(prng);
    const decoded = decodeCommand(encodeCommand(command));
    assert.deepEqual(decoded, { ok: true, command });
  }
});

test("a put with the largest key and value fits, one byte more does not", () => {
  const largest: KvCommand = {
    type: "put",
    key: new Uint8Array(keyBytesMax),
    value: new Uint8Array(valueBytesMax),
    ifModRevision: 1,
    session: { clientId: "x".repeat(clientIdBytesMax), seq: 1 },
  };
  const encoded = encodeCommand(largest);
  assert.ok(encoded.length <= commandBytesMax);
  assert.equal(decodeCommand(encoded).ok, true);
  assert.match(validateCommand({ ...largest, key: new Uint8Array(keyBytesMax + 1) }) ?? "", /key of 8193 bytes/);
  assert.match(validateCommand({ ...largest, value: new Uint8Array(valueBytesMax + 1) }) ?? "", /value of/);
});

test("validateCommand names what is wrong, and encodeCommand refuses it", () => {
  const k = bytes("k");
  const v = bytes("v");
  const bad: Array<[KvCommand, RegExp]> = [
    [{ type: "put", key: new Uint8Array(0), value: v }, /key is empty/],
    [{ type: "delete", key: new Uint8Array(0) }, /key is empty/],
    [{ type: "put", key: k, value: v, ifModRevision: -1 }, /ifModRevision/],
    [{ type: "put", key: k, value: v, ifModRevision: 1.5 }, /ifModRevision/],
    [{ type: "put", key: k, value: v, session: { clientId: "", seq: 1 } }, /clientId/],
    [{ type: "put", key: k, value: v, session: { clientId: "has space", seq: 1 } }, /visible ASCII/],
    [{ type: "put", key: k, value: v, session: { clientId: "é", seq: 1 } }, /visible ASCII/],
    [{ type: "put", key: k, value: v, session: { clientId: "x".repeat(clientIdBytesMax + 1), seq: 1 } }, /clientId/],
    [{ type: "put", key: k, value: v, session: { clientId: "c", seq: 2 ** 53 } }, /seq/],
    [{ type: "txn", compare: [{ key: k }], success: [], failure: [] }, /neither/],
    [{ type: "txn", compare: [{ key: k, modRevision: -2 }], success: [], failure: [] }, /modRevision/],
    [
      { type: "txn", compare: [], success: [{ type: "get", key: new Uint8Array(0) }], failure: [] },
      /success op 0: key is empty/,
    ],
    [
      {
        type: "txn",
        compare: [],
        success: [],
        failure: [
          { type: "put", key: k, value: v },
          { type: "delete", key: k },
        ],
      },
      /failure op 1: writes a key/,
    ],
    [
      {
        type: "txn",
        compare: [],
        success: Array.from({ length: txnOpsMax + 1 }, () => ({ type: "get", key: k })),
        failure: [],
      },
      /at most/,
    ],
    [
      {
        type: "txn",
        compare: [],
        success: [
          { type: "put", key: bytes("a"), value: new Uint8Array(valueBytesMax) },
          { type: "put", key: bytes("b"), value: new Uint8Array(valueBytesMax) },
        ],
        failure: [],
      },
      /exceeds/,
    ],
  ];
  for (const [command, pattern] of bad) {
    assert.match(validateCommand(command) ?? "(valid)", pattern);
    assert.throws(() => encodeCommand(command), /encodeCommand/);
  }
  // Reading a key twice, or writing it in both branches, is fine.
  const fine: KvCommand = {
    type: "txn",
    compare: [],
    success: [
      { type: "get", key: k },
      { type: "put", key: k, value: v },
      { type: "get", key: k },
    ],
    failure: [{ type: "delete", key: k }],
  };
  assert.equal(validateCommand(fine), undefined);
});

test("every truncation of a valid encoding is rejected, and so are trailing bytes", () => {
  for (const command of examples) {
    const encoded = encodeCommand(command);
    for (let length = 0; length < encoded.length; length++) {
      const decoded = decodeCommand(encoded.subarray(0, length));
      assert.equal(decoded.ok, false, `prefix of ${length} of ${encoded.length} bytes`);
    }
    const longer = new Uint8Array(encoded.length + 1);
    longer.set(encoded);
    assert.deepEqual(decodeCommand(longer), { ok: false, error: "1 trailing bytes after the command" });
  }
});

test("lease and compaction commands outside their bounds are refused by both validate and decode", () => {
  const bad: KvCommand[] = [
    { type: "leaseGrant", id: 0, ttlSeconds: 10 },
    { type: "leaseGrant", id: 1, ttlSeconds: 0 },
    { type: "leaseGrant", id: 1, ttlSeconds: 9_000_000_001 },
    { type: "leaseRevoke", id: -1 },
    { type: "leaseCheckpoint", checkpoints: [] },
    { type: "put", key: bytes("k"), value: bytes("v"), lease: 1.5 },
    { type: "compact", revision: -1 },
  ];
  for (const command of bad) assert.notEqual(validateCommand(command), undefined, JSON.stringify(command));
  // The same refusal when the bytes come from elsewhere: a grant with a zero TTL, patched in.
  const grant = encodeCommand({ type: "leaseGrant", id: 1, ttlSeconds: 1 });
  grant.fill(0, grant.length - 8);
  assert.deepEqual(decodeCommand(grant), { ok: false, error: "leaseGrant: a lease TTL is 1 to 9000000000 seconds" });
  const sessionOnGrant = encodeCommand({ type: "leaseRevoke", id: 1 });
  sessionOnGrant[2] = 1;
  assert.deepEqual(decodeCommand(sessionOnGrant), { ok: false, error: "a session on a command that takes none" });
});

test("headers that no encoder writes are rejected with a reason", () => {
  const put = encodeCommand({ type: "put", key: bytes("k"), value: bytes("v") });
  const patched = (at: number, byte: number): Uint8Array => {
    const copy = put.slice();
    copy[at] = byte;
    return copy;
  };
  assert.deepEqual(decodeCommand(patched(0, 2)), { ok: false, error: "unsupported command version 2" });
  assert.deepEqual(decodeCommand(patched(1, 20)), { ok: false, error: "unknown command kind 20" });
  assert.deepEqual(decodeCommand(patched(2, 16)), { ok: false, error: "unknown command flags 0x10" });
  const del = encodeCommand({ type: "delete", key: bytes("k") });
  del[2] = 2;
  assert.equal(decodeCommand(del).ok, false);
  assert.equal(decodeCommand(new Uint8Array(commandBytesMax + 1)).ok, false);
});

function assertDecodesSafely(input: Uint8Array): void {
  let decoded;
  try {
    decoded = decodeCommand(input);
  } catch (error) {
    assert.fail(`decodeCommand threw on [${input.join(",")}]: ${String(error)}`);
  }
  if (decoded.ok) {
    // Anything accepted is a valid command, and exactly its canonical encoding.
    assert.equal(validateCommand(decoded.command), undefined);
    assert.deepEqual(encodeCommand(decoded.command), input);
  } else {
    assert.equal(typeof decoded.error, "string");
  }
}

test("fuzz: random bytes never make decodeCommand throw", () => {
  const prng = new Prng(2024);
  for (let i = 0; i < 5000; i++) {
    const input = Uint8Array.from({ length: prng.int(0, 64) }, () => prng.int(0, 256));
    // Often start with a plausible header so the fuzzing reaches the bodies.
    if (input.length >= 3 && prng.chance(0.7)) {
      input[0] = 1;
      input[1] = prng.int(1, 4);
      input[2] = prng.int(0, 4);
    }
    assertDecodesSafely(input);
  }
});

test("fuzz: mutations of valid encodings never make decodeCommand throw", () => {
  const prng = new Prng(99);
  let accepted = 0;
  for (let i = 0; i < 5000; i++) {
    const input = encodeCommand(randomCommand(prng)).slice();
    for (let flips = prng.int(1, 4); flips > 0; flips--) {
      const at = prng.int(0, input.length);
      switch (prng.int(0, 3)) {
        case 0:
          input[at] = prng.int(0, 256);
          break;
        case 1:
          input[at]! ^= 1 << prng.int(0, 8);
          break;
        default:
          input[at] = prng.pick([0, 1, 0x7f, 0x80, 0xff]);
      }
    }
    const cut = prng.chance(0.2) ? input.subarray(0, prng.int(0, input.length + 1)) : input;
    if (decodeCommand(cut).ok) accepted++;
    assertDecodesSafely(cut);
  }
  assert.ok(accepted > 0, "some mutations still decode (e.g. changed value bytes)");
});
