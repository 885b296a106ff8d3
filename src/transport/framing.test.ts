import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import { encodeFrame, FrameDecoder } from "./framing.js";

function payload(prng: Prng, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = prng.nextUint32() & 0xff;
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Cuts `stream` at random points: many 1–3 byte pieces (split headers), some large ones (many frames each). */
function randomSplit(prng: Prng, stream: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < stream.byteLength;) {
    const size = prng.chance(0.5) ? prng.int(1, 4) : prng.chance(0.8) ? prng.int(1, 600) : prng.int(1, 300_000);
    pieces.push(stream.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

test("frames survive any chunking: split across many chunks, many in one chunk (seeded)", () => {
  for (let seed = 1; seed <= 30; seed++) {
    const prng = new Prng(seed);
    const sizes = Array.from({ length: prng.int(1, 80) }, () =>
      prng.chance(0.05) ? prng.int(50_000, 250_000) : prng.int(1, 400),
    );
    const payloads = sizes.map((size) => payload(prng, size));
    const decoder = new FrameDecoder({ frameBytesMax: 300_000 });
    const got: Uint8Array[] = [];
    for (const piece of randomSplit(prng, concat(payloads.map(encodeFrame)))) {
      const result = decoder.push(piece);
      assert.ok(result.ok, result.ok ? "" : result.error);
      got.push(...result.frames.map((f) => new Uint8Array(f)));
    }
    assert.equal(got.length, payloads.length, `seed ${seed}`);
    got.forEach((frame, k) => assert.deepEqual(frame, payloads[k], `seed ${seed} frame ${k}`));
    assert.equal(decoder.bufferedBytes, 0);
  }
});

test("a frame inside one chunk is a view of it; one spanning chunks is assembled", () => {
  const a = Uint8Array.from([1, 2, 3]);
  const b = Uint8Array.from([4, 5, 6, 7, 8]);
  const stream = concat([encodeFrame(a), encodeFrame(b)]);
  const decoder = new FrameDecoder();
  const first = decoder.push(stream.subarray(0, 10));
  assert.ok(first.ok);
  assert.equal(first.frames.length, 1);
  assert.equal(first.frames[0]!.buffer, stream.buffer, "no copy");
  assert.equal(decoder.bufferedBytes, 3);
  const second = decoder.push(stream.subarray(10));
  assert.ok(second.ok);
  assert.deepEqual([...second.frames[0]!], [4, 5, 6, 7, 8]);
});

test("an oversize length is refused at the header, before buffering its body; the error sticks", () => {
  const decoder = new FrameDecoder({ frameBytesMax: 1000 });
  const good = encodeFrame(Uint8Array.from([9]));
  const result = decoder.push(concat([good, Uint8Array.from([0, 0, 0x03, 0xe9]), new Uint8Array(10)]));
  assert.ok(!result.ok);
  assert.match(result.error, /frame of 1001 bytes exceeds frameBytesMax 1000/);
  assert.equal(result.frames.length, 1, "frames before the bad header are still returned");
  assert.equal(decoder.bufferedBytes, 0);
  const later = decoder.push(good);
  assert.ok(!later.ok);
  assert.equal(later.frames.length, 0);
});

test("a length split across chunks is checked once complete; a zero length is malformed", () => {
  const decoder = new FrameDecoder({ frameBytesMax: 1000 });
  assert.ok(decoder.push(Uint8Array.from([0xff])).ok);
  assert.ok(decoder.push(Uint8Array.from([0xff, 0xff])).ok);
  const result = decoder.push(Uint8Array.from([0xff]));
  assert.ok(!result.ok);
  assert.match(result.error, /4294967295 bytes exceeds/);

  const empty = new FrameDecoder().push(Uint8Array.from([0, 0, 0, 0]));
  assert.ok(!empty.ok);
  assert.match(empty.error, /empty frame/);
});

test("fuzz: random byte streams in random chunks never throw", () => {
  const prng = new Prng(99);
  for (let k = 0; k < 2000; k++) {
    const decoder = new FrameDecoder({ frameBytesMax: prng.int(1, 5000) });
    for (const piece of randomSplit(prng, payload(prng, prng.int(0, 3000)))) {
      const result = decoder.push(piece);
      for (const frame of result.frames) assert.ok(frame.byteLength >= 1);
      if (!result.ok) break;
    }
  }
});
