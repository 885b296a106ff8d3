/**
 * Multiplexed watch streams on a real single-member `raftkv serve`: many watches on one stream,
 * added and cancelled by short requests while writes go on; refusals of bad input; a paused
 * reader's drain and slow cancellations; the reader leaving; a stream opened with a range that
 * other watches join; and the member stopping.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ProcessCluster, request, until, type Member } from "./harness.js";
import { WatchStream, type WatchJson } from "./watch_stream.js";
import { assertAtomic, received, Writes, type Range } from "./watch_writes.js";

/** Small, so a reader that stops reading is cut off after a few dozen large values. */
const bufferEvents = 20;
let cluster: ProcessCluster;
let member: Member;
const streams: WatchStream[] = [];

before(async () => {
  cluster = await ProcessCluster.start(1, { serveArgs: ["--watch-buffer-events", `${bufferEvents}`] });
  member = await cluster.leader(30_000);
});

after(async () => {
  for (const stream of streams) stream.close();
  await cluster.stop();
});

async function open(query: string, sse = false): Promise<WatchStream> {
  const stream = await WatchStream.open(member.clientAddr, query, sse);
  streams.push(stream);
  assert.equal(stream.status, 200);
  return stream;
}

/** GET /v1/watch?stream=true: an empty stream, and its id from its first message. */
async function openStream(): Promise<{ stream: WatchStream; id: number }> {
  const stream = await open("stream=true");
  const first = await stream.next("the stream's first message", () => true);
  assert.deepEqual(Object.keys(first), ["stream", "revision"]);
  return { stream, id: first.stream as number };
}

function post(path: string, body?: string): Promise<{ status: number; body: unknown; text: string }> {
  return request(member.clientAddr, "POST", path, body);
}

/** Adds a watch to stream `id`; resolves with the watch's id once its `created` is on `stream`. */
async function addWatch(stream: WatchStream, id: number, body: WatchJson, query = ""): Promise<number> {
  const r = await post(`/v1/watch/streams/${id}/watches${query}`, JSON.stringify(body));
  assert.equal(r.status, 200, r.text);
  const watchId = (r.body as { watchId: number }).watchId;
  const created = await stream.next(`watch ${watchId}'s created`, (m) => m.created === true && m.watchId === watchId);
  assert.equal(created.stream, id);
  return watchId;
}

/** The first revision a watch reports: its fromRevision, or the one after its creation. */
function startOf(stream: WatchStream, watchId: number, body: WatchJson): number {
  return (body.fromRevision as number | undefined) ?? (stream.of(watchId)[0]!.revision as number) + 1;
}

async function cancelWatch(watchId: number): Promise<void> {
  const r = await request(member.clientAddr, "DELETE", `/v1/watch/${watchId}`);
  assert.deepEqual([r.status, r.body], [200, {}]);
}

/** Waits for a progress notification on each watch: then each has been sent every event through `revision`. */
async function settled(stream: WatchStream, watchIds: readonly number[], revision: number): Promise<void> {
  const asked = stream.messages.length;
  for (const watchId of watchIds) assert.equal((await post(`/v1/watch/${watchId}/progress`)).status, 200);
  for (const watchId of watchIds) {
    const isProgress = (m: WatchJson): boolean => m.progress === true && m.watchId === watchId;
    const progress = await stream.next(`watch ${watchId}'s progress`, isProgress, asked);
    assert.ok((progress.revision as number) >= revision, `progress ${String(progress.revision)} < ${revision}`);
  }
}

/** Three rounds of puts, txns and deletes on m/ and n/ keys; `halfway` runs after the first. */
async function workload(writes: Writes, halfway: () => Promise<void>): Promise<void> {
  for (let round = 0; round < 3; round++) {
    await writes.put("m/a");
    await writes.put("m/b");
    await writes.txn(["m/c/1", "m/c/2", "m/d"]);
    await writes.put("m/c/1");
    await writes.delete("m/a");
    await writes.txn(["m/a", "m/b", "n/x"], ["m/d"]);
    await writes.put("n/y");
    await writes.delete("m/c/2");
    if (round === 0) await halfway();
  }
}

test("many watches on one stream each see their own range's events, in order, each revision whole", async () => {
  const { stream, id } = await openStream();
  const bodies: WatchJson[] = [
    { key: "m/a" },
    { key: "m/b" },
    { key: "m/never" },
    { prefix: "m/c/" },
    { prefix: "m/" },
    { from: "m/b", to: "m/d" },
    { from: "m/c" },
    { prefix: "" },
  ];
  const watches = new Map<number, WatchJson>();
  for (const body of bodies) watches.set(await addWatch(stream, id, body), body);
  const writes = new Writes(member.clientAddr);
  await workload(writes, async () => {
    // Joining later from old revisions: these catch up from the history, then go on live.
    const first = writes.changes[0]!.revision;
    for (const body of [
      { prefix: "m/", fromRevision: first },
      { from: "m/c", fromRevision: first + 3 },
    ])
      watches.set(await addWatch(stream, id, body), body);
  });
  await settled(stream, [...watches.keys()], writes.last);
  for (const [watchId, body] of watches) {
    const want = writes.expected(body as Range, startOf(stream, watchId, body));
    assert.deepEqual(received(stream, watchId), want, `watch ${watchId} of ${JSON.stringify(body)}`);
    assertAtomic(stream, watchId);
  }
  assert.deepEqual(received(stream, [...watches.keys()][2]!), [], "a key never written has no events");
  assert.ok(!stream.ended);
});

test("watches join and leave a stream while writes go on; each sees exactly its span", async () => {
  const { stream, id } = await openStream();
  const writes = new Writes(member.clientAddr);
  const range = { prefix: "live/" };
  let writing = true;
  const writer = (async () => {
    for (let i = 0; i < 150; i++) await writes.put(`live/${i % 7}`, String(i));
    writing = false;
  })();
  const watches: { watchId: number; from: number; canceled: boolean }[] = [];
  while (writing) {
    const latest = writes.changes.at(-1)?.revision;
    const body: WatchJson =
      watches.length % 2 === 1 && latest !== undefined ? { ...range, fromRevision: Math.max(1, latest - 5) } : range;
    const watchId = await addWatch(stream, id, body);
    watches.push({ watchId, from: startOf(stream, watchId, body), canceled: false });
    if (watches.length % 3 === 0) {
      const leaving = watches[watches.length - 2]!;
      await cancelWatch(leaving.watchId);
      leaving.canceled = true;
    }
  }
  await writer;
  assert.ok(watches.some((w) => w.canceled) && watches.some((w) => !w.canceled), `${watches.length} watches`);
  await settled(
    stream,
    watches.filter((w) => !w.canceled).map((w) => w.watchId),
    writes.last,
  );
  for (const { watchId, from, canceled } of watches) {
    const got = received(stream, watchId);
    const want = writes.expected(range, from);
    assertAtomic(stream, watchId);
    if (!canceled) {
      assert.deepEqual(got, want, `watch ${watchId}`);
      continue;
    }
    assert.deepEqual(got, want.slice(0, got.length), `watch ${watchId} until its cancellation`);
    const last = stream.of(watchId).at(-1)!;
    assert.deepEqual([last.canceled, last.reason], [true, "client"], `watch ${watchId} ends with its cancellation`);
  }
  assert.ok(!stream.ended, "the stream outlives the watches cancelled on it");
});

test("bad input: 400 bad_request before anything is added, 404 for a stream or watch not open", async () => {
  const { stream, id } = await openStream();
  const path = `/v1/watch/streams/${id}/watches`;
  for (const [body, query] of [
    ["", ""],
    ["[]", ""],
    ["not json", ""],
    ["{}", ""],
    ['{"key":"a","prefix":"a"}', ""],
    ['{"prefix":"a","from":"a"}', ""],
    ['{"to":"b"}', ""],
    ['{"prefix":"a","to":"b"}', ""],
    ['{"key":""}', ""],
    ['{"key":3}', ""],
    ['{"key":"a","fromRevision":0}', ""],
    ['{"key":"a","fromRevision":1.5}', ""],
    ['{"key":"a","fromRevision":"3"}', ""],
    ['{"key":"a","prevKv":"yes"}', ""],
    ['{"key":"a","progressNotify":1}', ""],
    ['{"key":"!!"}', "?encoding=base64"],
    ['{"key":"a"}', "?encoding=hex"],
  ]) {
    const r = await post(`${path}${query}`, body);
    assert.deepEqual([r.status, (r.body as { error: string }).error], [400, "bad_request"], `${body}${query}`);
  }
  for (const badPath of ["/v1/watch/streams/abc/watches", "/v1/watch/streams/0/watches"])
    assert.equal((await post(badPath, '{"key":"a"}')).status, 400, badPath);
  for (const query of ["stream=true&key=a", "stream=true&prevKv=true", "stream=maybe"])
    assert.equal((await request(member.clientAddr, "GET", `/v1/watch?${query}`)).status, 400, query);
  const unknown = await post("/v1/watch/streams/999999/watches", '{"key":"a"}');
  assert.deepEqual([unknown.status, (unknown.body as { error: string }).error], [404, "unknown_stream"]);
  const gone = await request(member.clientAddr, "DELETE", "/v1/watch/999999");
  assert.deepEqual([gone.status, (gone.body as { error: string }).error], [404, "unknown_watch"]);
  assert.equal((await request(member.clientAddr, "DELETE", "/v1/watch/abc")).status, 400);
  assert.equal(stream.messages.length, 1, "nothing was added by the refused requests");
  // The body's keys are in the request's encoding; the stream's messages stay in the stream's.
  const key = Buffer.from("enc/k").toString("base64");
  const watchId = await addWatch(stream, id, { key }, "?encoding=base64");
  const revision = await new Writes(member.clientAddr).put("enc/k");
  await stream.next("the event", (m) => m.watchId === watchId && m.revision === revision);
  assert.deepEqual(received(stream, watchId), [`put enc/k@${revision}`]);
});

async function cutOffAll(watchIds: readonly number[], writes: Writes, value: string): Promise<void> {
  const cut = new Set<number>();
  for (let i = 0; cut.size < watchIds.length && i < 400; i++) {
    await writes.put(`slow/b${i}`, value);
    for (const watchId of watchIds)
      if (!cut.has(watchId) && (await post(`/v1/watch/${watchId}/progress`)).status === 404) cut.add(watchId);
  }
  assert.equal(cut.size, watchIds.length, "every busy watch was cut off");
}

test("a paused reader's watches all resume on the drain; kept away, each busy one is cut off as slow, losslessly", async () => {
  const value = "v".repeat(256 * 1024);
  const { stream, id } = await openStream();
  const ranges: Range[] = [{ prefix: "slow/" }, { from: "slow/", to: "slow0" }, { prefix: "slow/" }];
  const busy: number[] = [];
  for (const range of ranges) busy.push(await addWatch(stream, id, range));
  const quiet = await addWatch(stream, id, { key: "quiet" });
  const writes = new Writes(member.clientAddr);
  stream.pause();
  // 12 MiB on the stream: more than the sockets hold, so the member's writes back up; fewer events than the buffer.
  for (let i = 0; i < 16; i++) await writes.put(`slow/a${i}`, value);
  stream.resume();
  for (const watchId of busy)
    await stream.next(
      `watch ${watchId}'s paused-for events`,
      (m) => m.watchId === watchId && m.revision === writes.last,
    );
  const first = writes.changes[0]!.revision;
  stream.pause();
  await cutOffAll(busy, writes, value);
  assert.equal((await post(`/v1/watch/${quiet}/progress`)).status, 200, "a watch with nothing to send is not cut off");
  stream.resume();
  const resumed = new Map<number, { range: Range; from: number }>();
  for (const [i, watchId] of busy.entries()) {
    const canceled = await stream.next("the slow cancellation", (m) => m.watchId === watchId && m.canceled === true);
    assert.equal(canceled.reason, "slow");
    const from = canceled.resumeRevision as number;
    assert.ok(from > first + 15, "the drained events came before");
    assert.deepEqual(received(stream, watchId), writes.expected(ranges[i]!, first, from - 1));
    resumed.set(await addWatch(stream, id, { ...ranges[i]!, fromRevision: from }), { range: ranges[i]!, from });
  }
  await settled(stream, [...resumed.keys()], writes.last);
  for (const [watchId, { range, from }] of resumed)
    assert.deepEqual(received(stream, watchId), writes.expected(range, from), `watch ${watchId} resumed`);
  const revision = await writes.put("quiet");
  await stream.next("the quiet watch's event", (m) => m.watchId === quiet && m.revision === revision);
  assert.ok(!stream.of(quiet).some((m) => m.canceled === true));
});

test("the reader leaving frees every watch of its stream, and the stream", async () => {
  const { stream, id } = await openStream();
  const watchIds = [
    await addWatch(stream, id, { key: "gone/a" }),
    await addWatch(stream, id, { prefix: "gone/", progressNotify: true }),
    await addWatch(stream, id, { from: "gone/", fromRevision: 1 }),
  ];
  for (const watchId of watchIds) assert.equal((await post(`/v1/watch/${watchId}/progress`)).status, 200);
  stream.close();
  await until("the stream's watches to go with its reader", async () => {
    for (const watchId of watchIds) if ((await post(`/v1/watch/${watchId}/progress`)).status !== 404) return undefined;
    return true;
  });
  const r = await post(`/v1/watch/streams/${id}/watches`, '{"key":"a"}');
  assert.deepEqual([r.status, (r.body as { error: string }).error], [404, "unknown_stream"]);
});

test("a stream opened with a range takes more watches, and ends with its last one (SSE)", async () => {
  const stream = await open("key=single/a", true);
  const created = await stream.next("created", (m) => m.created === true);
  const [first, id] = [created.watchId as number, created.stream as number];
  const joined = await addWatch(stream, id, { prefix: "single/" });
  const writes = new Writes(member.clientAddr);
  await writes.put("single/a");
  await cancelWatch(first);
  await writes.put("single/b");
  await settled(stream, [joined], writes.last);
  assert.deepEqual(received(stream, first), writes.expected({ key: "single/a" }, 1));
  assert.deepEqual(received(stream, joined), writes.expected({ prefix: "single/" }, 1));
  assert.equal(stream.of(first).at(-1)?.reason, "client");
  assert.ok(!stream.ended, "the joined watch keeps the stream open");
  await cancelWatch(joined);
  await stream.end("the stream's end with its last watch");
  assert.equal(stream.of(joined).at(-1)?.reason, "client");
});

test("a member that stops ends every watch with stopping, then every stream", async () => {
  const { stream, id } = await openStream();
  const watchIds = [
    await addWatch(stream, id, { prefix: "stop/" }),
    await addWatch(stream, id, { key: "stop/x", prevKv: true }),
    await addWatch(stream, id, { key: "stop/never" }),
  ];
  const empty = await openStream();
  const single = await open("prefix=stop/");
  await single.next("created", (m) => m.created === true);
  const revision = await new Writes(member.clientAddr).put("stop/x");
  await settled(stream, watchIds, revision);
  assert.equal(await cluster.stopMember(member.name, "SIGTERM"), 0);
  for (const watchId of watchIds) {
    const canceled = await stream.next("the cancellation", (m) => m.watchId === watchId && m.canceled === true);
    assert.deepEqual([canceled.reason, canceled.resumeRevision], ["stopping", revision + 1]);
  }
  assert.equal((await single.next("the cancellation", (m) => m.canceled === true)).reason, "stopping");
  for (const ended of [stream, empty.stream, single]) await ended.end("the stream's end");
  assert.equal(empty.stream.messages.length, 1, "an empty stream just ends");
});
