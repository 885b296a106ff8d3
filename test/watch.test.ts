/**
 * GET /v1/watch and its neighbours on a real single-member `raftkv serve`: NDJSON and SSE streams
 * of puts, a txn and deletes, resuming from a revision, progress, compaction, refusals of bad
 * input, a reader that disconnects, and the streams' end when the member stops.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { getJson, ProcessCluster, request, until, type Member } from "./harness.js";
import { WatchStream, type WatchJson } from "./watch_stream.js";

/** Small, so a reader that stops reading is cut off after a few large values. */
const bufferEvents = 60;
let cluster: ProcessCluster;
let member: Member;
const streams: WatchStream[] = [];

before(async () => {
  cluster = await ProcessCluster.start(1, {
    serveArgs: ["--watch-progress-ms", "200", "--watch-buffer-events", `${bufferEvents}`],
  });
  member = await cluster.leader(30_000);
});

after(async () => {
  for (const stream of streams) stream.close();
  await cluster.stop();
});

async function watch(query: string, sse = false): Promise<WatchStream> {
  const stream = await WatchStream.open(member.clientAddr, query, sse);
  streams.push(stream);
  assert.equal(stream.status, 200);
  await stream.next("created", (m) => m.created === true);
  return stream;
}

async function write(method: string, path: string, body?: string): Promise<number> {
  const r = await request(member.clientAddr, method, path, body);
  assert.equal(r.status, 200, r.text);
  return (r.body as { revision: number }).revision;
}

/** type key@modRevision=value for each event, the way a reader would log them. */
const summary = (events: WatchJson[]): string[] =>
  events.map((e) => {
    const kv = e.kv as { key: string; value: string; modRevision: number };
    return `${String(e.type)} ${kv.key}@${kv.modRevision}${e.type === "put" ? `=${kv.value}` : ""}`;
  });

async function putsTxnDelete(prefix: string): Promise<{ first: number; txn: number; deleted: number }> {
  const first = await write("PUT", `/v1/kv/${prefix}a`, "1");
  const txnBody = { success: [{ put: { key: `${prefix}b`, value: "2" } }, { put: { key: `${prefix}c`, value: "3" } }] };
  const txn = await write("POST", "/v1/txn", JSON.stringify(txnBody));
  const deleted = await write("DELETE", `/v1/kv/${prefix}a`);
  return { first, txn, deleted };
}

for (const sse of [false, true]) {
  test(`a watch streams puts, a txn at one revision and deletes (${sse ? "SSE" : "NDJSON"})`, async () => {
    const prefix = sse ? "sse/" : "nd/";
    const stream = await watch(`prefix=${prefix}`, sse);
    assert.equal(stream.headers["content-type"], sse ? "text/event-stream" : "application/x-ndjson");
    await write("PUT", "/v1/kv/elsewhere", "x");
    const { first, txn, deleted } = await putsTxnDelete(prefix);
    await stream.next("the delete", (m) => m.revision === deleted);
    assert.deepEqual(summary(stream.events()), [
      `put ${prefix}a@${first}=1`,
      `put ${prefix}b@${txn}=2`,
      `put ${prefix}c@${txn}=3`,
      `delete ${prefix}a@${deleted}`,
    ]);
    const txnMessage = stream.messages.find((m) => m.revision === txn);
    assert.equal((txnMessage?.events as unknown[]).length, 2, "the txn's events come in one message");
  });
}

test("fromRevision resumes from a revision, with previous values and base64 when asked", async () => {
  const { first, txn, deleted } = await putsTxnDelete("resume/");
  const stream = await watch(`prefix=resume/&fromRevision=${txn}&prevKv=true&encoding=base64`);
  // The created message may carry the same revision: wait for the events themselves.
  await stream.next("the delete", (m) => m.revision === deleted && Array.isArray(m.events));
  const events = stream.events();
  const text = (base64: unknown): string => Buffer.from(base64 as string, "base64").toString();
  assert.deepEqual(
    events.map((e) => text((e.kv as { key: string }).key)),
    ["resume/b", "resume/c", "resume/a"],
  );
  const prev = events[2]!.prevKv as { value: string; modRevision: number };
  assert.deepEqual([text(prev.value), prev.modRevision], ["1", first]);
});

test("bad watch input is refused with 400 bad_request", async () => {
  for (const query of [
    "",
    "key=a&prefix=a",
    "prefix=a&from=a",
    "key=",
    "to=b",
    "prefix=a&to=b",
    "key=a&fromRevision=0",
    "key=a&fromRevision=-1",
    "key=a&fromRevision=1.5",
    "key=a&fromRevision=x",
    "key=a&encoding=hex",
    "key=a&prevKv=yes",
    "key=a&progressNotify=1",
    "key=%zz",
  ]) {
    const r = await request(member.clientAddr, "GET", `/v1/watch?${query}`);
    assert.equal(r.status, 400, `${query}: ${r.text}`);
    assert.equal((r.body as { error: string }).error, "bad_request", query);
  }
});

test("progress on request, progress while quiet, and a reader that disconnects frees its watch", async () => {
  const stream = await watch("key=progress/k&progressNotify=true");
  const watchId = stream.messages[0]!.watchId as number;
  const revision = await write("PUT", "/v1/kv/progress/other", "x");
  const asked = stream.messages.length;
  const r = await request(member.clientAddr, "POST", `/v1/watch/${watchId}/progress`);
  assert.deepEqual([r.status, r.body], [200, {}]);
  const progress = await stream.next("the progress asked for", (m) => m.progress === true, asked);
  assert.ok((progress.revision as number) >= revision);
  const quiet = stream.messages.length;
  await stream.next("a progress notification while quiet", (m) => m.progress === true, quiet);
  stream.close();
  await until("the watch to go with its reader", async () => {
    const gone = await request(member.clientAddr, "POST", `/v1/watch/${watchId}/progress`);
    return gone.status === 404 && (gone.body as { error: string }).error === "unknown_watch" ? true : undefined;
  });
  const bad = await request(member.clientAddr, "POST", "/v1/watch/abc/progress");
  assert.equal(bad.status, 400);
});

test("POST /v1/compact compacts cluster-wide; a watch from below it is cancelled as compacted", async () => {
  const revision = await write("PUT", "/v1/kv/compact/k", "1");
  for (const body of ["", "{}", '{"revision":0}', '{"revision":"3"}', '{"revision":1.5}', "[1]"]) {
    const r = await request(member.clientAddr, "POST", "/v1/compact", body);
    assert.equal(r.status, 400, `${body}: ${r.text}`);
  }
  assert.equal((await getJson(member.clientAddr, "/v1/status")).body.compactRevision, 0, "bad input compacted nothing");
  const r = await request(member.clientAddr, "POST", "/v1/compact", JSON.stringify({ revision }));
  assert.deepEqual([r.status, r.body], [200, { compactRevision: revision, revision }]);
  assert.equal((await getJson(member.clientAddr, "/v1/status")).body.compactRevision, revision);
  const again = await request(member.clientAddr, "POST", "/v1/compact", JSON.stringify({ revision }));
  assert.deepEqual([again.status, (again.body as { error: string }).error], [400, "compacted"]);
  const future = await request(member.clientAddr, "POST", "/v1/compact", JSON.stringify({ revision: revision + 100 }));
  assert.deepEqual([future.status, (future.body as { error: string }).error], [400, "future_revision"]);
  const below = await watch(`key=compact/k&fromRevision=${revision - 1}`);
  const canceled = await below.next("the cancellation", (m) => m.canceled === true);
  assert.deepEqual([canceled.reason, canceled.compactRevision], ["compacted", revision]);
  await below.end("the cancelled stream's end");
  const at = await watch(`key=compact/k&fromRevision=${revision}`);
  await at.next("the compaction revision's event", (m) => m.revision === revision && Array.isArray(m.events));
});

/** The modRevisions of the events sent, which must be `from`, from + 1, ... for keys written one per revision. */
function assertContiguous(events: WatchJson[], from: number): void {
  events.forEach((e, i) => assert.equal((e.kv as { modRevision: number }).modRevision, from + i));
}

test("a reader that pauses gets everything once it reads again; one that stays away is cut off as slow, losslessly", async () => {
  const value = "v".repeat(256 * 1024);
  const stream = await watch("prefix=slow/");
  const watchId = stream.messages[0]!.watchId as number;
  stream.pause();
  // 10 MiB: more than the sockets hold, so the member's writes back up, but fewer events than the buffer.
  const first = await write("PUT", "/v1/kv/slow/0", value);
  for (let i = 1; i < 40; i++) await write("PUT", `/v1/kv/slow/${i}`, value);
  stream.resume();
  await stream.next("every paused-for event", (m) => m.revision === first + 39);
  stream.pause();
  let last = first + 39;
  for (let i = 40; i < 400; i++) {
    last = await write("PUT", `/v1/kv/slow/${i}`, value);
    if ((await request(member.clientAddr, "POST", `/v1/watch/${watchId}/progress`)).status === 404) break;
  }
  stream.resume();
  const canceled = await stream.next("the slow cancellation", (m) => m.canceled === true);
  assert.equal(canceled.reason, "slow");
  const resumeRevision = canceled.resumeRevision as number;
  assertContiguous(stream.events(), first);
  assert.equal(stream.events().length, resumeRevision - first, "everything before resumeRevision was sent");
  const resumed = await watch(`prefix=slow/&fromRevision=${resumeRevision}`);
  await resumed.next("the last write", (m) => m.revision === last && Array.isArray(m.events));
  assertContiguous(resumed.events(), resumeRevision);
});

test("a member that stops ends its watch streams with stopping and where to resume", async () => {
  const stream = await watch("prefix=");
  const revision = await write("PUT", "/v1/kv/last", "x");
  await stream.next("the last put", (m) => m.revision === revision);
  assert.equal(await cluster.stopMember(member.name, "SIGTERM"), 0);
  const canceled = await stream.next("the cancellation", (m) => m.canceled === true);
  assert.deepEqual([canceled.reason, canceled.resumeRevision], ["stopping", revision + 1]);
  await stream.end("the stream's end");
});
