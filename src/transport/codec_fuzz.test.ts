import assert from "node:assert/strict";
import { test } from "node:test";
import { Prng } from "../util/prng.js";
import { WIRE_VERSION } from "./codec.js";
import { decodePayload } from "./codec_decode.js";
import {
  encodeEngineMessageAt,
  encodeHelloAt,
  encodeMessage,
  encodeSnapshotChunkAt,
  helloBytes,
  messageBytes,
  snapshotChunkBytes,
} from "./codec_encode.js";
import { fill, fixedSamples, n1, n2, randomChunk, randomMessage } from "./codec.test.helper.js";

/** Decoding never throws; whatever decodes re-encodes to exactly the same bytes (one encoding per message). */
function checkDecode(bytes: Uint8Array): boolean {
  const result = decodePayload(bytes);
  if (!result.ok) {
    assert.equal(typeof result.error, "string");
    assert.ok(result.error.length > 0);
    return false;
  }
  const again =
    result.kind === "message"
      ? encodeMessage(result.message)
      : result.kind === "hello"
        ? encodeHelloAt(result.hello, 0, helloBytes(result.hello))
        : result.kind === "engine"
          ? encodeEngineMessageAt(result, result.body, 0)
          : encodeSnapshotChunkAt(result.chunk, 0, snapshotChunkBytes(result.chunk));
  assert.deepEqual(
    new Uint8Array(again),
    new Uint8Array(bytes),
    "a decodable input is the canonical encoding of what it decodes to",
  );
  return true;
}

/**
 * Random input built from plausible field values (small integers, 0/1 bytes, short lengths) as well
 * as raw noise, so that fuzzing gets past the header into every variant's body.
 */
function randomFields(prng: Prng): Uint8Array {
  const out: number[] = [WIRE_VERSION, prng.pick([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 128, 129, 130, 0, 11, 255])];
  const u64 = (value: number): number[] => [0, 0, 0, 0, 0, 0, 0, value];
  out.push(...u64(prng.int(0, 3)), ...u64(prng.int(0, 3)), ...u64(prng.int(0, 4)));
  for (let k = prng.int(0, 12); k > 0; k--) {
    switch (prng.int(0, 5)) {
      case 0:
        out.push(prng.int(0, 3));
        break;
      case 1:
        out.push(0, 0, 0, prng.int(0, 4));
        break;
      case 2:
        out.push(...u64(prng.int(0, 6)));
        break;
      case 3:
        out.push(prng.int(0, 256));
        break;
      default:
        for (let n = prng.int(1, 9); n > 0; n--) out.push(prng.int(0, 256));
    }
  }
  return Uint8Array.from(out);
}

test("fuzz: random buffers never throw; anything accepted is canonical", () => {
  const prng = new Prng(77);
  let accepted = 0;
  for (let k = 0; k < 20_000; k++) {
    const bytes = prng.chance(0.3) ? fill(prng.int(0, 120), prng.nextUint32()) : randomFields(prng);
    if (checkDecode(bytes)) accepted++;
  }
  assert.ok(accepted > 10, `${accepted} random inputs reached a valid message`);
});

test("fuzz: single-byte mutations, truncations and extensions of valid encodings never throw", () => {
  const prng = new Prng(4242);
  const samples: Uint8Array[] = [];
  for (const m of fixedSamples()) if (messageBytes(m) < 4096) samples.push(encodeMessage(m));
  for (let k = 0; k < 300; k++) samples.push(encodeMessage(randomMessage(prng)));
  for (let k = 0; k < 50; k++) samples.push(randomChunk(prng));
  for (const clientAddress of ["127.0.0.1:8001", "[::1]:8001", undefined]) {
    const hello = { from: n1, to: n2, address: "127.0.0.1:7001", clientAddress };
    samples.push(encodeHelloAt(hello, 0, helloBytes(hello)));
  }
  let mutations = 0;
  let stillValid = 0;
  for (const original of samples) {
    assert.ok(checkDecode(original));
    // Every strict prefix is invalid: the encoding is prefix-free.
    for (let length = 0; length < original.byteLength; length++)
      assert.equal(checkDecode(original.subarray(0, length)), false);
    assert.equal(checkDecode(Uint8Array.from([...original, prng.int(0, 256)])), false);
    for (let k = 0; k < 40; k++) {
      const bytes = new Uint8Array(original);
      const at = prng.int(0, bytes.byteLength);
      bytes[at] = (bytes[at]! + prng.int(1, 256)) & 0xff;
      if (checkDecode(bytes)) stillValid++;
      mutations++;
    }
  }
  assert.ok(mutations > 10_000, `${mutations} mutations`);
  assert.ok(stillValid > 0 && stillValid < mutations, "mutations land both in data (valid) and in structure (invalid)");
});
