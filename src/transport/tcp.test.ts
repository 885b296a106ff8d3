import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, connect } from "node:net";
import type { Socket } from "node:net";
import { after, test } from "node:test";
import type { Message } from "../raft/messages.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import type { NodeId } from "../util/ids.js";
import { encodeMessage } from "./codec_encode.js";
import { encodeFrame, snapshotChunkFrame } from "./framing.js";
import { TcpTransport } from "./tcp.js";
import type { PeerAddress } from "./peer_address.js";
import type { TcpTransportOptions } from "./tcp.js";
import type { TransportStats } from "./transport_stats.js";

const host = "127.0.0.1";
const waitMs = 15_000;
const n1 = nodeId(1);
const n2 = nodeId(2);
const n3 = nodeId(3);

/** Rejects if `promise` takes longer than `ms` (a guard against hanging, not a sleep). */
async function within<T>(promise: Promise<T>, what: string, ms = waitMs): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `condition()` holds, checking after every turn of the event loop's I/O phase. */
function until(condition: () => boolean, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (condition()) resolve();
        else setTimeout(check, 2);
      };
      check();
    }),
    what,
  );
}

/** Collects what a transport delivers; waiters resolve on the first matching message. */
class Inbox {
  readonly messages: Message[] = [];
  #waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  readonly push = (m: Message): void => {
    this.messages.push(m);
    this.#waiters = this.#waiters.filter((w) => !(w.match(m) && (w.resolve(m), true)));
  };

  next(match: (m: Message) => boolean, what: string): Promise<Message> {
    const seen = this.messages.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return within(new Promise((resolve) => this.#waiters.push({ match, resolve })), what);
  }
}

const open: TcpTransport[] = [];

async function startNode(
  id: NodeId,
  options: Partial<TcpTransportOptions> = {},
): Promise<{ t: TcpTransport; inbox: Inbox; address: PeerAddress }> {
  const inbox = new Inbox();
  const t = new TcpTransport({ id, listen: { host, port: 0 }, peers: new Map(), onMessage: inbox.push, ...options });
  open.push(t);
  await t.start();
  return { t, inbox, address: t.listenAddress() };
}

after(async () => {
  await Promise.all(open.map((t) => t.close()));
});

const heartbeat = (from: NodeId, to: NodeId, context: number): Message => ({
  type: "heartbeat",
  from,
  to,
  term: term(1),
  commit: logIndex(0),
  context,
});
const isHeartbeat =
  (context: number) =>
  (m: Message): boolean =>
    m.type === "heartbeat" && m.context === context;
const dropped = (s: TransportStats): number =>
  s.droppedQueueFull + s.droppedPeerDown + s.droppedUnknownPeer + s.droppedOversize;

async function rawConnection(address: PeerAddress): Promise<Socket> {
  const socket = connect(address.port, address.host);
  await within(once(socket, "connect"), "raw connect");
  return socket;
}

test("two transports exchange messages both ways, in order", async () => {
  const a = await startNode(n1);
  const b = await startNode(n2);
  a.t.setPeer(n2, b.address);
  b.t.setPeer(n1, a.address);
  const batch = Array.from({ length: 200 }, (_, k) => heartbeat(n1, n2, k));
  a.t.send(batch);
  b.t.send([{ type: "voteResponse", from: n2, to: n1, term: term(1), preVote: false, granted: true }]);
  await b.inbox.next(isHeartbeat(199), "the batch's last message");
  await a.inbox.next((m) => m.type === "voteResponse", "the vote");
  assert.deepEqual(
    b.inbox.messages.map((m) => (m.type === "heartbeat" ? m.context : -1)),
    batch.map((_, k) => k),
  );
  const big: Message = {
    type: "appendEntries",
    from: n1,
    to: n2,
    term: term(2),
    prevLogIndex: logIndex(0),
    prevLogTerm: term(0),
    leaderCommit: logIndex(0),
    entries: Array.from({ length: 64 }, (_, k) => ({
      index: logIndex(k + 1),
      term: term(2),
      kind: "normal" as const,
      data: new Uint8Array(128).fill(k),
    })),
  };
  a.t.send([big]);
  assert.deepStrictEqual(await b.inbox.next((m) => m.type === "appendEntries", "appendEntries"), big);
  assert.equal(a.t.stats().sent, 201);
  assert.equal(b.t.stats().received, 201);
  assert.equal(dropped(a.t.stats()), 0);
  await Promise.all([a.t.close(), b.t.close()]);
});

test("a node answers a peer it does not know: the peer's hello says where it listens", async () => {
  const a = await startNode(n1);
  const b = await startNode(n2);
  a.t.setPeer(n2, b.address);
  a.t.send([heartbeat(n1, n2, 1)]);
  await b.inbox.next(isHeartbeat(1), "the heartbeat");
  // B has no address for A (it was down when A joined); the hello A sent on connecting gave it one.
  b.t.send([{ type: "heartbeatResponse", from: n2, to: n1, term: term(1), context: 1 }]);
  await a.inbox.next((m) => m.type === "heartbeatResponse", "B's answer");
  assert.equal(b.t.stats().droppedUnknownPeer, 0);
  assert.deepEqual(
    b.t.peers().map((p) => [p.id, p.address.port]),
    [[n1, a.address.port]],
  );
  // A node that never connected stays unknown.
  b.t.send([heartbeat(n2, n3, 2)]);
  assert.equal(b.t.stats().droppedUnknownPeer, 1);
  await Promise.all([a.t.close(), b.t.close()]);
});

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

test("garbage from a raw socket closes only that connection, is counted, and the transport keeps working", async () => {
  const a = await startNode(n1);
  const b = await startNode(n2, { frameBytesMax: 1 << 20 });
  a.t.setPeer(n2, b.address);
  a.t.send([heartbeat(n1, n2, 1)]);
  await b.inbox.next(isHeartbeat(1), "a message before the garbage");

  const valid = new Uint8Array(encodeMessage(heartbeat(n3, n2, 7)));
  const badVersion = new Uint8Array(valid);
  badVersion[0] = 9;
  const badId = new Uint8Array(valid);
  badId[9] = 0; // from = 0
  const attacks = [
    encodeFrame(badVersion),
    encodeFrame(badId),
    Uint8Array.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]), // a length far above frameBytesMax
    Uint8Array.from([0, 0, 0, 0]), // an empty frame
    Uint8Array.from([...encodeFrame(valid), ...encodeFrame(Uint8Array.from([1, 3]))]), // good, then truncated
  ];
  for (const [k, bytes] of attacks.entries()) {
    const raw = await rawConnection(b.address);
    raw.on("error", () => {});
    raw.write(bytes);
    await within(once(raw, "close"), `B to close garbage connection ${k}`);
    assert.equal(b.t.stats().decodeErrors, k + 1);
  }
  assert.equal(b.inbox.messages.filter(isHeartbeat(7)).length, 1, "the good frame before the garbage was delivered");

  a.t.send([heartbeat(n1, n2, 2)]);
  await b.inbox.next(isHeartbeat(2), "a message after the garbage");
  assert.equal(a.t.stats().connects, 1, "A's own connection was never disturbed");
  assert.equal(a.t.stats().reconnects, 0);
  await Promise.all([a.t.close(), b.t.close()]);
});

test("a message for another node is dropped and counted; the connection stays open", async () => {
  const b = await startNode(n2);
  const raw = await rawConnection(b.address);
  raw.write(encodeFrame(encodeMessage(heartbeat(n1, n3, 1))));
  raw.write(encodeFrame(encodeMessage(heartbeat(n1, n2, 2))));
  await b.inbox.next(isHeartbeat(2), "the message addressed to B");
  assert.equal(b.t.stats().droppedMisaddressed, 1);
  assert.equal(b.inbox.messages.length, 1);
  assert.equal(raw.destroyed, false);
  raw.destroy();
  await b.t.close();
});

test("a port in use gives a clear error", async () => {
  const a = await startNode(n1);
  const b = new TcpTransport({ id: n2, listen: a.address, peers: new Map(), onMessage: () => {} });
  await assert.rejects(b.start(), { message: `port ${host}:${a.address.port} is in use` });
  await b.close();
  await a.t.close();
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

test("an inconsistent snapshot stream is discarded without closing the connection; a cut-off one when it closes", async () => {
  const b = await startNode(n2);
  const meta = { index: logIndex(5), term: term(1), voters: [n1, n2], votersOutgoing: [], learners: [] };
  const chunk = (streamId: number, offset: number, bytes: number) =>
    snapshotChunkFrame({
      from: n1,
      to: n2,
      term: term(1),
      streamId,
      totalBytes: 300,
      offset,
      meta: offset === 0 ? meta : undefined,
      data: new Uint8Array(bytes),
    });
  const raw = await rawConnection(b.address);
  raw.write(chunk(1, 0, 100));
  raw.write(chunk(1, 200, 100)); // skips [100, 200)
  raw.write(encodeFrame(encodeMessage(heartbeat(n1, n2, 1))));
  await b.inbox.next(isHeartbeat(1), "a message after the bad stream");
  assert.equal(b.t.stats().snapshotStreamsDiscarded, 1);
  assert.equal(b.t.stats().decodeErrors, 0);
  raw.write(chunk(2, 0, 100));
  raw.end(); // the stream's sender goes away after one chunk
  await until(() => b.t.stats().snapshotStreamsDiscarded === 2, "the cut-off stream to be discarded");
  assert.equal(b.t.stats().snapshotsReceived, 0);
  assert.ok(b.inbox.messages.every((m) => m.type !== "installSnapshot"));
  await b.t.close();
});

test("setPeer moves a peer to a new address; removePeer forgets it", async () => {
  const a = await startNode(n1);
  const b = await startNode(n2);
  const c = await startNode(n2); // the same node id, at a new address
  a.t.setPeer(n2, b.address);
  a.t.send([heartbeat(n1, n2, 1)]);
  await b.inbox.next(isHeartbeat(1), "B at its first address");
  a.t.setPeer(n2, c.address);
  a.t.send([heartbeat(n1, n2, 2)]);
  await c.inbox.next(isHeartbeat(2), "B at its new address");
  a.t.removePeer(n2);
  assert.deepEqual(a.t.peers(), []);
  a.t.send([heartbeat(n1, n2, 3)]);
  assert.equal(a.t.stats().droppedUnknownPeer, 1);
  await Promise.all([a.t.close(), b.t.close(), c.t.close()]);
});

test("close() with traffic in flight releases every socket and listener; it is idempotent", async () => {
  const a = await startNode(n1, { reconnectDelayMsMin: 1000 });
  const b = await startNode(n2);
  a.t.setPeer(n2, b.address);
  b.t.setPeer(n1, a.address);
  a.t.setPeer(n3, { host, port: 1 }); // refused: leaves a backoff timer behind
  await until(() => a.t.peers().find((p) => p.id === n3)?.state === "backoff", "the backoff");
  a.t.send([
    heartbeat(n1, n2, 1),
    {
      type: "installSnapshot",
      from: n1,
      to: n2,
      term: term(1),
      snapshot: {
        meta: { index: logIndex(1), term: term(1), voters: [n1], votersOutgoing: [], learners: [] },
        data: new Uint8Array(3 << 20),
      },
    },
  ]);
  await Promise.all([a.t.close(), b.t.close(), a.t.close()]);
  a.t.send([heartbeat(n1, n2, 2)]);
  const never = new TcpTransport({ id: n3, listen: { host, port: 0 }, peers: new Map(), onMessage: () => {} });
  await never.close();
  const racing = new TcpTransport({
    id: n3,
    listen: { host, port: 0 },
    peers: new Map([[n1, a.address]]),
    onMessage: () => {},
  });
  const started = racing.start();
  await racing.close();
  await started;
  assert.equal(racing.peers()[0]?.state, "closed");
  assert.equal(racing.stats().connects, 0);
  await Promise.all(open.map((t) => t.close()));
  // A closed handle leaves the list at libuv's close phase, a loop turn or so after 'close'.
  // (Backoff timers are unref'd, so they could not hold the process open even if one leaked.)
  const handles = (): string[] => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP"));
  await until(() => handles().length === 0, "every socket and server handle to close");
});
