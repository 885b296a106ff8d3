/* Sample and random wire payloads shared by codec.test.ts and codec_fuzz.test.ts. */
import type { Message } from "../raft/messages.js";
import type { Entry } from "../raft/types.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import type { NodeId } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import { HEADER_BYTES, type SnapshotChunk } from "./codec.js";
import { encodeHelloAt, encodeSnapshotChunkAt, helloBytes, snapshotChunkBytes } from "./codec_encode.js";

export const n1 = nodeId(1);
export const n2 = nodeId(2);
export const bytesOf = (...values: number[]): Uint8Array => Uint8Array.from(values);

export function fill(length: number, seed: number): Uint8Array {
  const prng = new Prng(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = prng.nextUint32() & 0xff;
  return out;
}

export function entries(prevLogIndex: number, terms: readonly number[], dataBytes: (k: number) => number): Entry[] {
  return terms.map((t, k) => ({
    index: logIndex(prevLogIndex + 1 + k),
    term: term(t),
    kind: k % 3 === 2 ? "config" : "normal",
    data: fill(dataBytes(k), k),
  }));
}

/** One or more hand-picked instances of every variant, edge values included. */
export function fixedSamples(): Message[] {
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
      commit: logIndex(0),
    },
    {
      type: "appendEntries",
      ...env,
      prevLogIndex: logIndex(10),
      prevLogTerm: term(3),
      entries: entries(10, [3, 3, 5, 7], (k) => k * 10),
      commit: logIndex(12),
    },
    // An empty entry (the leader's no-op), a 1 MiB entry, and many entries.
    {
      type: "appendEntries",
      ...env,
      prevLogIndex: logIndex(1),
      prevLogTerm: term(1),
      entries: entries(1, [7, 7], (k) => (k === 0 ? 0 : 1 << 20)),
      commit: logIndex(1),
    },
    {
      type: "appendEntries",
      ...env,
      prevLogIndex: logIndex(100),
      prevLogTerm: term(2),
      entries: entries(100, Array<number>(2000).fill(7), () => 0),
      commit: logIndex(99),
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
export function randomMessage(prng: Prng): Message {
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
        commit: logIndex(int()),
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

export function randomChunk(prng: Prng): Uint8Array {
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

/**
 * A hello payload from n1 to n2 with the given address fields as raw bytes, whatever they hold (the
 * encoder would refuse invalid ones); `client` undefined leaves the field out, as a hello of the
 * format before it had one.
 */
export function rawHello(address: Uint8Array, client: Uint8Array | undefined): Uint8Array {
  const field = (bytes: Uint8Array): number[] => [...u32(bytes.length), ...bytes];
  const valid = { from: n1, to: n2, address: "h:1", clientAddress: undefined };
  const header = encodeHelloAt(valid, 0, helloBytes(valid));
  return Uint8Array.from([
    ...header.subarray(0, HEADER_BYTES),
    ...field(address),
    ...(client === undefined ? [] : field(client)),
  ]);
}

function u32(value: number): number[] {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}
