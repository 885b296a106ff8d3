/*
 * The ZAB peer wire format (version 1). Integers big-endian; u64 = a safe integer in two u32
 * halves; bytes = u32 length + bytes; bool = u8 0 or 1.
 *
 *   payload = version:u8 (1) · tag:u8 · from:u64 · to:u64 · body
 *    1 notification  round:u64 · state:u8 (0 looking, 1 following, 2 leading) · leader:u64 · epoch:u64 · zxid
 *    2 followerInfo  acceptedEpoch:u64
 *    3 newEpoch      epoch:u64
 *    4 ackEpoch      epoch:u64 · promised:bool · currentEpoch:u64 · lastZxid · count:u32 ·
 *                    count × (epoch:u64 · lastCounter:u64)
 *    5 newLeader     epoch:u64 · prevZxid · txns
 *    6 ack           epoch:u64 · zxid
 *    7 proposal      epoch:u64 · prevZxid · txns
 *    8 commit        epoch:u64 · zxid
 *    9 ping          epoch:u64 · committedZxid · round:u64
 *   10 pong          epoch:u64 · round:u64 · lastZxid · durableZxid
 *   11 syncRequest   context:bytes
 *   12 syncResponse  epoch:u64 · context:bytes · index:u64
 *   13 forward       data:bytes
 *   zxid = epoch:u64 · counter:u64;  txns = count:u32 · count × (zxid · data:bytes)
 *
 * The decoder accepts only what a correct member sends: node ids ≥ 1, a zxid is either (0, 0) or
 * has a counter ≥ 1, transactions strictly increase after prevZxid and belong to no epoch above the
 * message's, a history summary runs from lastZxid's epoch down with no repeat. So every byte string
 * decodes to at most one message, which re-encodes to the same bytes. Decoded byte fields are copies:
 * the input buffer may be reused at once.
 */
import { assertNever } from "../util/assert.js";
import { nodeId, type NodeId } from "../util/ids.js";
import { ByteReader, ByteWriter, DecodeError, U32_BYTES, U64_BYTES, U8_BYTES } from "../util/wire.js";
import type { ZabMessage, ZabMessageType } from "./messages.js";
import {
  compareZxid,
  epoch,
  ZXID_ZERO,
  zxidEqual,
  type Epoch,
  type EpochExtent,
  type Txn,
  type Zxid,
} from "./types.js";

export const ZAB_WIRE_VERSION = 1;

/** Stable wire tags; `satisfies` makes a new message type a compile error until it has one. */
const TAGS = {
  notification: 1,
  followerInfo: 2,
  newEpoch: 3,
  ackEpoch: 4,
  newLeader: 5,
  ack: 6,
  proposal: 7,
  commit: 8,
  ping: 9,
  pong: 10,
  syncRequest: 11,
  syncResponse: 12,
  forward: 13,
} as const satisfies Record<ZabMessageType, number>;
const TYPES_BY_TAG = new Map<number, ZabMessageType>(
  Object.entries(TAGS).map(([type, tag]) => [tag, type as ZabMessageType]),
);
const NOTIFICATION_STATES = ["looking", "following", "leading"] as const;
const HEADER_BYTES = 2 * U8_BYTES + 2 * U64_BYTES;
const ZXID_BYTES = 2 * U64_BYTES;
const TXN_BYTES_MIN = ZXID_BYTES + U32_BYTES;
const EXTENT_BYTES = 2 * U64_BYTES;

export type ZabDecodeResult =
  { readonly ok: true; readonly message: ZabMessage } | { readonly ok: false; readonly error: string };

// ---- encoding ----------------------------------------------------------------------------------

// The writer is sized in advance (util/wire.ts), so each body's size mirrors writeBody below; a
// mismatch asserts in finish().
const txnsBytes = (txns: readonly Txn[]): number =>
  U32_BYTES + txns.reduce((sum, txn) => sum + TXN_BYTES_MIN + txn.data.length, 0);

function bodyBytes(m: ZabMessage): number {
  switch (m.type) {
    case "notification":
      return 3 * U64_BYTES + U8_BYTES + ZXID_BYTES;
    case "followerInfo":
    case "newEpoch":
      return U64_BYTES;
    case "ackEpoch":
      return 2 * U64_BYTES + U8_BYTES + ZXID_BYTES + U32_BYTES + m.extents.length * EXTENT_BYTES;
    case "newLeader":
    case "proposal":
      return U64_BYTES + ZXID_BYTES + txnsBytes(m.txns);
    case "ack":
    case "commit":
      return U64_BYTES + ZXID_BYTES;
    case "ping":
      return 2 * U64_BYTES + ZXID_BYTES;
    case "pong":
      return 2 * U64_BYTES + 2 * ZXID_BYTES;
    case "syncRequest":
      return U32_BYTES + m.context.length;
    case "forward":
      return U32_BYTES + m.data.length;
    case "syncResponse":
      return 2 * U64_BYTES + U32_BYTES + m.context.length;
    default:
      return assertNever(m, "zab message");
  }
}

export function encodeZabMessage(m: ZabMessage): Uint8Array {
  const w = new ByteWriter(new Uint8Array(HEADER_BYTES + bodyBytes(m)));
  w.u8(ZAB_WIRE_VERSION);
  w.u8(TAGS[m.type]);
  w.u64(m.from);
  w.u64(m.to);
  writeBody(w, m);
  return w.finish(m.type);
}

function writeBody(w: ByteWriter, m: ZabMessage): void {
  switch (m.type) {
    case "notification":
      w.u64(m.round);
      w.u8(NOTIFICATION_STATES.indexOf(m.state));
      w.u64(m.vote.leader);
      w.u64(m.vote.epoch);
      writeZxid(w, m.vote.zxid);
      return;
    case "followerInfo":
      w.u64(m.acceptedEpoch);
      return;
    case "newEpoch":
      w.u64(m.epoch);
      return;
    case "ackEpoch":
      w.u64(m.epoch);
      w.bool(m.promised);
      w.u64(m.currentEpoch);
      writeZxid(w, m.lastZxid);
      w.u32(m.extents.length);
      for (const extent of m.extents) {
        w.u64(extent.epoch);
        w.u64(extent.lastCounter);
      }
      return;
    case "newLeader":
    case "proposal":
      w.u64(m.epoch);
      writeZxid(w, m.prevZxid);
      writeTxns(w, m.txns);
      return;
    case "ack":
    case "commit":
      w.u64(m.epoch);
      writeZxid(w, m.zxid);
      return;
    case "ping":
      w.u64(m.epoch);
      writeZxid(w, m.committedZxid);
      w.u64(m.round);
      return;
    case "pong":
      w.u64(m.epoch);
      w.u64(m.round);
      writeZxid(w, m.lastZxid);
      writeZxid(w, m.durableZxid);
      return;
    case "syncRequest":
      w.bytes(m.context);
      return;
    case "syncResponse":
      w.u64(m.epoch);
      w.bytes(m.context);
      w.u64(m.index);
      return;
    case "forward":
      w.bytes(m.data);
      return;
    default:
      return assertNever(m, "zab message");
  }
}

function writeZxid(w: ByteWriter, z: Zxid): void {
  w.u64(z.epoch);
  w.u64(z.counter);
}

function writeTxns(w: ByteWriter, txns: readonly Txn[]): void {
  w.u32(txns.length);
  for (const txn of txns) {
    writeZxid(w, txn.zxid);
    w.bytes(txn.data);
  }
}

// ---- decoding ----------------------------------------------------------------------------------

/** Decodes and validates one message; never throws and never reads outside `bytes`. */
export function decodeZabMessage(bytes: Uint8Array): ZabDecodeResult {
  try {
    const r = new ByteReader(bytes);
    const version = r.u8("version");
    if (version !== ZAB_WIRE_VERSION) r.fail("version", `unknown zab wire version ${version}`);
    const tag = r.u8("tag");
    const type = TYPES_BY_TAG.get(tag) ?? r.fail("tag", `unknown message tag ${tag}`);
    const from = readNodeId(r, "from");
    const to = readNodeId(r, "to");
    const message = readBody(r, type, from, to);
    r.end();
    return { ok: true, message };
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, error: error.message };
    throw error;
  }
}

// Fields are listed, not spread: an object spread with more properties after it is a slow path in V8.
function readBody(r: ByteReader, type: ZabMessageType, from: NodeId, to: NodeId): ZabMessage {
  switch (type) {
    case "notification": {
      const round = r.u64("round");
      const state = NOTIFICATION_STATES[r.u8("state")] ?? r.fail("state", "unknown notification state");
      const vote = {
        leader: readNodeId(r, "vote.leader"),
        epoch: readEpoch(r, "vote.epoch"),
        zxid: readZxid(r, "vote.zxid"),
      };
      return { type, from, to, round, state, vote };
    }
    case "followerInfo":
      return { type, from, to, acceptedEpoch: readEpoch(r, "acceptedEpoch") };
    case "newEpoch":
      return { type, from, to, epoch: readEpoch(r, "epoch") };
    case "ackEpoch":
      return readAckEpoch(r, from, to);
    case "newLeader":
    case "proposal": {
      const e = readEpoch(r, "epoch");
      const prevZxid = readZxid(r, "prevZxid");
      return { type, from, to, epoch: e, prevZxid, txns: readTxns(r, prevZxid, e) };
    }
    case "ack":
    case "commit":
      return { type, from, to, epoch: readEpoch(r, "epoch"), zxid: readZxid(r, "zxid") };
    case "ping":
      return {
        type,
        from,
        to,
        epoch: readEpoch(r, "epoch"),
        committedZxid: readZxid(r, "committedZxid"),
        round: r.u64("round"),
      };
    case "pong": {
      const e = readEpoch(r, "epoch");
      const round = r.u64("round");
      return {
        type,
        from,
        to,
        epoch: e,
        round,
        lastZxid: readZxid(r, "lastZxid"),
        durableZxid: readZxid(r, "durableZxid"),
      };
    }
    case "syncRequest":
      return { type, from, to, context: readBytes(r, "context") };
    case "syncResponse":
      return { type, from, to, epoch: readEpoch(r, "epoch"), context: readBytes(r, "context"), index: r.u64("index") };
    case "forward":
      return { type, from, to, data: readBytes(r, "data") };
    default:
      return assertNever(type, "zab message type");
  }
}

function readAckEpoch(r: ByteReader, from: NodeId, to: NodeId): ZabMessage {
  const e = readEpoch(r, "epoch");
  const promised = r.bool("promised");
  const currentEpoch = readEpoch(r, "currentEpoch");
  const lastZxid = readZxid(r, "lastZxid");
  const count = r.count("extents", EXTENT_BYTES);
  const extents: EpochExtent[] = [];
  for (let k = 0; k < count; k++) {
    const extent = { epoch: readEpoch(r, "extent.epoch"), lastCounter: r.u64("extent.lastCounter") };
    const above = extents.at(-1)?.epoch ?? currentEpoch + 1;
    if (extent.epoch < 1 || extent.epoch >= above || extent.lastCounter < 1) {
      r.fail("extents", `extent ${extent.epoch}.${extent.lastCounter} out of order`);
    }
    extents.push(extent);
  }
  const top = extents[0];
  const summarized = top === undefined ? ZXID_ZERO : { epoch: top.epoch, counter: top.lastCounter };
  if (!zxidEqual(summarized, lastZxid)) r.fail("extents", "the newest extent does not end at lastZxid");
  return { type: "ackEpoch", from, to, epoch: e, promised, currentEpoch, lastZxid, extents };
}

function readTxns(r: ByteReader, prevZxid: Zxid, messageEpoch: Epoch): Txn[] {
  const count = r.count("txns", TXN_BYTES_MIN);
  const txns: Txn[] = [];
  let previous = prevZxid;
  for (let k = 0; k < count; k++) {
    const z = readZxid(r, "txn.zxid");
    if (z.counter === 0 || compareZxid(z, previous) <= 0 || z.epoch > messageEpoch) {
      r.fail(
        "txns",
        `txn ${z.epoch}.${z.counter} does not follow ${previous.epoch}.${previous.counter} in epoch ${messageEpoch}`,
      );
    }
    txns.push({ zxid: z, data: readBytes(r, "txn.data") });
    previous = z;
  }
  return txns;
}

/** A bytes field, copied: a decoded message never aliases the input (see the header). */
function readBytes(r: ByteReader, field: string): Uint8Array {
  return r.bytes(field).slice();
}

function readNodeId(r: ByteReader, field: string): NodeId {
  const id = r.u64(field);
  if (id === 0) r.fail(field, "node id 0");
  return nodeId(id);
}

function readEpoch(r: ByteReader, field: string): Epoch {
  return epoch(r.u64(field));
}

function readZxid(r: ByteReader, field: string): Zxid {
  const e = readEpoch(r, field);
  const counter = r.u64(field);
  // (0, 0) is "no transaction"; any other zxid names one, and the first epoch is 1.
  if ((counter === 0) !== (e === 0)) r.fail(field, `zxid ${e}.${counter} names no transaction`);
  return { epoch: e, counter };
}
