import assert from "node:assert/strict";
import { test } from "node:test";
import type { InstallSnapshot } from "../raft/messages.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import type { SnapshotChunk } from "./codec.js";
import { nextChunk, SnapshotReassembler } from "./snapshot_stream.js";

function snapshotMessage(bytes: number, t = 3): InstallSnapshot {
  const data = new Uint8Array(bytes).map((_, i) => (i * 7) & 0xff);
  const meta = { index: logIndex(50), term: term(2), voters: [nodeId(1), nodeId(2)], votersOutgoing: [], learners: [] };
  return { type: "installSnapshot", from: nodeId(1), to: nodeId(2), term: term(t), snapshot: { meta, data } };
}

function chunks(m: InstallSnapshot, chunkBytes: number, streamId = 1): SnapshotChunk[] {
  const s = { streamId, message: m, offset: 0 };
  const out: SnapshotChunk[] = [];
  for (let done = false; !done;) {
    const next = nextChunk(s, chunkBytes);
    out.push(next.chunk);
    done = next.done;
  }
  return out;
}

test("a snapshot split into chunks is reassembled intact", () => {
  for (const [bytes, chunkBytes, expected] of [
    [1000, 100, 10],
    [1001, 100, 11],
    [5, 100, 1],
    [0, 100, 1],
  ] as const) {
    const m = snapshotMessage(bytes);
    const pieces = chunks(m, chunkBytes);
    assert.equal(pieces.length, expected);
    assert.ok(
      pieces.every((c, k) => (c.meta !== undefined) === (k === 0)),
      "meta rides on the first chunk only",
    );
    const r = new SnapshotReassembler(10_000);
    pieces.slice(0, -1).forEach((c) => assert.equal(r.accept(c).complete, undefined));
    const last = r.accept(pieces.at(-1)!);
    assert.deepStrictEqual(last.complete, m);
    assert.deepEqual(last.discarded, []);
    assert.equal(r.inProgress, false);
  }
});

test("an out-of-order or inconsistent chunk discards the stream once; its later chunks are ignored", () => {
  const pieces = chunks(snapshotMessage(500), 100);
  const r = new SnapshotReassembler(10_000);
  r.accept(pieces[0]!);
  const skipped = r.accept(pieces[2]!);
  assert.equal(skipped.discarded.length, 1);
  assert.match(skipped.discarded[0]!, /offset 200 disagrees with stream 1 \(100 of 500 bytes/);
  assert.deepEqual(r.accept(pieces[3]!).discarded, []);
  assert.equal(r.accept(pieces[4]!).complete, undefined);
  // A term change mid-stream is inconsistent too.
  const r2 = new SnapshotReassembler(10_000);
  r2.accept(pieces[0]!);
  assert.equal(r2.accept({ ...pieces[1]!, term: term(4) }).discarded.length, 1);
});

test("a new stream supersedes an unfinished one; a chunk of an unknown stream is discarded", () => {
  const first = chunks(snapshotMessage(300), 100, 1);
  const second = chunks(snapshotMessage(50, 4), 100, 2);
  const r = new SnapshotReassembler(10_000);
  r.accept(first[0]!);
  const outcome = r.accept(second[0]!);
  assert.equal(outcome.complete?.term, 4, "the new stream completes in one chunk");
  assert.deepEqual(outcome.discarded, ["stream 1 superseded by stream 2"]);
  assert.match(r.accept(first[1]!).discarded[0] ?? "", /stream 1, which never started/);
});

test("a stream declaring more than snapshotBytesMax is refused at its first chunk", () => {
  const pieces = chunks(snapshotMessage(1000), 100);
  const r = new SnapshotReassembler(999);
  assert.match(r.accept(pieces[0]!).discarded[0] ?? "", /1000 bytes exceeds snapshotBytesMax 999/);
  assert.equal(r.inProgress, false);
  for (const c of pieces.slice(1)) assert.deepEqual(r.accept(c), { complete: undefined, discarded: [] });
});

test("a chunk that runs past the size its stream declared discards the stream, and nothing throws", () => {
  const pieces = chunks(snapshotMessage(250), 100);
  const r = new SnapshotReassembler(10_000);
  r.accept(pieces[0]!);
  r.accept(pieces[1]!);
  const long = { ...pieces[2]!, data: new Uint8Array(120) };
  const outcome = r.accept(long);
  assert.equal(outcome.complete, undefined);
  assert.match(outcome.discarded[0] ?? "", /stream 1 sent more than the 250 bytes it declared/);
  assert.equal(r.inProgress, false);
  // A first chunk longer than its declared total is refused the same way.
  const r2 = new SnapshotReassembler(10_000);
  assert.match(r2.accept({ ...pieces[0]!, data: new Uint8Array(300) }).discarded[0] ?? "", /sent more than/);
});
