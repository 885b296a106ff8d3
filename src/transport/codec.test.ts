import assert from "node:assert/strict";
import { test } from "node:test";
import type { Message } from "../raft/messages.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { WIRE_VERSION } from "./codec.js";
import { decodeMessage, decodePayload } from "./codec_decode.js";
import { encodeHelloAt, encodeMessage, helloBytes, messageBytes } from "./codec_encode.js";
import { bytesOf, entries, fixedSamples, n1, n2, randomChunk, randomMessage, rawHello } from "./codec.test.helper.js";

test("every variant round-trips, including empty and large entries and snapshots", () => {
  const seen = new Set<string>();
  for (const m of fixedSamples()) {
    const bytes = encodeMessage(m);
    assert.equal(bytes.byteLength, messageBytes(m), m.type);
    assert.equal(bytes[0], WIRE_VERSION);
    const decoded = decodeMessage(bytes);
    assert.ok(decoded.ok, decoded.ok ? "" : `${m.type}: ${decoded.error}`);
    assert.deepStrictEqual(decoded.message, m);
    seen.add(m.type);
  }
  assert.equal(seen.size, 10, "one sample per Message variant");
});

test("random messages round-trip (seeded)", () => {
  const prng = new Prng(2024);
  for (let k = 0; k < 3000; k++) {
    const m = randomMessage(prng);
    const decoded = decodeMessage(encodeMessage(m));
    assert.ok(decoded.ok);
    assert.deepStrictEqual(decoded.message, m);
  }
});

test("decoded byte fields are views of the input, not copies", () => {
  const m: Message = { type: "propose", from: n1, to: n2, term: term(1), data: [bytesOf(1, 2, 3)] };
  const bytes = encodeMessage(m);
  const decoded = decodeMessage(bytes);
  assert.ok(decoded.ok && decoded.message.type === "propose");
  const data = decoded.message.data[0]!;
  assert.equal(data.buffer, bytes.buffer);
  assert.equal(Object.getPrototypeOf(data), Uint8Array.prototype, "a plain Uint8Array even from a Buffer");
});

test("the decoder rejects each kind of invalid field with a reason", () => {
  const hb: Message = { type: "heartbeat", from: n1, to: n2, term: term(3), commit: logIndex(1), context: 1 };
  const ae: Message = {
    type: "appendEntries",
    from: n1,
    to: n2,
    term: term(5),
    prevLogIndex: logIndex(4),
    prevLogTerm: term(2),
    entries: entries(4, [3, 4], () => 2),
    commit: logIndex(4),
  };
  const snap: Message = {
    type: "installSnapshot",
    from: n1,
    to: n2,
    term: term(5),
    snapshot: {
      meta: { index: logIndex(3), term: term(2), voters: [n1, n2], votersOutgoing: [], learners: [nodeId(3)] },
      data: bytesOf(1),
    },
  };
  const mutate = (m: Message, at: number, value: number): Uint8Array => {
    const bytes = new Uint8Array(encodeMessage(m));
    bytes[at] = value;
    return bytes;
  };
  const expectError = (bytes: Uint8Array, pattern: RegExp): void => {
    const result = decodeMessage(bytes);
    assert.ok(!result.ok, `expected ${pattern}`);
    assert.match(result.error, pattern);
  };
  // Header: version(0) tag(1) from(2..9) to(10..17) term(18..25); heartbeat: commit(26..33) context(34..41).
  expectError(new Uint8Array(0), /version: needs 1 bytes/);
  expectError(mutate(hb, 0, WIRE_VERSION + 1), new RegExp(`unknown wire version ${WIRE_VERSION + 1}`));
  expectError(mutate(hb, 0, 1), /unknown wire version 1 \(this node speaks 2\)/);
  expectError(mutate(hb, 1, 99), /unknown message tag 99/);
  expectError(mutate(hb, 9, 0), /from: node id 0/);
  expectError(mutate(hb, 10, 0x20), /to: integer above 2\^53/);
  expectError(encodeMessage(hb).subarray(0, 30), /commit: needs 8 bytes, 4 left/);
  expectError(Uint8Array.from([...encodeMessage(hb), 0]), /1 trailing bytes/);
  expectError(
    mutate({ type: "voteResponse", from: n1, to: n2, term: term(1), preVote: false, granted: true }, 27, 2),
    /granted: boolean must be 0 or 1, got 2/,
  );
  // appendEntries: prevLogIndex(26) prevLogTerm(34) commit(42) count(50..53) then term(8) kind(1) len(4) data.
  expectError(mutate(ae, 53, 200), /entries: count 200 needs at least 2600 bytes/);
  expectError(mutate(ae, 54 + 8, 2), /unknown entry kind 2/);
  expectError(mutate(ae, 54 + 7, 1), /entry 0's term 1 is below the term before it \(2\)/);
  expectError(mutate(ae, 54 + 15 + 7, 3 - 1), /entry 1's term 2 is below/);
  expectError(mutate(ae, 54 + 15 + 7, 6), /entry 1's term 6 is above the message's term 5/);
  expectError(mutate(ae, 41, 6), /prevLogTerm: 6 is above the message's term 5/);
  expectError(mutate(ae, 54 + 12, 200), /entry.data: needs 200 bytes/);
  // installSnapshot: index(26) term(34) voterCount(42..45) voters(46, 54) outgoingCount(62..65) learnerCount(66..69) learners(70..77).
  expectError(mutate(snap, 77, 1), /snapshot.learners: node 1 appears twice/);
  expectError(mutate(snap, 61, 1), /snapshot.voters: node 1 appears twice/);
  expectError(mutate(snap, 53, 0), /snapshot.voters: node id 0/);
  assert.ok(!decodeMessage(randomChunk(new Prng(1))).ok, "a snapshot chunk is not a message");
});

test("entries' indexes come from prevLogIndex and must not pass 2^53 - 1", () => {
  const m: Message = {
    type: "appendEntries",
    from: n1,
    to: n2,
    term: term(1),
    prevLogIndex: logIndex(Number.MAX_SAFE_INTEGER - 1),
    prevLogTerm: term(1),
    entries: entries(Number.MAX_SAFE_INTEGER - 1, [1], () => 0),
    commit: logIndex(0),
  };
  const ok = decodeMessage(encodeMessage(m));
  assert.ok(ok.ok && ok.message.type === "appendEntries");
  assert.equal(ok.message.entries[0]?.index, Number.MAX_SAFE_INTEGER);
  // Two entries after prevLogIndex 2^53 - 2: the second would be index 2^53.
  const none = encodeMessage({ ...m, entries: [] });
  const forged = Uint8Array.from([...none.subarray(0, 50), 0, 0, 0, 2, ...encodeEntry(1), ...encodeEntry(1)]);
  const result = decodeMessage(forged);
  assert.ok(!result.ok);
  assert.match(result.error, /last index above 2\^53 - 1/);
  // The encoder refuses entries that do not follow prevLogIndex: the wire could not say so.
  assert.throws(() => encodeMessage({ ...m, prevLogIndex: logIndex(3) }), /entry 0 has index/);
});

/** An entry's bytes: term (u64), kind normal, empty data. */
function encodeEntry(t: number): number[] {
  return [0, 0, 0, 0, 0, 0, 0, t, 0, 0, 0, 0, 0];
}

test("the encoder asserts on values its fields cannot carry", () => {
  const hb = (over: Partial<Record<string, number>>): Message => ({
    type: "heartbeat",
    from: n1,
    to: n2,
    term: term(1),
    commit: logIndex(1),
    context: 1,
    ...over,
  });
  assert.throws(() => encodeMessage(hb({ from: 0 })), /node ids must be ≥ 1/);
  assert.throws(() => encodeMessage(hb({ commit: -1 })), /not a non-negative safe integer/);
  assert.throws(() => encodeMessage(hb({ context: 1.5 })), /not a non-negative safe integer/);
  assert.throws(() => encodeMessage(hb({ term: 2 ** 53 })), /not a non-negative safe integer/);
});

test("a hello round-trips, with a client address or without; its address must be UTF-8 of 1 to 260 bytes and its term 0", () => {
  for (const clientAddress of ["127.0.0.1:8003", "[::1]:8003", `${"c".repeat(255)}:8003`, undefined]) {
    const hello = { from: nodeId(3), to: nodeId(1), address: "n3.example:7003", clientAddress };
    const bytes = encodeHelloAt(hello, 0, helloBytes(hello));
    assert.equal(bytes.length, helloBytes(hello));
    assert.deepStrictEqual(decodePayload(bytes), { ok: true, kind: "hello", hello });
    assert.equal(decodeMessage(bytes).ok, false, "a hello is not a Raft message");
  }
  const hello = { from: nodeId(3), to: nodeId(1), address: "n3.example:7003", clientAddress: "n3.example:8003" };
  const bytes = encodeHelloAt(hello, 0, helloBytes(hello));
  const invalid = new Uint8Array(bytes);
  invalid[invalid.length - 1] = 0xff;
  assert.equal(decodePayload(invalid).ok, false, "not UTF-8");
  const withTerm = new Uint8Array(bytes);
  withTerm[2 + 16 + 7] = 1;
  assert.equal(decodePayload(withTerm).ok, false, "a hello with a term");
});

test("a hello whose client address is malformed, oversized or missing is rejected with a reason, never thrown", () => {
  const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
  const address = utf8("n1.example:7001");
  const expectError = (client: Uint8Array | undefined, pattern: RegExp, what: string): void => {
    const result = decodePayload(rawHello(address, client));
    assert.ok(!result.ok, `${what} was accepted`);
    assert.match(result.error, pattern, what);
  };
  const notAddress = /clientAddress: not a host:port without spaces or controls/;
  expectError(utf8("n1.example"), notAddress, "no port");
  expectError(utf8("n1.example:0"), notAddress, "port 0");
  expectError(utf8("n1.example:65536"), notAddress, "a port above 65535");
  expectError(utf8(":8001"), notAddress, "no host");
  expectError(utf8("n1 example:8001"), notAddress, "a space");
  expectError(utf8("n1.example:8001\n"), notAddress, "a newline");
  expectError(utf8("\u001b[31mn1:8001"), notAddress, "a terminal escape");
  expectError(utf8("n1\u0085x:8001"), notAddress, "a C1 control");
  expectError(utf8(`${"c".repeat(256)}:8001`), /clientAddress: 261 bytes, above 260/, "261 bytes");
  expectError(Uint8Array.from([0xc3, 0x28, 0x3a, 0x31]), /clientAddress: not UTF-8/, "invalid UTF-8");
  expectError(undefined, /clientAddress: needs 4 bytes, 0 left/, "a hello without the field");
  const forgedLength = rawHello(address, utf8("h:1"));
  forgedLength[forgedLength.length - 7] = 0xff; // the client address's length: ~4 GiB
  const forged = decodePayload(forgedLength);
  assert.ok(!forged.ok && /clientAddress: needs 4278190083 bytes/.test(forged.error), "a length beyond the payload");
  assert.equal(decodePayload(Uint8Array.from([...rawHello(address, utf8("h:1")), 0])).ok, false, "a trailing byte");
  assert.ok(decodePayload(rawHello(address, new Uint8Array(0))).ok, "empty: the sender serves no clients");
  assert.ok(decodePayload(rawHello(address, utf8(`${"c".repeat(255)}:8001`))).ok, "260 bytes");
  assert.throws(
    () => encodeHelloAt({ from: n1, to: n2, address: "h:1", clientAddress: "h 1:2" }, 0, 64),
    /hello client address/,
  );
});
