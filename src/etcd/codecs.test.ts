import { test } from "node:test";
import assert from "node:assert/strict";
import { codecOf } from "./codecs.js";
import { etcdFixtures } from "./fixtures.test.helper.js";
import type * as kv from "./messages/kv.js";
import type * as cluster from "./messages/cluster.js";
import type * as maintenance from "./messages/maintenance.js";
import type * as watch from "./messages/watch.js";
import type * as auth from "./messages/auth.js";
import type * as lease from "./messages/lease.js";
import type * as records from "./messages/records.js";
import { etcdServices } from "./messages/services.js";

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, "hex"));
const text = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? []).toString("utf8");
const encoded = (name: string, message: unknown): string => codecOf(name).encode(message, 0).toString("hex");

test("etcdctl's requests decode to what it was asked, and re-encode to the same bytes", () => {
  const put = codecOf<kv.PutRequest>("PutRequest").decode(hex(etcdFixtures.putPrevKvRequest));
  assert.equal(text(put.key), "foo");
  assert.equal(text(put.value), "bär");
  assert.equal(put.prevKv, true);
  assert.equal(put.lease, 0);
  const range = codecOf<kv.RangeRequest>("RangeRequest").decode(hex(etcdFixtures.rangeRequest));
  assert.deepEqual([text(range.key), text(range.rangeEnd), range.limit, range.serializable], ["k/", "k0", 10, false]);
  const serializable = codecOf<kv.RangeRequest>("RangeRequest").decode(hex(etcdFixtures.serializableRangeRequest));
  assert.deepEqual([text(serializable.key), serializable.revision, serializable.serializable], ["foo", 2, true]);
  const del = codecOf<kv.DeleteRangeRequest>("DeleteRangeRequest").decode(hex(etcdFixtures.deleteRangeRequest));
  assert.deepEqual([text(del.key), text(del.rangeEnd), del.prevKv], ["k/", "k0", true]);
  for (const [name, fixture] of [
    ["PutRequest", etcdFixtures.putRequest],
    ["PutRequest", etcdFixtures.putPrevKvRequest],
    ["RangeRequest", etcdFixtures.rangeRequest],
    ["RangeRequest", etcdFixtures.serializableRangeRequest],
    ["DeleteRangeRequest", etcdFixtures.deleteRangeRequest],
  ] as const)
    assert.equal(encoded(name, codecOf(name).decode(hex(fixture))), fixture, name);
});

test("etcd's responses decode: header, key-values, members, status; a lease id beyond 2^53 is refused", () => {
  const range = codecOf<kv.RangeResponse>("RangeResponse").decode(hex(etcdFixtures.rangeResponse));
  assert.equal(range.kvs.length, 10);
  assert.equal(range.count, 10);
  assert.equal(range.more, false);
  assert.deepEqual(
    range.kvs.map(
      (kvp) => `${text(kvp.key)}=${text(kvp.value)}@${kvp.createRevision}/${kvp.modRevision}/${kvp.version}`,
    ),
    Array.from({ length: 10 }, (_, i) => `k/${i}=v${i}@${i + 4}/${i + 4}/1`),
  );
  assert.equal(range.header?.revision, 13);
  assert.equal(range.header?.raftTerm, 2);
  assert.ok(range.header.clusterId > 2 ** 53, "etcd's cluster id is rounded, not refused");
  const put = codecOf<kv.PutResponse>("PutResponse").decode(hex(etcdFixtures.putPrevKvResponse));
  assert.equal(text(put.prevKv?.value), "bar");
  assert.equal(put.header?.revision, 3);
  const del = codecOf<kv.DeleteRangeResponse>("DeleteRangeResponse").decode(hex(etcdFixtures.deleteRangeResponse));
  assert.equal(del.deleted, 10);
  assert.equal(del.prevKvs.length, 10);
  const members = codecOf<cluster.MemberListResponse>("MemberListResponse").decode(
    hex(etcdFixtures.memberListResponse),
  );
  assert.deepEqual(
    members.members.map((m) => [m.name, m.peerURLs, m.clientURLs, m.isLearner]),
    [["default", ["http://127.0.0.1:23800"], ["http://127.0.0.1:23790"], false]],
  );
  const status = codecOf<maintenance.StatusResponse>("StatusResponse").decode(hex(etcdFixtures.statusResponse));
  assert.equal(status.version, "3.4.23");
  assert.equal(status.raftIndex, status.raftAppliedIndex);
  assert.ok(status.dbSize > 0);
  assert.throws(
    () => codecOf("LeaseGrantResponse").decode(hex(etcdFixtures.leaseGrantResponse)),
    /LeaseGrantResponse\.ID: value above 2\^53 - 1/,
  );
});

test("round trips keep every kind: nested, repeated, oneof presence, packed enums, negative int64, UTF-8", () => {
  const txn: kv.TxnRequest = {
    compare: [
      { result: 0, target: 0, key: hex("61"), version: 0, rangeEnd: new Uint8Array(0) },
      { result: 3, target: 3, key: hex("62"), value: hex("ff00"), rangeEnd: hex("63") },
    ],
    success: [
      {
        requestPut: { key: hex("61"), value: hex(""), lease: 7, prevKv: true, ignoreValue: false, ignoreLease: false },
      },
    ],
    failure: [
      {
        requestRange: {
          key: hex("61"),
          rangeEnd: hex(""),
          limit: 0,
          revision: 0,
          sortOrder: 2,
          sortTarget: 4,
          serializable: false,
          keysOnly: true,
          countOnly: false,
          minModRevision: 0,
          maxModRevision: 0,
          minCreateRevision: 0,
          maxCreateRevision: 0,
        },
      },
    ],
  };
  const codec = codecOf<kv.TxnRequest>("TxnRequest");
  assert.deepEqual(codec.decode(Uint8Array.from(codec.encode(txn, 0))), txn);
  const create: watch.WatchRequest = {
    createRequest: {
      key: hex("61"),
      rangeEnd: hex(""),
      startRevision: 5,
      progressNotify: true,
      filters: [0, 1],
      prevKv: true,
      watchId: 0,
      fragment: false,
    },
  };
  const watchCodec = codecOf<watch.WatchRequest>("WatchRequest");
  assert.deepEqual(watchCodec.decode(Uint8Array.from(watchCodec.encode(create, 0))), create);
  const status: maintenance.StatusResponse = {
    header: { clusterId: 1, memberId: 2, revision: 3, raftTerm: 4 },
    version: "3.4.23-raftkv ✓",
    dbSize: 1234,
    leader: 2 ** 32 - 1,
    raftIndex: Number.MAX_SAFE_INTEGER,
    raftTerm: 4,
    raftAppliedIndex: 9,
    errors: ["a", "b"],
    dbSizeInUse: -1,
    isLearner: false,
  };
  const statusCodec = codecOf<maintenance.StatusResponse>("StatusResponse");
  assert.deepEqual(statusCodec.decode(statusCodec.encode(status, 0)), status);
  // Headroom is left for the gRPC prefix.
  assert.equal(statusCodec.encode(status, 5).length, statusCodec.encode(status, 0).length + 5);
});

test("messages of the other files round-trip: an mvccpb Event, a lease grant, an authentication", () => {
  const event: records.Event = {
    type: 1,
    kv: { key: hex("61"), createRevision: 1, modRevision: 2, version: 1, value: hex(""), lease: 0 },
  };
  const eventCodec = codecOf<records.Event>("Event");
  assert.deepEqual(eventCodec.decode(Uint8Array.from(eventCodec.encode(event, 0))), event);
  const grant: lease.LeaseGrantRequest = { TTL: 60, ID: 0 };
  assert.deepEqual(
    codecOf<lease.LeaseGrantRequest>("LeaseGrantRequest").decode(codecOf("LeaseGrantRequest").encode(grant, 0)),
    grant,
  );
  const authenticate: auth.AuthenticateRequest = { name: "root", password: "pässword" };
  const authCodec = codecOf<auth.AuthenticateRequest>("AuthenticateRequest");
  assert.deepEqual(authCodec.decode(authCodec.encode(authenticate, 0)), authenticate);
});

test("every call of the six services has codecs for its request and response", () => {
  let calls = 0;
  for (const methods of Object.values(etcdServices))
    for (const [, request, response] of methods) {
      codecOf(request).decode(new Uint8Array(0));
      codecOf(response).decode(new Uint8Array(0));
      calls++;
    }
  assert.ok(calls >= 40, `${calls} calls`);
});

test("malformed bytes are refused with a ProtoError naming the problem", () => {
  const codec = codecOf<kv.RangeRequest>("RangeRequest");
  assert.throws(() => codec.decode(hex("0a05666f")), /runs past the end/);
  assert.throws(() => codec.decode(hex("18")), /truncated varint/);
  assert.throws(() => codec.decode(hex("0803")), /RangeRequest.key: wire type 0, expected 2/);
  assert.throws(() => codec.decode(hex("208080808080808080f001")), /RangeRequest.revision: value below/);
  // Unknown fields are skipped, as protobuf requires.
  assert.equal(text(codec.decode(hex("0a0161f80701")).key), "a");
});
