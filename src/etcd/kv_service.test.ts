import assert from "node:assert/strict";
import { test } from "node:test";
import { Status } from "../grpc/status.js";
import { codecOf } from "./codecs.js";
import { fakeMember, plainCall, refusal } from "./fake_context.test.helper.js";
import { range } from "./kv_service.js";
import { compact, deleteRange, put, txn } from "./kv_writes.js";
import type {
  CompactionRequest,
  Compare,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from "./messages/kv.js";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);
const none = new Uint8Array(0);
const call = plainCall();

/** A request as the codec decodes it from the client's bytes, defaults filled in. */
function decoded<T>(type: string, fields: Partial<T>): T {
  const codec = codecOf<T>(type);
  return codec.decode(codec.encode(fields as T, 0));
}

const rangeRequest = (fields: Partial<RangeRequest>): RangeRequest => decoded("RangeRequest", fields);
const putRequest = (key: string, value: string, more: Partial<PutRequest> = {}): PutRequest =>
  decoded<PutRequest>("PutRequest", { key: bytes(key), value: bytes(value), ...more });

test("Put, Range and DeleteRange answer as etcd: prev_kv, the write's revision in the header, counts", async () => {
  const { ctx } = fakeMember();
  const first = await put(ctx, putRequest("foo", "bar"), call);
  assert.equal(first.header?.revision, 1);
  assert.equal(first.prevKv, undefined);
  const second = await put(ctx, putRequest("foo", "bar2", { prevKv: true }), call);
  assert.equal(second.header?.revision, 2);
  assert.equal(text(second.prevKv?.value), "bar");
  await put(ctx, putRequest("foo2", "baz"), call);
  const all = await range(ctx, rangeRequest({ key: bytes("foo"), rangeEnd: bytes("fop") }), call);
  assert.deepEqual(
    all.kvs.map((kv) => `${text(kv.key)}=${text(kv.value)}@${kv.createRevision}/${kv.modRevision}/${kv.version}`),
    ["foo=bar2@1/2/2", "foo2=baz@3/3/1"],
  );
  assert.equal(all.count, 2);
  assert.equal(all.header?.revision, 3);
  const limited = await range(
    ctx,
    rangeRequest({ key: bytes("f"), rangeEnd: new Uint8Array([0]), limit: 1, sortOrder: 2, sortTarget: 4 }),
    call,
  );
  assert.deepEqual([limited.kvs.map((kv) => text(kv.key)), limited.more, limited.count], [["foo2"], true, 2]);
  const counted = await range(ctx, rangeRequest({ key: bytes("foo"), rangeEnd: bytes("fop"), countOnly: true }), call);
  assert.deepEqual([counted.kvs.length, counted.count], [0, 2]);
  const deleted = await deleteRange(
    ctx,
    decoded<DeleteRangeRequest>("DeleteRangeRequest", { key: bytes("foo"), rangeEnd: bytes("fop"), prevKv: true }),
    call,
  );
  assert.deepEqual(
    [deleted.deleted, deleted.prevKvs.map((kv) => text(kv.key)), deleted.header?.revision],
    [2, ["foo", "foo2"], 4],
  );
  const nothing = await deleteRange(
    ctx,
    decoded<DeleteRangeRequest>("DeleteRangeRequest", { key: bytes("nothing") }),
    call,
  );
  assert.deepEqual([nothing.deleted, nothing.header?.revision], [0, 4]);
});

test("a Range's revision: a future one and a compacted one get etcd's errors", async () => {
  const { ctx } = fakeMember();
  await put(ctx, putRequest("c", "1"), call);
  await put(ctx, putRequest("c", "2"), call);
  assert.equal(
    await refusal(() => range(ctx, rangeRequest({ key: bytes("c"), revision: 10 }), call)),
    `${Status.OUT_OF_RANGE} etcdserver: mvcc: required revision is a future revision`,
  );
  const compacted = await compact(
    ctx,
    decoded<CompactionRequest>("CompactionRequest", { revision: 2, physical: true }),
    call,
  );
  assert.equal(compacted.header?.revision, 2);
  assert.equal(
    await refusal(() => range(ctx, rangeRequest({ key: bytes("c"), revision: 1 }), call)),
    `${Status.OUT_OF_RANGE} etcdserver: mvcc: required revision has been compacted`,
  );
  assert.equal(
    await refusal(() => compact(ctx, decoded<CompactionRequest>("CompactionRequest", { revision: 2 }), call)),
    `${Status.OUT_OF_RANGE} etcdserver: mvcc: required revision has been compacted`,
  );
  assert.equal(
    await refusal(() => compact(ctx, decoded<CompactionRequest>("CompactionRequest", { revision: 9 }), call)),
    `${Status.OUT_OF_RANGE} etcdserver: mvcc: required revision is a future revision`,
  );
});

const compare = (fields: Partial<Compare>): Compare => decoded("Compare", fields);
const putOp = (key: string, value: string): RequestOp => ({ requestPut: putRequest(key, value) });
const getOp = (key: string): RequestOp => ({ requestRange: rangeRequest({ key: bytes(key) }) });

test("Txn: compares on every target, both branches, nested txns and ranges, responses with the txn's header", async () => {
  const { ctx } = fakeMember();
  await put(ctx, putRequest("foo", "bar3"), call);
  const success = await txn(
    ctx,
    decoded<TxnRequest>("TxnRequest", {
      compare: [
        compare({ key: bytes("foo"), target: 3, result: 0, value: bytes("bar3") }),
        compare({ key: bytes("foo"), target: 0, result: 1, version: 0 }),
        compare({ key: bytes("foo"), target: 1, result: 2, createRevision: 5 }),
        compare({ key: bytes("foo"), target: 2, result: 3, modRevision: 7 }),
        compare({ key: bytes("foo"), target: 4, result: 0, lease: 0 }),
      ],
      success: [
        putOp("foo", "bar4"),
        getOp("foo"),
        { requestTxn: decoded<TxnRequest>("TxnRequest", { success: [putOp("inner", "1")] }) },
      ],
      failure: [putOp("foo", "nope")],
    }),
    call,
  );
  assert.equal(success.succeeded, true);
  assert.equal(success.header?.revision, 2);
  assert.equal(text(success.responses[1]?.responseRange?.kvs[0]?.value), "bar4");
  assert.equal(success.responses[1]?.responseRange?.header?.revision, 2);
  assert.equal(success.responses[2]?.responseTxn?.succeeded, true);
  const failure = await txn(
    ctx,
    decoded<TxnRequest>("TxnRequest", {
      compare: [compare({ key: bytes("foo"), target: 2, result: 2, modRevision: 1 })],
      success: [putOp("foo", "x")],
      failure: [
        getOp("foo"),
        { requestDeleteRange: decoded<DeleteRangeRequest>("DeleteRangeRequest", { key: bytes("nothing") }) },
      ],
    }),
    call,
  );
  assert.equal(failure.succeeded, false);
  assert.equal(failure.header?.revision, 2, "a txn that wrote nothing answers the store's revision");
  assert.equal(failure.responses[1]?.responseDeleteRange?.deleted, 0);
});

test("etcd's refusals: empty key, duplicate key, too many ops, too large, value/lease provided, key and lease not found", async () => {
  const { ctx } = fakeMember();
  const invalid = Status.INVALID_ARGUMENT;
  assert.equal(await refusal(() => put(ctx, putRequest("", "v"), call)), `${invalid} etcdserver: key is not provided`);
  assert.equal(
    await refusal(() => range(ctx, rangeRequest({ key: none }), call)),
    `${invalid} etcdserver: key is not provided`,
  );
  assert.equal(
    await refusal(() =>
      txn(ctx, decoded<TxnRequest>("TxnRequest", { success: [putOp("d", "1"), putOp("d", "2")] }), call),
    ),
    `${invalid} etcdserver: duplicate key given in txn request`,
  );
  const many = Array.from({ length: 129 }, (_, i) => putOp(`k${i}`, "v"));
  assert.equal(
    await refusal(() => txn(ctx, decoded<TxnRequest>("TxnRequest", { success: many }), call)),
    `${invalid} etcdserver: too many operations in txn request`,
  );
  const big = "x".repeat(1024 * 1024);
  assert.equal(
    await refusal(() =>
      txn(ctx, decoded<TxnRequest>("TxnRequest", { success: [putOp("a", big)], failure: [putOp("b", big)] }), call),
    ),
    `${invalid} etcdserver: request is too large`,
  );
  assert.equal(
    await refusal(() => put(ctx, putRequest("k", "v", { ignoreValue: true }), call)),
    `${invalid} etcdserver: value is provided`,
  );
  assert.equal(
    await refusal(() => put(ctx, putRequest("k", "", { lease: 5, ignoreLease: true }), call)),
    `${invalid} etcdserver: lease is provided`,
  );
  assert.equal(
    await refusal(() => put(ctx, putRequest("absent", "", { ignoreValue: true }), call)),
    `${invalid} etcdserver: key not found`,
  );
  assert.equal(
    await refusal(() => put(ctx, putRequest("k", "v", { lease: 0x1234abcd }), call)),
    `${Status.NOT_FOUND} etcdserver: requested lease not found`,
  );
  assert.equal(ctx.kv.revision(), 0, "no refusal wrote anything");
});

test("malformed requests get INVALID_ARGUMENT and change nothing", async () => {
  const { ctx } = fakeMember();
  const invalid = `${Status.INVALID_ARGUMENT} `;
  const cases: (() => unknown)[] = [
    () => range(ctx, rangeRequest({ key: bytes("k"), sortOrder: 7 }), call),
    () => range(ctx, rangeRequest({ key: bytes("k"), sortTarget: 9 }), call),
    () => range(ctx, rangeRequest({ key: bytes("k"), limit: -1 }), call),
    () => range(ctx, rangeRequest({ key: bytes("k"), revision: -3 }), call),
    () => put(ctx, putRequest("k", "v", { lease: -1 }), call),
    () => put(ctx, { ...putRequest("k", "v"), key: new Uint8Array(9000) }, call),
    () => txn(ctx, decoded<TxnRequest>("TxnRequest", { success: [{}] }), call),
    () => txn(ctx, decoded<TxnRequest>("TxnRequest", { compare: [compare({ key: bytes("k"), target: 9 })] }), call),
    () => txn(ctx, decoded<TxnRequest>("TxnRequest", { compare: [compare({ key: bytes("k"), result: 8 })] }), call),
    () =>
      txn(
        ctx,
        decoded<TxnRequest>("TxnRequest", { compare: [compare({ key: bytes("k"), target: 0, version: -1 })] }),
        call,
      ),
    () =>
      txn(
        ctx,
        decoded<TxnRequest>("TxnRequest", {
          success: [getOp("k")].map((op) => ({ requestRange: { ...op.requestRange!, revision: 1 } })),
        }),
        call,
      ),
    () => compact(ctx, { revision: -1, physical: false }, call),
  ];
  for (const run of cases) assert.ok((await refusal(run)).startsWith(invalid), String(run));
  assert.equal(ctx.kv.revision(), 0);
});
