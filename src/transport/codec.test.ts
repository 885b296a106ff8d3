import assert from "node:assert/strict";
import { test } from "node:test";
import type { Message } from "../raft/messages.js";
import type { Entry } from "../raft/types.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import type { NodeId } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { WIRE_VERSION } from "./codec.js";
import type { SnapshotChunk } from "./codec.js";
import { decodeMessage, decodePayload } from "./codec_decode.js";
import {
  encodeHelloAt,
  encodeMessage,
  encodeSnapshotChunkAt,
  helloBytes,
  messageBytes,
  snapshotChunkBytes,
} from "./codec_encode.js";

const n1 = nodeId(1);
const n2 = nodeId(2);
const bytesOf = (...values: number[]): Uint8Array => Uint8Array.from(values);

function fill(length: number, seed: number): Uint8Array {
  const prng = new Prng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = prng.nextUint32() & 0xff;
  return out;
}

function entries(prevLogIndex: number, terms: readonly number[], dataBytes: (k: number) => number): Entry[] {
  return terms.map((t, k) => ({
    index: logIndex(prevLogIndex + 1 + k),
    term: term(t),
    kind: k % 3 === 2 ? "config" : "normal",
    data: fill(dataBytes(k), k),
  }));
}

/** One or more hand-picked instances of every variant, edge values included. */
function fixedSamples(): Message[] {
  const env = { from: n1, to: n2, term: term(7) };
  const big = Number.MAX_SAFE_INTEGER;
  return [
    { type: "voteRequest", ...env, preVote: true, lastLogIndex: logIndex(5), lastLogTerm: term(6), transfer: false },
    {
      type: "voteRequest",
      from: nodeId(big),
      to: n1,
      term: term(big),
      preVote: false,
      lastLogIndex: logIndex(big),
      lastLogTerm: term(big),
      transfer: true,
    },
    { type: "voteResponse", ...env, preVote: false, granted: true },
    { type: "voteResponse", ...env, preVote: true, granted: false },
    {
      type: "appendEntries",
      ...env,
      prevLogIndex: logIndex(0),
      prevLogTerm: term(0),
      entries: [],
      leaderCommit: logIndex(0),
    },
    {
      type: "appendEntries",
      ...env,
      prevLogIndex: logIndex(10),
      prevLogTerm: term(3),
      entries: entries(10, [3, 3, 5, 7], (k) => k * 10),
      leaderCommit: logIndex(12),
    },
    // An empty entry (the leader's no-op), a 1 MiB entry, and many entries.
    {
      type: "appendEntries",
      ...env,
      prevLogIndex: logIndex(1),
      prevLogTerm: term(1),
      entries: entries(1, [7, 7], (k) => (k === 0 ? 0 : 1 << 20)),
      leaderCommit: logIndex(1),
    },
    {
      type: "appendEntries",
      ...env,
      prevLogIndex: logIndex(100),
      prevLogTerm: term(2),
      entries: entries(100, Array<number>(2000).fill(7), () => 0),
      leaderCommit: logIndex(99),
    },
    { type: "appendEntriesResponse", ...env, success: true, matchIndex: logIndex(42) },
    {
      type: "appendEntriesResponse",
      ...env,
      success: false,
      rejectedIndex: logIndex(9),
      hintIndex: logIndex(4),
      hintTerm: term(2),
    },
    { type: "heartbeat", ...env, commit: logIndex(3), context: 0 },
    { type: "heartbeat", ...env, commit: logIndex(big), context: big },
    { type: "heartbeatResponse", ...env, context: 123456789012 },
    {
      type: "installSnapshot",
      ...env,
      snapshot: {
        meta: {
          index: logIndex(1000),
          term: term(6),
          voters: [n1, n2, nodeId(3)],
          votersOutgoing: [],
          learners: [nodeId(4)],
        },
        data: fill(3 << 20, 9),
      },
    },
    {
      type: "installSnapshot",
      ...env,
      snapshot: {
        meta: { index: logIndex(0), term: term(0), voters: [], votersOutgoing: [], learners: [] },
        data: new Uint8Array(0),
      },
    },
    { type: "propose", ...env, data: [] },
    { type: "propose", ...env, data: [new Uint8Array(0), bytesOf(1, 2, 3), fill(70_000, 3)] },
    { type: "readIndexRequest", ...env, context: new Uint8Array(0) },
    { type: "readIndexRequest", ...env, context: bytesOf(9, 8, 7) },
    { type: "readIndexResponse", ...env, context: bytesOf(1), index: logIndex(77) },
  ];
}

/** A random valid message; integers mix small values with values near 2^53. */
function randomMessage(prng: Prng): Message {
  const int = (): number => (prng.chance(0.2) ? Number.MAX_SAFE_INTEGER - prng.int(0, 1000) : prng.int(0, 1_000_000));
  const id = (): NodeId => nodeId(1 + prng.int(0, 9));
  const bytes = (): Uint8Array => fill(prng.int(0, 40), prng.nextUint32());
  const t = prng.int(0, 1000);
  const env = { from: id(), to: id(), term: term(t) };
  switch (prng.int(0, 10)) {
    case 0:
      return {
        type: "voteRequest",
        ...env,
        preVote: prng.chance(0.5),
        lastLogIndex: logIndex(int()),
        lastLogTerm: term(int()),
        transfer: prng.chance(0.5),
      };
    case 1:
      return { type: "voteResponse", ...env, preVote: prng.chance(0.5), granted: prng.chance(0.5) };
    case 2: {
      const prevLogIndex = prng.int(0, 1_000_000);
      const prevLogTerm = prng.int(0, t + 1);
      const terms: number[] = [];
      let last = prevLogTerm;
      for (let k = prng.int(0, 6); k > 0; k--) terms.push((last = prng.int(last, t + 1)));
      return {
        type: "appendEntries",
        ...env,
        prevLogIndex: logIndex(prevLogIndex),
        prevLogTerm: term(prevLogTerm),
        entries: entries(prevLogIndex, terms, () => prng.int(0, 30)),
        leaderCommit: logIndex(int()),
      };
    }
    case 3:
      return prng.chance(0.5)
        ? { type: "appendEntriesResponse", ...env, success: true, matchIndex: logIndex(int()) }
        : {
            type: "appendEntriesResponse",
            ...env,
            success: false,
            rejectedIndex: logIndex(int()),
            hintIndex: logIndex(int()),
            hintTerm: term(int()),
          };
    case 4:
      return { type: "heartbeat", ...env, commit: logIndex(int()), context: int() };
    case 5:
      return { type: "heartbeatResponse", ...env, context: int() };
    case 6: {
      const members = [1, 2, 3, 4, 5, 6].filter(() => prng.chance(0.5)).map(nodeId);
      const split = prng.int(0, members.length + 1);
      const meta = {
        index: logIndex(int()),
        term: term(int()),
        voters: members.slice(0, split),
        votersOutgoing: members.slice(0, prng.int(0, split + 1)),
        learners: members.slice(split),
      };
      return { type: "installSnapshot", ...env, snapshot: { meta, data: bytes() } };
    }
    case 7:
      return { type: "propose", ...env, data: Array.from({ length: prng.int(0, 4) }, bytes) };
    case 8:
      return { type: "readIndexRequest", ...env, context: bytes() };
    default:
      return { type: "readIndexResponse", ...env, context: bytes(), index: logIndex(int()) };
  }
}

function randomChunk(prng: Prng): Uint8Array {
  const totalBytes = prng.int(0, 100);
  const offset = totalBytes === 0 ? 0 : prng.int(0, totalBytes);
  const data = fill(totalBytes === 0 ? 0 : prng.int(1, totalBytes - offset + 1), prng.nextUint32());
  const chunk: SnapshotChunk = {
    from: n1,
    to: n2,
    term: term(prng.int(0, 9)),
    streamId: prng.nextUint32(),
    totalBytes,
    offset,
    meta:
      offset === 0
        ? { index: logIndex(5), term: term(2), voters: [n1, n2], votersOutgoing: [], learners: [] }
        : undefined,
    data,
  };
  return encodeSnapshotChunkAt(chunk, 0, snapshotChunkBytes(chunk));
}

/** Decoding never throws; whatever decodes re-encodes to exactly the same bytes (one encoding per message). */
function checkDecode(bytes: Uint8Array): boolean {
  const result = decodePayload(bytes);
  if (!result.ok) {
    assert.equal(typeof result.error, "string");
    assert.ok(result.error.length > 0);
    return false;
  }
  const again =
    result.kind === "message"
      ? encodeMessage(result.message)
      : result.kind === "hello"
        ? encodeHelloAt(result.hello, 0, helloBytes(result.hello))
        : encodeSnapshotChunkAt(result.chunk, 0, snapshotChunkBytes(result.chunk));
  assert.deepEqual(
    new Uint8Array(again),
    new Uint8Array(bytes),
    "a decodable input is the canonical encoding of what it decodes to",
  );
  return true;
}

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
    leaderCommit: logIndex(4),
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
  expectError(mutate(hb, 0, 2), /unknown wire version 2/);
  expectError(mutate(hb, 1, 99), /unknown message tag 99/);
  expectError(mutate(hb, 9, 0), /from: node id 0/);
  expectError(mutate(hb, 10, 0x20), /to: integer above 2\^53/);
  expectError(encodeMessage(hb).subarray(0, 30), /commit: needs 8 bytes, 4 left/);
  expectError(Uint8Array.from([...encodeMessage(hb), 0]), /1 trailing bytes/);
  expectError(
    mutate({ type: "voteResponse", from: n1, to: n2, term: term(1), preVote: false, granted: true }, 27, 2),
    /granted: boolean must be 0 or 1, got 2/,
  );
  // appendEntries: prevLogIndex(26) prevLogTerm(34) leaderCommit(42) count(50..53) then term(8) kind(1) len(4) data.
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
    leaderCommit: logIndex(0),
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
  const hb = (over: Partial<Record<string, number>>): Message =>
    ({ type: "heartbeat", from: n1, to: n2, term: term(1), commit: logIndex(1), context: 1, ...over }) as Message;
  assert.throws(() => encodeMessage(hb({ from: 0 })), /node ids must be ≥ 1/);
  assert.throws(() => encodeMessage(hb({ commit: -1 })), /not a non-negative safe integer/);
  assert.throws(() => encodeMessage(hb({ context: 1.5 })), /not a non-negative safe integer/);
  assert.throws(() => encodeMessage(hb({ term: 2 ** 53 })), /not a non-negative safe integer/);
});

/**
 * Random input built from plausible field values (small integers, 0/1 bytes, short lengths) as well
 * as raw noise, so that fuzzing gets past the header into every variant's body.
 */
function randomFields(prng: Prng): Uint8Array {
  const out: number[] = [WIRE_VERSION, prng.pick([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 128, 129, 0, 11, 255])];
  const u64 = (value: number): number[] => [0, 0, 0, 0, 0, 0, 0, value];
  out.push(...u64(prng.int(0, 3)), ...u64(prng.int(0, 3)), ...u64(prng.int(0, 4)));
  for (let k = prng.int(0, 12); k > 0; k--) {
    switch (prng.int(0, 5)) {
      case 0:
        out.push(prng.int(0, 3));
        break;
      case 1:
        out.push(0, 0, 0, prng.int(0, 4));
        break;
      case 2:
        out.push(...u64(prng.int(0, 6)));
        break;
      case 3:
        out.push(prng.int(0, 256));
        break;
      default:
        for (let n = prng.int(1, 9); n > 0; n--) out.push(prng.int(0, 256));
    }
  }
  return Uint8Array.from(out);
}

test("fuzz: random buffers never throw; anything accepted is canonical", () => {
  const prng = new Prng(77);
  let accepted = 0;
  for (let k = 0; k < 20_000; k++) {
    const bytes = prng.chance(0.3) ? fill(prng.int(0, 120), prng.nextUint32()) : randomFields(prng);
    if (checkDecode(bytes)) accepted++;
  }
  assert.ok(accepted > 10, `${accepted} random inputs reached a valid message`);
});

test("fuzz: single-byte mutations, truncations and extensions of valid encodings never throw", () => {
  const prng = new Prng(4242);
  const samples: Uint8Array[] = [];
  for (const m of fixedSamples()) if (messageBytes(m) < 4096) samples.push(encodeMessage(m));
  for (let k = 0; k < 300; k++) samples.push(encodeMessage(randomMessage(prng)));
  for (let k = 0; k < 50; k++) samples.push(randomChunk(prng));
  let mutations = 0;
  let stillValid = 0;
  for (const original of samples) {
    assert.ok(checkDecode(original));
    // Every strict prefix is invalid: the encoding is prefix-free.
    for (let length = 0; length < original.byteLength; length++)
      assert.equal(checkDecode(original.subarray(0, length)), false);
    assert.equal(checkDecode(Uint8Array.from([...original, prng.int(0, 256)])), false);
    for (let k = 0; k < 40; k++) {
      const bytes = new Uint8Array(original);
      const at = prng.int(0, bytes.byteLength);
      bytes[at] = (bytes[at]! + prng.int(1, 256)) & 0xff;
      if (checkDecode(bytes)) stillValid++;
      mutations++;
    }
  }
  assert.ok(mutations > 10_000, `${mutations} mutations`);
  assert.ok(stillValid > 0 && stillValid < mutations, "mutations land both in data (valid) and in structure (invalid)");
});

test("a hello round-trips; its address must be UTF-8 of 1 to 260 bytes and its term 0", () => {
  const hello = { from: nodeId(3), to: nodeId(1), address: "n3.example:7003" };
  const bytes = encodeHelloAt(hello, 0, helloBytes(hello));
  const decoded = decodePayload(bytes);
  assert.deepEqual(decoded, { ok: true, kind: "hello", hello });
  assert.equal(decodeMessage(bytes).ok, false, "a hello is not a Raft message");
  const invalid = new Uint8Array(bytes);
  invalid[invalid.length - 1] = 0xff;
  assert.equal(decodePayload(invalid).ok, false, "not UTF-8");
  const withTerm = new Uint8Array(bytes);
  withTerm[2 + 16 + 7] = 1;
  assert.equal(decodePayload(withTerm).ok, false, "a hello with a term");
});
