import assert from "node:assert/strict";
import { test } from "node:test";
import type { Message } from "../raft/messages.js";
import { logIndex, term } from "../util/ids.js";
import { TcpTransport } from "./tcp.js";
import { dropped, heartbeat, host, isHeartbeat, n1, n2, n3, open, startNode, until } from "./tcp.test.helper.js";

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
    commit: logIndex(0),
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

test("each node learns the other's client address from its hello, again from a restarted one, redialled at once", async () => {
  const heard = { a: new Map<number, string>(), b: new Map<number, string>() };
  // A backoff far longer than the waits below: only the redial on B's hello can reach B in time.
  const a = await startNode(n1, {
    clientAddress: "127.0.0.1:8001",
    onClientAddress: (id, address) => heard.a.set(id, address),
    reconnectDelayMsMin: 60_000,
    reconnectDelayMsMax: 60_000,
  });
  const b = await startNode(n2, {
    clientAddress: "b.example:8002",
    onClientAddress: (id, address) => heard.b.set(id, address),
  });
  a.t.setPeer(n2, b.address);
  b.t.setPeer(n1, a.address);
  await until(() => heard.a.get(n2) === "b.example:8002" && heard.b.get(n1) === "127.0.0.1:8001", "both hellos");
  await b.t.close();
  await until(() => a.t.peers()[0]?.state === "backoff", "A's link to wait out its backoff");
  heard.b.clear();
  const restarted = await startNode(n2, {
    listen: b.address,
    peers: new Map([[n1, a.address]]),
    clientAddress: "b.example:9002",
    onClientAddress: (id, address) => heard.b.set(id, address),
  });
  await until(() => heard.a.get(n2) === "b.example:9002", "A to learn B's new client address");
  await until(() => heard.b.get(n1) === "127.0.0.1:8001", "A to redial B and tell it its client address");
  assert.equal(a.t.stats().reconnects, 1);
  await Promise.all([a.t.close(), restarted.t.close()]);
});

test("a port in use gives a clear error", async () => {
  const a = await startNode(n1);
  const b = new TcpTransport({ id: n2, listen: a.address, peers: new Map(), onMessage: () => {} });
  await assert.rejects(b.start(), { message: `port ${host}:${a.address.port} is in use` });
  await b.close();
  await a.t.close();
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
