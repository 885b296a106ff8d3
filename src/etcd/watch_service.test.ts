import { test } from "node:test";
import assert from "node:assert/strict";
import type { ClientBidiCall } from "../grpc/client.js";
import { Status } from "../grpc/status.js";
import { codecOf } from "./codecs.js";
import { startFakeMember, type FakeMember } from "./served_member.test.helper.js";
import type { WatchCreateRequest, WatchRequest, WatchResponse } from "./messages/watch.js";

const bytes = (text: string): Uint8Array => Buffer.from(text, "latin1");
const text = (data: Uint8Array | undefined): string => Buffer.from(data ?? []).toString("latin1");

type Stream = ClientBidiCall<WatchRequest, WatchResponse>;

function openStream(member: FakeMember): { stream: Stream; next: () => Promise<WatchResponse> } {
  const stream = member.client.bidi(
    "/etcdserverpb.Watch/Watch",
    codecOf<WatchRequest>("WatchRequest"),
    codecOf<WatchResponse>("WatchResponse"),
  );
  const iterator = stream[Symbol.asyncIterator]();
  const next = async (): Promise<WatchResponse> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no response within 10 s")), 10_000);
    });
    const result = await Promise.race([iterator.next(), timeout]).finally(() => clearTimeout(timer));
    assert.equal(result.done, false, "the stream ended");
    if (process.env["WATCH_DEBUG"] !== undefined) console.log(JSON.stringify(result.value));
    return result.value;
  };
  return { stream, next };
}

function create(fields: Partial<WatchCreateRequest>): WatchRequest {
  return {
    createRequest: {
      key: new Uint8Array(0),
      rangeEnd: new Uint8Array(0),
      startRevision: 0,
      progressNotify: false,
      filters: [],
      prevKv: false,
      watchId: 0,
      fragment: false,
      ...fields,
    },
  };
}

const put = (member: FakeMember, key: string, value: string): Promise<unknown> =>
  member.apply({ type: "put", key: bytes(key), value: bytes(value) });

const summary = (response: WatchResponse): string =>
  response.events
    .map(
      (e) =>
        `${e.type === 0 ? "PUT" : "DELETE"} ${text(e.kv?.key)}=${text(e.kv?.value)}${e.prevKv ? ` (was ${text(e.prevKv.value)})` : ""}`,
    )
    .join(", ");

test("many watches on one stream: ids chosen or assigned, key/prefix/range, prevKv, filters, cancel", async () => {
  const member = await startFakeMember();
  try {
    await put(member, "a/1", "old");
    const { stream, next } = openStream(member);
    stream.write(create({ key: bytes("a/1"), prevKv: true }));
    const first = await next();
    assert.deepEqual([first.watchId, first.created, first.canceled, first.header?.revision], [0, true, false, 1]);
    stream.write(create({ key: bytes("a/"), rangeEnd: bytes("a0"), watchId: 7, filters: [0] }));
    assert.deepEqual([(await next()).watchId], [7]);
    stream.write(create({ key: bytes("a/2"), rangeEnd: bytes("a/9") }));
    assert.deepEqual([(await next()).watchId], [1]);
    // A duplicate id and an empty range are refused as etcd refuses them; the stream goes on.
    stream.write(create({ key: bytes("x"), watchId: 7 }));
    const duplicate = await next();
    assert.deepEqual(
      [duplicate.watchId, duplicate.created, duplicate.canceled, duplicate.cancelReason],
      [-1, true, true, "mvcc: duplicate watch ID provided on the WatchStream"],
    );
    stream.write(create({ key: bytes("b"), rangeEnd: bytes("a") }));
    assert.equal((await next()).cancelReason, "mvcc: watcher range is empty");

    await put(member, "a/1", "new");
    await put(member, "a/3", "three");
    await member.apply({ type: "delete", key: bytes("a/1") });
    // The hub may send a watch's revisions in one message or several: events are compared, not messages.
    const seen = new Map<number, string[]>([
      [0, []],
      [7, []],
      [1, []],
    ]);
    const wanted = new Map([
      [0, 2],
      [7, 1],
      [1, 1],
    ]);
    while ([...wanted].some(([id, count]) => seen.get(id)!.length < count)) {
      const response = await next();
      seen.get(response.watchId)!.push(...summary(response).split(", "));
    }
    assert.deepEqual(seen.get(0), ["PUT a/1=new (was old)", "DELETE a/1= (was new)"]);
    assert.deepEqual(seen.get(7), ["DELETE a/1="], "the NOPUT filter drops puts");
    assert.deepEqual(seen.get(1), ["PUT a/3=three"]);

    stream.write({ cancelRequest: { watchId: 0 } });
    const canceled = await next();
    assert.deepEqual([canceled.watchId, canceled.canceled, canceled.created], [0, true, false]);
    await put(member, "a/1", "after");
    await put(member, "a/4", "four");
    const after = await next();
    assert.deepEqual([after.watchId, summary(after)], [1, "PUT a/4=four"], "the canceled watch sends nothing more");
    stream.cancel();
    await stream.status;
  } finally {
    await member.close();
  }
});

test("a progress request is answered once for the stream, at a revision every watch has sent", async () => {
  const member = await startFakeMember();
  try {
    const { stream, next } = openStream(member);
    stream.write({ progressRequest: {} });
    const empty = await next();
    assert.deepEqual([empty.watchId, empty.header?.revision, empty.events.length], [-1, 0, 0]);
    stream.write(create({ key: bytes("k") }));
    await next();
    stream.write(create({ key: bytes("j"), progressNotify: true }));
    await next();
    await put(member, "k", "1");
    await put(member, "other", "2");
    stream.write({ progressRequest: {} });
    assert.equal(summary(await next()), "PUT k=1");
    const progress = await next();
    assert.deepEqual(
      [progress.watchId, progress.header?.revision, progress.created, progress.canceled],
      [-1, 2, false, false],
    );
    stream.cancel();
  } finally {
    await member.close();
  }
});

test("a watch from a compacted revision is created, then canceled with the compaction revision", async () => {
  const member = await startFakeMember();
  try {
    for (let i = 0; i < 5; i++) await put(member, "c", String(i));
    await member.apply({ type: "compact", revision: 4 });
    const { stream, next } = openStream(member);
    stream.write(create({ key: bytes("c"), startRevision: 2 }));
    const created = await next();
    assert.deepEqual([created.created, created.canceled], [true, false]);
    const canceled = await next();
    assert.deepEqual([canceled.watchId, canceled.canceled, canceled.compactRevision], [0, true, 4]);
    // From the compaction revision on, the history is there.
    stream.write(create({ key: bytes("c"), startRevision: 4 }));
    await next();
    const history = await next();
    assert.deepEqual([history.watchId, summary(history)], [1, "PUT c=3, PUT c=4"]);
    stream.cancel();
  } finally {
    await member.close();
  }
});

test("malformed creates end the stream with INVALID_ARGUMENT, and the member keeps serving", async () => {
  const member = await startFakeMember();
  try {
    for (const bad of [create({ startRevision: -1 }), create({ watchId: -5 })]) {
      const { stream } = openStream(member);
      stream.write(bad);
      stream.end();
      const status = await stream.status;
      assert.equal(status.code, Status.INVALID_ARGUMENT, status.message);
    }
    const { stream, next } = openStream(member);
    stream.write(create({ key: bytes("ok") }));
    assert.equal((await next()).created, true);
    stream.cancel();
  } finally {
    await member.close();
  }
});

test("a reader that stops reading is canceled as slow; the member's buffer stays bounded", async () => {
  const member = await startFakeMember({ bufferEventsMax: 20 });
  try {
    const { stream, next } = openStream(member);
    stream.write(create({ key: bytes("s/"), rangeEnd: bytes("s0") }));
    await next();
    // The client reads nothing now: its window fills, then the member's stream buffer, then the watch's backlog.
    const value = "v".repeat(16 * 1024);
    for (let i = 0; i < 200 && member.hub.size > 0; i++) {
      await put(member, `s/${i}`, value);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(member.hub.size, 0, "the slow watch was canceled");
    let last: WatchResponse;
    do last = await next();
    while (!last.canceled);
    assert.match(last.cancelReason, /^raftkv: slow: .*resume with fromRevision=\d+/);
    stream.cancel();
  } finally {
    await member.close();
  }
});

test("a client that stops sending keeps its watches (as etcd); a stream with none left ends", async () => {
  const member = await startFakeMember();
  try {
    const { stream, next } = openStream(member);
    stream.write(create({ key: bytes("h") }));
    await next();
    stream.end();
    await put(member, "h", "1");
    assert.equal(summary(await next()), "PUT h=1");
    member.hub.close();
    const stopping = await next();
    assert.match(stopping.cancelReason, /^raftkv: stopping: /);
    assert.equal((await stream.status).code, Status.OK);
    const empty = openStream(member).stream;
    empty.end();
    assert.equal((await empty.status).code, Status.OK);
  } finally {
    await member.close();
  }
});
