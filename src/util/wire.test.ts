import assert from "node:assert/strict";
import { test } from "node:test";
import { AssertionError } from "./assert.js";
import { ByteReader, ByteWriter, DecodeError, type DecodeFailure } from "./wire.js";

/** The failure `read` throws on `bytes`; the codecs' error results are built from it. */
function failure(bytes: Uint8Array, read: (r: ByteReader) => unknown): DecodeFailure {
  try {
    read(new ByteReader(bytes));
  } catch (error) {
    assert.ok(error instanceof DecodeError);
    assert.equal(error.message, error.failure.message);
    return error.failure;
  }
  assert.fail("expected a DecodeError");
}

test("wire: every field round-trips big-endian, after the writer's headroom", () => {
  const w = new ByteWriter(new Uint8Array(2 + 1 + 1 + 2 + 4 + 8 + 4 + 2 + 1), 2);
  w.u8(0xab);
  w.bool(true);
  w.u16(0xbeef);
  w.u32(0xdead_beef);
  w.u64(Number.MAX_SAFE_INTEGER);
  w.bytes(Uint8Array.of(1, 2));
  w.u8(3);
  const bytes = w.finish("sample");
  assert.deepEqual([...bytes.subarray(2, 6)], [0xab, 1, 0xbe, 0xef]);
  assert.deepEqual([...bytes.subarray(10, 18)], [0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  const r = new ByteReader(bytes.subarray(2));
  assert.deepEqual(
    [r.u8("a"), r.bool("b"), r.u16("c"), r.u32("d"), r.u64("e"), [...r.bytes("f")], [...r.raw("g", 1)]],
    [0xab, true, 0xbeef, 0xdead_beef, Number.MAX_SAFE_INTEGER, [1, 2], [3]],
  );
  r.end();
});

test("wire: bytes() is a view of the input, raw() a copy", () => {
  const input = Uint8Array.of(0, 0, 0, 1, 7, 8);
  const r = new ByteReader(input);
  const view = r.bytes("view");
  const copy = r.raw("copy", 1);
  input[4] = 9;
  input[5] = 9;
  assert.deepEqual([view[0], copy[0]], [9, 8]);
});

test("wire: failures carry their kind, field and offset", () => {
  const twoToThe53 = Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0);
  assert.deepEqual(
    failure(Uint8Array.of(5, 0), (r) => [r.u8("tag"), r.u16("length")]),
    { kind: "truncated", field: "length", offset: 1, message: "length: needs 2 bytes, 1 left (at byte 1)" },
  );
  assert.equal(failure(twoToThe53, (r) => r.u64("index")).message, "index: integer above 2^53 - 1 (at byte 0)");
  assert.equal(failure(Uint8Array.of(2), (r) => r.bool("flag")).kind, "malformed");
  assert.equal(failure(Uint8Array.of(0, 0, 0, 3, 0), (r) => r.count("items", 1)).kind, "truncated");
  assert.equal(failure(Uint8Array.of(0, 0, 0, 9), (r) => r.bytes("data")).kind, "truncated");
  assert.equal(failure(Uint8Array.of(1), (r) => r.end()).kind, "trailingBytes");
  assert.equal(failure(Uint8Array.of(), (r) => r.fail("tag", "unknown", "unknownTag")).kind, "unknownTag");
  assert.equal(new ByteReader(Uint8Array.of(0, 0, 0, 2, 0, 0)).count("items", 1), 2);
});

test("wire: a value outside its field, or a sizing mistake, is a programmer error", () => {
  const w = new ByteWriter(new Uint8Array(16));
  assert.throws(() => w.u16(0x1_0000), AssertionError);
  assert.throws(() => w.u32(-1), AssertionError);
  assert.throws(() => w.u64(2 ** 53), AssertionError);
  assert.throws(() => w.u64(0.5), AssertionError);
  assert.throws(() => w.finish("short"), /short: wrote 0 bytes, sized 16/);
});
