import { test } from "node:test";
import assert from "node:assert/strict";
import { ProtoError, ProtoReader } from "./wire_reader.js";
import { ProtoWriter, varintSize } from "./wire_writer.js";

function written(write: (w: ProtoWriter) => void): Uint8Array {
  const w = new ProtoWriter(Buffer.alloc(32), 0);
  write(w);
  return w.buf.subarray(0, w.pos);
}

test("varints round-trip exactly up to 2^53 - 1, and negative int64 as ten bytes", () => {
  for (const value of [
    0,
    1,
    127,
    128,
    300,
    2 ** 28 - 1,
    2 ** 28,
    2 ** 31,
    2 ** 32 + 5,
    2 ** 49,
    Number.MAX_SAFE_INTEGER,
  ]) {
    const bytes = written((w) => w.uint(value));
    assert.equal(bytes.length, varintSize(value), `size of ${value}`);
    assert.equal(new ProtoReader(bytes).int64("v", false), value);
    assert.equal(new ProtoReader(bytes).int64("v", true), value);
  }
  for (const value of [-1, -2, -300, -(2 ** 31), -(2 ** 40) - 7, -Number.MAX_SAFE_INTEGER]) {
    const bytes = written((w) => w.int(value));
    assert.equal(bytes.length, 10);
    assert.equal(new ProtoReader(bytes).int64("v", true), value, `int64 ${value}`);
    assert.equal(BigInt.asIntN(64, readBig(bytes)), BigInt(value));
  }
  assert.equal(new ProtoReader(written((w) => w.int(-5))).int32(), -5);
});

test("values beyond the safe range, overlong and truncated varints are refused with the field's name", () => {
  const big = Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]); // 2^60
  assert.throws(() => new ProtoReader(big).int64("revision", false), /revision: value above 2\^53 - 1/);
  const minusTwoTo60 = Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0xf0, 0x01]);
  assert.throws(() => new ProtoReader(minusTwoTo60).int64("id", true), /id: value below/);
  const eleven = new Uint8Array(11).fill(0x80);
  assert.throws(() => new ProtoReader(eleven).int64("x", false), ProtoError);
  assert.throws(() => new ProtoReader(eleven).uint32(), ProtoError);
  assert.throws(() => new ProtoReader(Uint8Array.of(0x80)).uint32(), /truncated/);
  assert.throws(() => new ProtoReader(Uint8Array.of(5, 1)).bytes(), /runs past the end/);
  assert.throws(() => new ProtoReader(Uint8Array.of(0x03)).skip(3), /wire type 3/);
});

function readBig(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 7n) | BigInt(bytes[i]! & 0x7f);
  return value;
}
