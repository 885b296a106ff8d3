import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Deframer } from "./framing.js";
import { GrpcError, Status } from "./status.js";

function framed(body: Buffer, flag = 0): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = flag;
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

/** A small seeded generator, so a failing split replays. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function refusal(run: () => void): number {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof GrpcError);
    return error.code;
  }
  assert.fail("expected a refusal");
}

describe("Deframer", () => {
  it("gives back every message whole however the stream is cut into chunks", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = lcg(seed);
      const bodies = Array.from({ length: 1 + Math.floor(random() * 6) }, (_, i) =>
        Buffer.alloc(Math.floor(random() * (random() < 0.2 ? 70_000 : 40)), i + 1),
      );
      const stream = Buffer.concat(bodies.map((b) => framed(b)));
      const deframer = new Deframer(1 << 20);
      const out: Uint8Array[] = [];
      for (let pos = 0; pos < stream.length;) {
        const size = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 20_000));
        deframer.push(stream.subarray(pos, pos + size), out);
        pos += size;
      }
      deframer.finish();
      assert.deepEqual(
        out.map((m) => Buffer.from(m)),
        bodies,
        `seed ${seed}`,
      );
    }
  });

  it("gathers a 4 MiB message sent in 16 KiB chunks", () => {
    const body = Buffer.alloc(4 * 1024 * 1024 - 5, 7);
    const stream = framed(body);
    const deframer = new Deframer(4 * 1024 * 1024);
    const out: Uint8Array[] = [];
    for (let pos = 0; pos < stream.length; pos += 16_384) deframer.push(stream.subarray(pos, pos + 16_384), out);
    deframer.finish();
    assert.equal(out.length, 1);
    assert.ok(Buffer.from(out[0]!).equals(body));
  });

  it("refuses an oversized message from its prefix, before its body arrives", () => {
    const prefix = Buffer.from([0, 0, 0, 4, 1]);
    assert.equal(
      refusal(() => new Deframer(1024).push(prefix, [])),
      Status.RESOURCE_EXHAUSTED,
    );
  });

  it("refuses a compressed message and an unknown flag", () => {
    assert.equal(
      refusal(() => new Deframer(1024).push(framed(Buffer.from("x"), 1), [])),
      Status.UNIMPLEMENTED,
    );
    assert.equal(
      refusal(() => new Deframer(1024).push(framed(Buffer.from("x"), 9), [])),
      Status.INTERNAL,
    );
  });

  it("calls a stream that ends inside a message truncated, and one that ends between messages whole", () => {
    const whole = new Deframer(1024);
    whole.push(framed(Buffer.from("abc")), []);
    whole.finish();
    const cut = new Deframer(1024);
    cut.push(framed(Buffer.from("abc")).subarray(0, 6), []);
    assert.equal(
      refusal(() => cut.finish()),
      Status.RESOURCE_EXHAUSTED,
    );
  });
});
