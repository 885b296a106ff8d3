/*
 * The peer wire format (version 1). All integers big-endian; u64 = two u32 halves holding a safe
 * integer (see wire.ts); bytes = u32 length + that many bytes; bool = u8 0 or 1.
 *
 *   payload      = version:u8 (1) · tag:u8 · from:u64 · to:u64 · term:u64 · body
 *   1 voteRequest            preVote:bool · lastLogIndex:u64 · lastLogTerm:u64 · transfer:bool
 *   2 voteResponse           preVote:bool · granted:bool
 *   3 appendEntries          prevLogIndex:u64 · prevLogTerm:u64 · leaderCommit:u64 · count:u32 ·
 *                            count × (term:u64 · kind:u8 (0 normal, 1 config) · data:bytes)
 *   4 appendEntriesResponse  success:bool · (1: matchIndex:u64 | 0: rejectedIndex:u64 · hintIndex:u64 · hintTerm:u64)
 *   5 heartbeat              commit:u64 · context:u64
 *   6 heartbeatResponse      context:u64
 *   7 installSnapshot        meta · data:bytes
 *   8 propose                count:u32 · count × data:bytes
 *   9 readIndexRequest       context:bytes
 *  10 readIndexResponse      context:bytes · index:u64
 * 128 snapshotChunk          (transport only, never a Message) streamId:u32 · totalBytes:u64 · offset:u64 ·
 *                            meta (only when offset = 0) · data:bytes
 * 129 hello                  (transport only, the first frame on a connection; term 0) address:bytes, the
 *                            UTF-8 "host:port" where the sender listens for its peers
 *   meta = index:u64 · term:u64 · voterCount:u32 · voters:u64… · learnerCount:u32 · learners:u64…
 *
 * An entry carries no index: entries are consecutive from prevLogIndex + 1 (the follower's
 * maybeAppend relies on it), so the encoder asserts that and the decoder derives the indexes, which
 * makes a gap or a duplicate unrepresentable on the wire. Every byte string decodes to at most one
 * message and that message re-encodes to the same bytes (the fuzz test checks this).
 *
 * Decoded byte fields (entry data, snapshot data, proposals, contexts) are views into the input, not
 * copies: the caller must not reuse or modify the input buffer afterwards, and a retained entry keeps
 * its whole input buffer alive.
 */
import { Buffer } from "node:buffer";
import type { Message, MessageType } from "../raft/messages.js";
import type { Entry, EntryKind, SnapshotMeta } from "../raft/types.js";
import { assert, assertNever } from "../util/assert.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import type { LogIndex, NodeId, Term } from "../util/ids.js";
import { ByteReader, ByteWriter, DecodeError, U32_BYTES, U64_BYTES, U8_BYTES } from "./wire.js";

export const WIRE_VERSION = 1;

/** Stable wire tags; `satisfies` makes a new Message variant a compile error until it has one. */
const TAGS = {
  voteRequest: 1,
  voteResponse: 2,
  appendEntries: 3,
  appendEntriesResponse: 4,
  heartbeat: 5,
  heartbeatResponse: 6,
  installSnapshot: 7,
  propose: 8,
  readIndexRequest: 9,
  readIndexResponse: 10,
  timeoutNow: 11,
} as const satisfies Record<MessageType, number>;
const SNAPSHOT_CHUNK_TAG = 128;
const HELLO_TAG = 129;
/** Longest address a hello may carry: a host name (253) and a port. */
const HELLO_ADDRESS_BYTES_MAX = 260;

const ENTRY_KINDS: readonly EntryKind[] = ["normal", "config"];
const HEADER_BYTES = U8_BYTES * 2 + U64_BYTES * 3;
const ENTRY_BYTES_MIN = U64_BYTES + U8_BYTES + U32_BYTES;

/**
 * One piece of a streamed InstallSnapshot (transport-internal). Invariants: offset + data.length ≤
 * totalBytes; data is non-empty unless totalBytes is 0; meta is present exactly when offset is 0.
 */
export interface SnapshotChunk {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
  /** Names the stream on its connection; a chunk at offset 0 starts a new one. */
  readonly streamId: number;
  readonly totalBytes: number;
  readonly offset: number;
  readonly meta: SnapshotMeta | undefined;
  readonly data: Uint8Array;
}

/**
 * Who opened a connection and where it listens: a member that has not yet learnt of the sender
 * from the log (it was down when the sender joined) can answer it all the same.
 */
export interface Hello {
  readonly from: NodeId;
  /** The member the sender meant to reach. */
  readonly to: NodeId;
  readonly address: string;
}

export type DecodeResult =
  { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly error: string };

/** What a frame's payload can hold: a Message, or a chunk of a streamed snapshot. */
export type PayloadResult =
  | { readonly ok: true; readonly kind: "message"; readonly message: Message }
  | { readonly ok: true; readonly kind: "snapshotChunk"; readonly chunk: SnapshotChunk }
  | { readonly ok: true; readonly kind: "hello"; readonly hello: Hello }
  | { readonly ok: false; readonly error: string };

// ---- encoding ----------------------------------------------------------------------------------

/** The encoded size of `m` in bytes, without allocating. */
export function messageBytes(m: Message): number {
  return HEADER_BYTES + bodyBytes(m);
}

/** Encodes a message. Values outside their field (a negative index, node id 0) are programmer errors. */
export function encodeMessage(m: Message): Uint8Array {
  return encodeMessageAt(m, 0, messageBytes(m));
}

/**
 * Encodes `m` after `headroom` unwritten bytes (the frame header goes there, saving a copy).
 * `size` must be messageBytes(m). Buffer.allocUnsafe is safe here because every byte after the
 * headroom is written, which the final assertion checks.
 */
export function encodeMessageAt(m: Message, headroom: number, size: number): Uint8Array {
  const bytes = Buffer.allocUnsafe(headroom + size);
  const w = new ByteWriter(bytes, headroom);
  writeHeader(w, TAGS[m.type], m);
  writeBody(w, m);
  assert(w.position === bytes.length, `${m.type}: wrote ${w.position - headroom} bytes, sized ${size}`);
  return bytes;
}

export function snapshotChunkBytes(c: SnapshotChunk): number {
  const meta = c.meta === undefined ? 0 : metaBytes(c.meta);
  return HEADER_BYTES + U32_BYTES + U64_BYTES * 2 + meta + U32_BYTES + c.data.length;
}

export function encodeSnapshotChunkAt(c: SnapshotChunk, headroom: number, size: number): Uint8Array {
  assert(c.offset + c.data.length <= c.totalBytes, "snapshot chunk runs past the snapshot's end");
  assert((c.offset === 0) === (c.meta !== undefined), "snapshot meta travels with the first chunk only");
  assert(c.data.length > 0 || c.totalBytes === 0, "empty chunk of a non-empty snapshot");
  const bytes = Buffer.allocUnsafe(headroom + size);
  const w = new ByteWriter(bytes, headroom);
  writeHeader(w, SNAPSHOT_CHUNK_TAG, c);
  w.u32(c.streamId);
  w.u64(c.totalBytes);
  w.u64(c.offset);
  if (c.meta !== undefined) writeMeta(w, c.meta);
  w.bytes(c.data);
  assert(w.position === bytes.length, `snapshot chunk: wrote ${w.position - headroom} bytes, sized ${size}`);
  return bytes;
}

export function helloBytes(h: Hello): number {
  return HEADER_BYTES + U32_BYTES + Buffer.byteLength(h.address, "utf8");
}

export function encodeHelloAt(h: Hello, headroom: number, size: number): Uint8Array {
  const address = Buffer.from(h.address, "utf8");
  assert(address.length >= 1 && address.length <= HELLO_ADDRESS_BYTES_MAX, `hello address of ${address.length} bytes`);
  const bytes = Buffer.allocUnsafe(headroom + size);
  const w = new ByteWriter(bytes, headroom);
  writeHeader(w, HELLO_TAG, { from: h.from, to: h.to, term: term(0) });
  w.bytes(address);
  assert(w.position === bytes.length, `hello: wrote ${w.position - headroom} bytes, sized ${size}`);
  return bytes;
}

function writeHeader(w: ByteWriter, tag: number, e: { from: NodeId; to: NodeId; term: Term }): void {
  assert(e.from >= 1 && e.to >= 1, `node ids must be ≥ 1 (from ${e.from}, to ${e.to})`);
  w.u8(WIRE_VERSION);
  w.u8(tag);
  w.u64(e.from);
  w.u64(e.to);
  w.u64(e.term);
}

function bodyBytes(m: Message): number {
  switch (m.type) {
    case "voteRequest":
      return U8_BYTES * 2 + U64_BYTES * 2;
    case "voteResponse":
      return U8_BYTES * 2;
    case "appendEntries": {
      let n = U64_BYTES * 3 + U32_BYTES;
      for (const e of m.entries) n += ENTRY_BYTES_MIN + e.data.length;
      return n;
    }
    case "appendEntriesResponse":
      return U8_BYTES + (m.success ? U64_BYTES : U64_BYTES * 3);
    case "heartbeat":
      return U64_BYTES * 2;
    case "heartbeatResponse":
      return U64_BYTES;
    case "installSnapshot":
      return metaBytes(m.snapshot.meta) + U32_BYTES + m.snapshot.data.length;
    case "propose": {
      let n = U32_BYTES;
      for (const d of m.data) n += U32_BYTES + d.length;
      return n;
    }
    case "readIndexRequest":
      return U32_BYTES + m.context.length;
    case "readIndexResponse":
      return U32_BYTES + m.context.length + U64_BYTES;
    case "timeoutNow":
      return U64_BYTES;
    default:
      return assertNever(m, "message");
  }
}

function writeBody(w: ByteWriter, m: Message): void {
  switch (m.type) {
    case "voteRequest":
      w.bool(m.preVote);
      w.u64(m.lastLogIndex);
      w.u64(m.lastLogTerm);
      w.bool(m.transfer);
      return;
    case "voteResponse":
      w.bool(m.preVote);
      w.bool(m.granted);
      return;
    case "appendEntries":
      w.u64(m.prevLogIndex);
      w.u64(m.prevLogTerm);
      w.u64(m.leaderCommit);
      writeEntries(w, m.prevLogIndex, m.entries);
      return;
    case "appendEntriesResponse":
      w.bool(m.success);
      if (m.success) {
        w.u64(m.matchIndex);
      } else {
        w.u64(m.rejectedIndex);
        w.u64(m.hintIndex);
        w.u64(m.hintTerm);
      }
      return;
    case "heartbeat":
      w.u64(m.commit);
      w.u64(m.context);
      return;
    case "heartbeatResponse":
      w.u64(m.context);
      return;
    case "installSnapshot":
      writeMeta(w, m.snapshot.meta);
      w.bytes(m.snapshot.data);
      return;
    case "propose":
      w.u32(m.data.length);
      for (const d of m.data) w.bytes(d);
      return;
    case "readIndexRequest":
      w.bytes(m.context);
      return;
    case "readIndexResponse":
      w.bytes(m.context);
      w.u64(m.index);
      return;
    case "timeoutNow":
      w.u64(m.commit);
      return;
    default:
      return assertNever(m, "message");
  }
}

function writeEntries(w: ByteWriter, prevLogIndex: LogIndex, entries: readonly Entry[]): void {
  w.u32(entries.length);
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    // The wire derives indexes from prevLogIndex (see the format comment), so they must follow it.
    if (e.index !== prevLogIndex + 1 + k)
      assert(false, `entry ${k} has index ${e.index}, expected ${prevLogIndex + 1 + k}`);
    w.u64(e.term);
    w.u8(e.kind === "normal" ? 0 : 1);
    w.bytes(e.data);
  }
}

function metaBytes(meta: SnapshotMeta): number {
  return (
    U64_BYTES * 2 + U32_BYTES * 3 + U64_BYTES * (meta.voters.length + meta.votersOutgoing.length + meta.learners.length)
  );
}

function writeMeta(w: ByteWriter, meta: SnapshotMeta): void {
  w.u64(meta.index);
  w.u64(meta.term);
  writeIds(w, meta.voters);
  writeIds(w, meta.votersOutgoing);
  writeIds(w, meta.learners);
}

function writeIds(w: ByteWriter, ids: readonly NodeId[]): void {
  w.u32(ids.length);
  for (const id of ids) {
    assert(id >= 1, `node id ${id} in a configuration`);
    w.u64(id);
  }
}

// ---- decoding ----------------------------------------------------------------------------------

/**
 * Decodes and validates a message: known version and tag, every length within the buffer, integers
 * safe and non-negative, node ids ≥ 1, booleans 0/1, known entry kinds, entry terms non-decreasing
 * from prevLogTerm and not above the message's term, configurations without a duplicate member, and
 * no trailing bytes. Never throws on bad input and never reads outside `bytes`.
 */
export function decodeMessage(bytes: Uint8Array): DecodeResult {
  const result = decodePayload(bytes);
  if (!result.ok) return result;
  if (result.kind !== "message")
    return { ok: false, error: `tag: a ${result.kind === "hello" ? "hello" : "snapshot chunk"} is not a message` };
  return { ok: true, message: result.message };
}

/** Decodes a frame's payload: a message or a snapshot chunk, with decodeMessage's validation. */
export function decodePayload(bytes: Uint8Array): PayloadResult {
  try {
    const r = new ByteReader(bytes);
    const version = r.u8("version");
    if (version !== WIRE_VERSION)
      r.fail("version", `unknown wire version ${version} (this node speaks ${WIRE_VERSION})`);
    const tag = r.u8("tag");
    const from = readNodeId(r, "from");
    const to = readNodeId(r, "to");
    const t = term(r.u64("term"));
    if (tag === SNAPSHOT_CHUNK_TAG) {
      const chunk = readSnapshotChunk(r, from, to, t);
      r.end();
      return { ok: true, kind: "snapshotChunk", chunk };
    }
    if (tag === HELLO_TAG) {
      const hello = readHello(r, from, to, t);
      r.end();
      return { ok: true, kind: "hello", hello };
    }
    const message = readBody(r, tag, from, to, t);
    r.end();
    return { ok: true, kind: "message", message };
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, error: error.message };
    throw error;
  }
}

function readBody(r: ByteReader, tag: number, from: NodeId, to: NodeId, t: Term): Message {
  switch (tag) {
    case TAGS.voteRequest:
      return {
        type: "voteRequest",
        from,
        to,
        term: t,
        preVote: r.bool("preVote"),
        lastLogIndex: logIndex(r.u64("lastLogIndex")),
        lastLogTerm: term(r.u64("lastLogTerm")),
        transfer: r.bool("transfer"),
      };
    case TAGS.voteResponse:
      return { type: "voteResponse", from, to, term: t, preVote: r.bool("preVote"), granted: r.bool("granted") };
    case TAGS.appendEntries: {
      const prevLogIndex = logIndex(r.u64("prevLogIndex"));
      const prevLogTerm = term(r.u64("prevLogTerm"));
      const leaderCommit = logIndex(r.u64("leaderCommit"));
      if (prevLogTerm > t) r.fail("prevLogTerm", `${prevLogTerm} is above the message's term ${t}`);
      const entries = readEntries(r, prevLogIndex, prevLogTerm, t);
      return { type: "appendEntries", from, to, term: t, prevLogIndex, prevLogTerm, entries, leaderCommit };
    }
    case TAGS.appendEntriesResponse:
      return r.bool("success")
        ? { type: "appendEntriesResponse", from, to, term: t, success: true, matchIndex: logIndex(r.u64("matchIndex")) }
        : {
            type: "appendEntriesResponse",
            from,
            to,
            term: t,
            success: false,
            rejectedIndex: logIndex(r.u64("rejectedIndex")),
            hintIndex: logIndex(r.u64("hintIndex")),
            hintTerm: term(r.u64("hintTerm")),
          };
    case TAGS.heartbeat:
      return { type: "heartbeat", from, to, term: t, commit: logIndex(r.u64("commit")), context: r.u64("context") };
    case TAGS.heartbeatResponse:
      return { type: "heartbeatResponse", from, to, term: t, context: r.u64("context") };
    case TAGS.installSnapshot: {
      const meta = readMeta(r);
      return { type: "installSnapshot", from, to, term: t, snapshot: { meta, data: r.bytes("snapshot.data") } };
    }
    case TAGS.propose: {
      const count = r.count("propose.data", U32_BYTES);
      const data: Uint8Array[] = [];
      for (let k = 0; k < count; k++) data.push(r.bytes("propose.data"));
      return { type: "propose", from, to, term: t, data };
    }
    case TAGS.readIndexRequest:
      return { type: "readIndexRequest", from, to, term: t, context: r.bytes("context") };
    case TAGS.readIndexResponse:
      return {
        type: "readIndexResponse",
        from,
        to,
        term: t,
        context: r.bytes("context"),
        index: logIndex(r.u64("index")),
      };
    case TAGS.timeoutNow:
      return { type: "timeoutNow", from, to, term: t, commit: logIndex(r.u64("commit")) };
    default:
      return r.fail("tag", `unknown message tag ${tag}`);
  }
}

function readEntries(r: ByteReader, prevLogIndex: LogIndex, prevLogTerm: Term, messageTerm: Term): Entry[] {
  const count = r.count("entries", ENTRY_BYTES_MIN);
  if (prevLogIndex + count > Number.MAX_SAFE_INTEGER) r.fail("entries", "last index above 2^53 - 1");
  const entries: Entry[] = [];
  let previousTerm: number = prevLogTerm;
  for (let k = 0; k < count; k++) {
    const t = r.u64("entry.term");
    if (t < previousTerm) r.fail("entry.term", `entry ${k}'s term ${t} is below the term before it (${previousTerm})`);
    if (t > messageTerm) r.fail("entry.term", `entry ${k}'s term ${t} is above the message's term ${messageTerm}`);
    previousTerm = t;
    const kindCode = r.u8("entry.kind");
    const kind = ENTRY_KINDS[kindCode];
    if (kind === undefined) r.fail("entry.kind", `unknown entry kind ${kindCode}`);
    entries.push({ index: logIndex(prevLogIndex + 1 + k), term: term(t), kind, data: r.bytes("entry.data") });
  }
  return entries;
}

function readMeta(r: ByteReader): SnapshotMeta {
  const index = logIndex(r.u64("snapshot.index"));
  const t = term(r.u64("snapshot.term"));
  const seen = new Set<NodeId>();
  const voters = readIds(r, "snapshot.voters", seen);
  // Outgoing voters of a joint configuration may also be incoming ones, never learners.
  const outgoingSeen = new Set<NodeId>();
  const votersOutgoing = readIds(r, "snapshot.votersOutgoing", outgoingSeen);
  for (const id of outgoingSeen) seen.add(id);
  const learners = readIds(r, "snapshot.learners", seen);
  return { index, term: t, voters, votersOutgoing, learners };
}

/** Node ids ≥ 1, none already in `seen` (a member is a voter or a learner, once). */
function readIds(r: ByteReader, field: string, seen: Set<NodeId>): NodeId[] {
  const count = r.count(field, U64_BYTES);
  const ids: NodeId[] = [];
  for (let k = 0; k < count; k++) {
    const id = readNodeId(r, field);
    if (seen.has(id)) r.fail(field, `node ${id} appears twice in the configuration`);
    seen.add(id);
    ids.push(id);
  }
  return ids;
}

function readNodeId(r: ByteReader, field: string): NodeId {
  const id = r.u64(field);
  if (id === 0) r.fail(field, "node id 0 (ids start at 1)");
  return nodeId(id);
}

function readSnapshotChunk(r: ByteReader, from: NodeId, to: NodeId, t: Term): SnapshotChunk {
  const streamId = r.u32("chunk.streamId");
  const totalBytes = r.u64("chunk.totalBytes");
  const offset = r.u64("chunk.offset");
  const meta = offset === 0 ? readMeta(r) : undefined;
  const data = r.bytes("chunk.data");
  if (offset + data.length > totalBytes) {
    r.fail("chunk.data", `bytes [${offset}, ${offset + data.length}) run past the snapshot's ${totalBytes} bytes`);
  }
  if (data.length === 0 && totalBytes !== 0) r.fail("chunk.data", "empty chunk of a non-empty snapshot");
  return { from, to, term: t, streamId, totalBytes, offset, meta, data };
}

function readHello(r: ByteReader, from: NodeId, to: NodeId, t: Term): Hello {
  if (t !== 0) r.fail("term", `a hello carries term 0, not ${t}`);
  const bytes = r.bytes("address");
  const address = Buffer.from(bytes).toString("utf8");
  // Only bytes that are their own UTF-8 encoding: a payload decodes one way and re-encodes the same.
  if (bytes.length === 0 || bytes.length > HELLO_ADDRESS_BYTES_MAX || !Buffer.from(address, "utf8").equals(bytes)) {
    r.fail("address", "a hello's address must be 1 to 260 bytes of UTF-8");
  }
  return { from, to, address };
}
