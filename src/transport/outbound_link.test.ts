import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:net";
import type { Socket } from "node:net";
import { test } from "node:test";
import type { Message } from "../raft/messages.js";
import { logIndex, term } from "../util/ids.js";
import { dropped, heartbeat, host, isHeartbeat, n1, n2, n3, startNode, until } from "./tcp.test.helper.js";

test("a peer that restarts is reconnected to, and later messages arrive", async () => {
  const a = await startNode(n1, { reconnectDelayMsMin: 5, reconnectDelayMsMax: 50 });
  const b = await startNode(n2);
  a.t.setPeer(n2, b.address);
  a.t.send([heartbeat(n1, n2, 1)]);
  await b.inbox.next(isHeartbeat(1), "the first heartbeat");
  await b.t.close();
  await until(() => a.t.peers()[0]?.state !== "connected", "A to notice B is gone");

  const b2 = await startNode(n2, { listen: b.address });
  // Raft keeps sending; so does this test, until one message gets through the new connection.
  let context = 100;
  const pump = setInterval(() => a.t.send([heartbeat(n1, n2, context++)]), 5);
  try {
    await b2.inbox.next((m) => m.type === "heartbeat", "a heartbeat after the restart");
  } finally {
    clearInterval(pump);
  }
  const stats = a.t.stats();
  assert.equal(stats.reconnects, 1);
  assert.ok(stats.connects === 2);
  assert.equal(stats.sent + dropped(stats), context - 100 + 1, "every message is either sent or counted as dropped");
  await Promise.all([a.t.close(), b2.t.close()]);
});

test("messages to a peer that is down are dropped and counted, not buffered", async () => {
  // A port with nothing listening: bind one, then free it.
  const probe = createServer();
  probe.listen(0, host);
  await once(probe, "listening");
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));

  const a = await startNode(n1, { reconnectDelayMsMin: 1000, reconnectDelayMsMax: 1000 });
  a.t.setPeer(n2, { host, port });
  a.t.send([heartbeat(n1, n2, 1), heartbeat(n1, n2, 2)]); // queued while the first attempt runs
  await until(() => a.t.peers()[0]?.state === "backoff", "the refused connection");
  assert.equal(a.t.stats().droppedPeerDown, 2);
  assert.equal(a.t.stats().connectFailures, 1);
  a.t.send([heartbeat(n1, n2, 3), heartbeat(n1, n3, 4), heartbeat(n1, n1, 5)]);
  const stats = a.t.stats();
  assert.equal(stats.droppedPeerDown, 3, "dropped at once during backoff");
  assert.equal(stats.droppedUnknownPeer, 2, "unknown peers and this node itself");
  assert.equal(a.t.peers()[0]?.queued, 0);
  await a.t.close();
});

test("a full queue drops and counts; the queued messages still arrive", async () => {
  const b = await startNode(n2);
  const a = await startNode(n1, { queueMax: 4, peers: new Map([[n2, b.address]]) });
  // start() has just begun dialling, so these queue behind the connection attempt.
  a.t.send(Array.from({ length: 10 }, (_, k) => heartbeat(n1, n2, k)));
  assert.equal(a.t.stats().droppedQueueFull, 6);
  await b.inbox.next(isHeartbeat(3), "the queued messages");
  a.t.send([heartbeat(n1, n2, 99)]);
  await b.inbox.next(isHeartbeat(99), "a later message");
  assert.deepEqual(
    b.inbox.messages.map((m) => (m.type === "heartbeat" ? m.context : -1)),
    [0, 1, 2, 3, 99],
  );
  await Promise.all([a.t.close(), b.t.close()]);
});

test("a peer that stops reading fills the socket, then the bounded queue, then drops", async () => {
  const stalled: Socket[] = [];
  const sink = createServer((socket) => {
    socket.pause(); // never reads: the kernel buffers fill, then the transport's
    stalled.push(socket);
  });
  sink.listen(0, host);
  await once(sink, "listening");
  const { port } = sink.address() as { port: number };
  const a = await startNode(n1, {
    queueMax: 8,
    socketBufferedBytesMax: 256 * 1024,
    peers: new Map([[n2, { host, port }]]),
  });
  await until(() => a.t.peers()[0]?.state === "connected", "the connection");
  const data = [new Uint8Array(256 * 1024)];
  await until(() => {
    a.t.send([{ type: "propose", from: n1, to: n2, term: term(1), data }]);
    return a.t.stats().droppedQueueFull > 0;
  }, "the queue to fill");
  assert.ok((a.t.peers()[0]?.queued ?? 0) <= 8);
  await a.t.close();
  for (const socket of stalled) socket.destroy();
  await new Promise((resolve) => sink.close(resolve));
});

test("a 5 MiB snapshot arrives intact in chunks, and a heartbeat sent with it is not stuck behind it", async () => {
  const frameBytesMax = 2 << 20; // no frame could carry the whole snapshot
  const a = await startNode(n1, { frameBytesMax });
  const b = await startNode(n2, { frameBytesMax });
  a.t.setPeer(n2, b.address);
  const data = new Uint8Array(5 << 20).map((_, i) => (i * 31 + (i >>> 12)) & 0xff);
  const snapshot: Message = {
    type: "installSnapshot",
    from: n1,
    to: n2,
    term: term(3),
    snapshot: {
      meta: { index: logIndex(9000), term: term(3), voters: [n1, n2, n3], votersOutgoing: [], learners: [] },
      data,
    },
  };
  a.t.send([snapshot, heartbeat(n1, n2, 5)]);
  const received = await b.inbox.next((m) => m.type === "installSnapshot", "the snapshot");
  assert.deepStrictEqual(received, snapshot);
  assert.equal(b.inbox.messages[0]?.type, "heartbeat", "the heartbeat went out before the chunks");
  assert.equal(a.t.stats().snapshotChunksSent, 5);
  assert.equal(b.t.stats().snapshotsReceived, 1);
  assert.equal(b.t.stats().decodeErrors, 0);
  await Promise.all([a.t.close(), b.t.close()]);
});

test("with a tiny socket buffer, a snapshot still streams chunk by chunk to the end", async () => {
  const a = await startNode(n1, { socketBufferedBytesMax: 1, snapshotChunkBytes: 16 * 1024 });
  const b = await startNode(n2);
  a.t.setPeer(n2, b.address);
  const data = new Uint8Array(2 << 20).map((_, i) => i & 0xff);
  const meta = { index: logIndex(5), term: term(1), voters: [n1, n2], votersOutgoing: [], learners: [] };
  a.t.send([{ type: "installSnapshot", from: n1, to: n2, term: term(1), snapshot: { meta, data } }]);
  const received = await b.inbox.next((m) => m.type === "installSnapshot", "the snapshot");
  assert.ok(received.type === "installSnapshot" && Buffer.compare(received.snapshot.data, data) === 0);
  assert.equal(a.t.stats().snapshotChunksSent, 128);
  await Promise.all([a.t.close(), b.t.close()]);
});
