/* Decoding and validation of the peer wire format described in codec.ts. */
import { Buffer } from "node:buffer";
import type { Message } from "../raft/messages.js";
import type { Entry, SnapshotMeta } from "../raft/types.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import type { LogIndex, NodeId, Term } from "../util/ids.js";
import { ByteReader, DecodeError, U32_BYTES, U64_BYTES, U8_BYTES } from "../util/wire.js";
import {
  ENTRY_BYTES_MIN,
  ENGINE_MESSAGE_TAG,
  ENTRY_KINDS,
  HELLO_ADDRESS_BYTES_MAX,
  HELLO_TAG,
  SNAPSHOT_CHUNK_TAG,
  TAGS,
  WIRE_VERSION,
  isClientAddress,
  isEngineName,
  type Hello,
  type SnapshotChunk,
} from "./codec.js";

type DecodeResult = { readonly ok: true; readonly message: Message } | { readonly ok: false; readonly error: string };

/** What a frame's payload can hold: a Message, or a chunk of a streamed snapshot. */
type PayloadResult =
  | { readonly ok: true; readonly kind: "message"; readonly message: Message }
  | { readonly ok: true; readonly kind: "snapshotChunk"; readonly chunk: SnapshotChunk }
  | { readonly ok: true; readonly kind: "hello"; readonly hello: Hello }
  | {
      readonly ok: true;
      readonly kind: "engine";
      readonly from: NodeId;
      readonly to: NodeId;
      readonly body: Uint8Array;
    }
  | { readonly ok: false; readonly error: string };

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
    return {
      ok: false,
      error: `tag: a ${result.kind === "snapshotChunk" ? "snapshot chunk" : result.kind} is not a message`,
    };
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
    if (tag === ENGINE_MESSAGE_TAG) {
      // Another engine's message: its own codec decodes the rest (peer_wire.ts).
      const to = readNodeId(r, "to");
      return { ok: true, kind: "engine", from, to, body: bytes.subarray(U8_BYTES * 2 + U64_BYTES * 2) };
    }
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
      const commit = logIndex(r.u64("commit"));
      if (prevLogTerm > t) r.fail("prevLogTerm", `${prevLogTerm} is above the message's term ${t}`);
      const entries = readEntries(r, prevLogIndex, prevLogTerm, t);
      return { type: "appendEntries", from, to, term: t, prevLogIndex, prevLogTerm, entries, commit };
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
  const address = readUtf8(r, "address");
  if (address.length === 0) r.fail("address", "empty");
  const client = readUtf8(r, "clientAddress");
  if (client.length !== 0 && !isClientAddress(client))
    r.fail("clientAddress", "not a host:port without spaces or controls");
  const clientAddress = client.length === 0 ? undefined : client;
  if (r.remaining() === 0) return { from, to, address, clientAddress };
  const engine = readUtf8(r, "engine");
  if (!isEngineName(engine)) r.fail("engine", `not an engine name other than raft: ${JSON.stringify(engine)}`);
  return { from, to, address, clientAddress, engine };
}

/** Up to HELLO_ADDRESS_BYTES_MAX bytes, and only bytes that are their own UTF-8 encoding (so a payload re-encodes the same). */
function readUtf8(r: ByteReader, field: string): string {
  const bytes = r.bytes(field);
  if (bytes.length > HELLO_ADDRESS_BYTES_MAX) r.fail(field, `${bytes.length} bytes, above ${HELLO_ADDRESS_BYTES_MAX}`);
  const text = Buffer.from(bytes).toString("utf8");
  if (!Buffer.from(text, "utf8").equals(bytes)) r.fail(field, "not UTF-8");
  return text;
}
