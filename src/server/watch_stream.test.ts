import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import { watchSetup } from "../coord/watch_test_support.test.helper.js";
import type { HttpError } from "./http_util.js";
import type { StreamResponse } from "./watch_stream.js";
import { WatchStreams } from "./watch_streams.js";

type Line = Record<string, unknown>;

/** A response whose socket is full while `full` is set; `drain` and `leave` act as the reader would. */
class FakeResponse extends EventEmitter implements StreamResponse {
  readonly lines: Line[] = [];
  full = false;
  writableEnded = false;
  destroyed = false;

  write(chunk: string): boolean {
    assert.ok(!this.writableEnded, `a write after the end: ${chunk}`);
    assert.ok(chunk.endsWith("\n"));
    this.lines.push(JSON.parse(chunk) as Line);
    return !this.full;
  }

  end(): void {
    this.writableEnded = true;
  }

  drain(): void {
    this.full = false;
    this.emit("drain");
  }

  leave(): void {
    this.destroyed = true;
    this.emit("close");
  }

  of(watchId: number): Line[] {
    return this.lines.filter((line) => line.watchId === watchId);
  }

  /** The keys of a watch's events, in the order sent. */
  keysOf(watchId: number): string[] {
    return this.of(watchId).flatMap((line) =>
      Array.isArray(line.events) ? line.events.map((e: { kv: { key: string } }) => e.kv.key) : [],
    );
  }
}

function setup(options: { bufferEventsMax?: number } = {}) {
  const { store, clock, hub } = watchSetup(options);
  const streams = new WatchStreams(hub);
  const res = new FakeResponse();
  const stream = streams.open(res, { sse: false, encoding: "text", endsWhenEmpty: false });
  return { store, clock, hub, streams, res, stream };
}

test("watches on one stream each get their own range's messages, tagged with their id", () => {
  const { store, clock, res, stream } = setup();
  stream.announce(0);
  const a = stream.add({ range: { key: "a" } });
  const b = stream.add({ range: { prefix: "b/" }, prevKv: true });
  assert.deepEqual(res.lines.slice(0, 3), [
    { stream: stream.id, revision: 0 },
    { created: true, watchId: a, stream: stream.id, revision: 0 },
    { created: true, watchId: b, stream: stream.id, revision: 0 },
  ]);
  store.put("a", "1");
  store.txn({ "b/1": "2", "b/2": "3", c: "4" });
  store.put("b/1", "5");
  clock.runSoon();
  assert.deepEqual(res.keysOf(a), ["a"]);
  assert.deepEqual(res.keysOf(b), ["b/1", "b/2", "b/1"]);
  const events = res.of(b).flatMap((line) => (line.events ?? []) as { prevKv?: { value: string } }[]);
  assert.deepEqual(
    events.map((e) => e.prevKv?.value),
    [undefined, undefined, "2"],
    "prevKv as the watch asked",
  );
  assert.equal(stream.size, 2);
});

test("a full socket pauses each watch that writes, and its drain resumes every one of them", () => {
  const { store, clock, res, stream } = setup();
  const a = stream.add({ range: { prefix: "a/" } });
  const b = stream.add({ range: { prefix: "b/" } });
  const quiet = stream.add({ range: { key: "q" } });
  res.full = true;
  store.put("a/1", "x");
  store.put("b/1", "x");
  clock.runSoon();
  store.put("a/2", "x");
  store.put("b/2", "x");
  clock.runSoon();
  assert.deepEqual([res.keysOf(a), res.keysOf(b)], [["a/1"], ["b/1"]], "each paused after its first write");
  res.drain();
  clock.runSoon();
  assert.deepEqual(
    [res.keysOf(a), res.keysOf(b)],
    [
      ["a/1", "a/2"],
      ["b/1", "b/2"],
    ],
  );
  store.put("q", "x");
  clock.runSoon();
  assert.deepEqual(res.keysOf(quiet), ["q"]);
});

test("a watch over its buffer is cancelled as slow; the others on the stream are not", () => {
  const { store, clock, res, stream } = setup({ bufferEventsMax: 3 });
  const busy = stream.add({ range: { prefix: "busy/" } });
  const quiet = stream.add({ range: { key: "q" } });
  res.full = true;
  for (let i = 0; i < 10; i++) store.put(`busy/${i}`, "x");
  clock.runSoon();
  const canceled = res.of(busy).at(-1)!;
  const sent = res.keysOf(busy).length;
  assert.ok(sent > 0);
  assert.deepEqual([canceled.canceled, canceled.reason, canceled.resumeRevision], [true, "slow", sent + 1]);
  assert.equal(stream.size, 1);
  res.drain();
  store.put("q", "x");
  clock.runSoon();
  assert.deepEqual(res.keysOf(quiet), ["q"]);
  assert.equal(res.writableEnded, false, "a stream opened empty outlives its watches");
});

test("the reader leaving removes every watch of its stream from the hub, and the stream from the list", () => {
  const { hub, streams, res, stream } = setup();
  const ids = [stream.add({ range: { key: "a" } }), stream.add({ range: { prefix: "" }, progressNotify: true })];
  assert.equal(hub.size, 2);
  res.leave();
  assert.equal(hub.size, 0);
  for (const id of ids) assert.equal(hub.requestProgress(id), false);
  assert.equal(streams.size, 0);
  assert.throws(
    () => streams.get(stream.id),
    (e: HttpError) => e.status === 404 && e.code === "unknown_stream",
  );
});

test("a stream opened with a range ends with its last watch, even one refused at once", () => {
  const { store, hub, streams } = setup();
  const res = new FakeResponse();
  const stream = streams.open(res, { sse: false, encoding: "text", endsWhenEmpty: true });
  const first = stream.add({ range: { key: "a" } });
  const joined = stream.add({ range: { key: "b" } });
  assert.ok(hub.cancel(first));
  assert.equal(res.writableEnded, false);
  assert.ok(hub.cancel(joined));
  assert.equal(res.writableEnded, true);
  assert.equal(streams.size, 1, "only the stream opened empty is left");
  for (let i = 0; i < 3; i++) store.put("k", "v");
  store.compact(3);
  const refusedRes = new FakeResponse();
  streams.open(refusedRes, { sse: false, encoding: "text", endsWhenEmpty: true }).add({
    range: { key: "k" },
    fromRevision: 1,
  });
  assert.deepEqual(
    refusedRes.lines.map((line) => line.reason),
    [undefined, "compacted"],
  );
  assert.equal(refusedRes.writableEnded, true);
});

test("closing ends every stream after the hub's stopping cancellations, and refuses new ones", () => {
  const { hub, streams, res, stream } = setup();
  const id = stream.add({ range: { key: "a" } });
  hub.close();
  streams.close();
  assert.deepEqual(res.of(id).at(-1)?.reason, "stopping");
  assert.equal(res.writableEnded, true);
  assert.throws(
    () => streams.open(new FakeResponse(), { sse: false, encoding: "text", endsWhenEmpty: false }),
    (e: HttpError) => e.status === 503 && e.code === "stopping",
  );
  assert.throws(
    () => streams.get(stream.id),
    (e: HttpError) => e.status === 503,
  );
});
