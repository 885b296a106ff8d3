import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { logIndex, term } from "../util/ids.js";
import { encodeMessage } from "./codec_encode.js";
import { rawHello } from "./codec.test.helper.js";
import { encodeFrame, snapshotChunkFrame } from "./framing.js";
import { heartbeat, isHeartbeat, n1, n2, n3, rawConnection, startNode, until, within } from "./tcp.test.helper.js";

test("garbage from a raw socket closes only that connection, is counted, and the transport keeps working", async () => {
  const a = await startNode(n1);
  const learned: string[] = [];
  const b = await startNode(n2, { frameBytesMax: 1 << 20, onClientAddress: (_, address) => learned.push(address) });
  a.t.setPeer(n2, b.address);
  a.t.send([heartbeat(n1, n2, 1)]);
  await b.inbox.next(isHeartbeat(1), "a message before the garbage");

  const valid = new Uint8Array(encodeMessage(heartbeat(n3, n2, 7)));
  const badVersion = new Uint8Array(valid);
  badVersion[0] = 9;
  const badId = new Uint8Array(valid);
  badId[9] = 0; // from = 0
  const address = new TextEncoder().encode("127.0.0.1:7003");
  const attacks = [
    encodeFrame(badVersion),
    encodeFrame(badId),
    encodeFrame(rawHello(address, new TextEncoder().encode("\u001b[2J:8003"))), // a client address with an escape
    encodeFrame(rawHello(address, new Uint8Array(261).fill(0x31))), // an oversized one
    encodeFrame(rawHello(address, undefined)), // none at all
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
  assert.deepEqual(learned, [], "no rejected hello told B a client address");

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
