import { test } from "node:test";
import assert from "node:assert/strict";
import { GrpcError, Status } from "../grpc/status.js";
import { rawCodec } from "../grpc/test_support.test.helper.js";
import { codecOf } from "./codecs.js";
import type * as lease from "./messages/lease.js";
import { startFakeMember, type FakeMember } from "./served_member.test.helper.js";

const bytes = (text: string): Uint8Array => Buffer.from(text, "latin1");

function unary<R>(member: FakeMember, call: string, request: unknown): Promise<R> {
  return member.client.unary(
    `/etcdserverpb.Lease/${call}`,
    codecOf<unknown>(`${call}Request`),
    codecOf<R>(`${call}Response`),
    request,
  );
}

const grant = (member: FakeMember, TTL: number, ID = 0): Promise<lease.LeaseGrantResponse> =>
  unary(member, "LeaseGrant", { TTL, ID });
const timeToLive = (member: FakeMember, ID: number, keys = true): Promise<lease.LeaseTimeToLiveResponse> =>
  unary(member, "LeaseTimeToLive", { ID, keys });

async function refusal(call: Promise<unknown>): Promise<[number, string]> {
  const error = await call.then(
    () => assert.fail("the call was accepted"),
    (e: unknown) => e,
  );
  assert.ok(error instanceof GrpcError, String(error));
  return [error.code, error.message];
}

/** A varint as protobuf writes it (for values the codecs will not encode). */
function varint(value: bigint): number[] {
  const out: number[] = [];
  let rest = BigInt.asUintN(64, value);
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return out;
}

test("LeaseGrant: the id asked for or one picked, the minimum TTL, etcd's refusals", async () => {
  const member = await startFakeMember();
  try {
    const chosen = await grant(member, 1, 42);
    // electionTimeoutMs 1000: the minimum TTL is 2 s, as etcd raises a short TTL to its minimum.
    assert.deepEqual([chosen.ID, chosen.TTL, chosen.error], [42, 2, ""]);
    const picked = await grant(member, 30);
    assert.ok(Number.isSafeInteger(picked.ID) && picked.ID > 0 && picked.ID !== 42);
    assert.equal(picked.TTL, 30);
    const shortest = await grant(member, 0);
    assert.equal(shortest.TTL, 2);
    assert.deepEqual(await refusal(grant(member, 30, 42)), [
      Status.FAILED_PRECONDITION,
      "etcdserver: lease already exists",
    ]);
    assert.deepEqual(await refusal(grant(member, 9_000_000_001)), [
      Status.OUT_OF_RANGE,
      "etcdserver: too large lease TTL",
    ]);
    assert.equal((await refusal(grant(member, 30, -7)))[0], Status.INVALID_ARGUMENT);
    const beyond = Uint8Array.from([0x08, 30, 0x10, ...varint(2n ** 60n)]);
    const raw = member.client.unary("/etcdserverpb.Lease/LeaseGrant", rawCodec, rawCodec, beyond);
    assert.equal((await refusal(raw))[0], Status.INVALID_ARGUMENT);
    const listed = await unary<lease.LeaseLeasesResponse>(member, "LeaseLeases", {});
    const ids = [42, picked.ID, shortest.ID].sort((a, b) => a - b);
    assert.deepEqual(
      listed.leases.map((l) => l.ID),
      ids,
      "ascending ids",
    );
  } finally {
    await member.close();
  }
});

test("LeaseTimeToLive with keys, LeaseRevoke, and a lease that is gone (TTL -1, NOT_FOUND)", async () => {
  const member = await startFakeMember();
  try {
    await grant(member, 60, 7);
    await member.apply({ type: "put", key: bytes("b"), value: bytes("2"), lease: 7 });
    await member.apply({ type: "put", key: bytes("a"), value: bytes("1"), lease: 7 });
    const live = await timeToLive(member, 7);
    assert.deepEqual([live.ID, live.grantedTTL], [7, 60]);
    assert.ok(live.TTL >= 58 && live.TTL <= 60, `TTL ${live.TTL}`);
    assert.deepEqual(
      live.keys.map((k) => Buffer.from(k).toString()),
      ["a", "b"],
    );
    assert.deepEqual((await timeToLive(member, 7, false)).keys, []);
    const revoked = await unary<lease.LeaseRevokeResponse>(member, "LeaseRevoke", { ID: 7 });
    assert.equal(revoked.header?.revision, member.node.kv.revision());
    assert.equal(member.node.kv.get(bytes("a")), null, "the lease's keys went with it");
    const gone = await timeToLive(member, 7);
    assert.deepEqual([gone.ID, gone.TTL, gone.grantedTTL], [7, -1, 0]);
    assert.deepEqual(await refusal(unary(member, "LeaseRevoke", { ID: 7 })), [
      Status.NOT_FOUND,
      "etcdserver: requested lease not found",
    ]);
    assert.equal((await timeToLive(member, 0)).TTL, -1);
  } finally {
    await member.close();
  }
});

test("LeaseKeepAlive answers each request in order: the TTL, or 0 for a lease that is gone", async () => {
  const member = await startFakeMember();
  try {
    await grant(member, 20, 5);
    const stream = member.client.bidi(
      "/etcdserverpb.Lease/LeaseKeepAlive",
      codecOf<lease.LeaseKeepAliveRequest>("LeaseKeepAliveRequest"),
      codecOf<lease.LeaseKeepAliveResponse>("LeaseKeepAliveResponse"),
    );
    for (const ID of [5, 99, 5, 0]) stream.write({ ID });
    stream.end();
    const answers: [number, number][] = [];
    for await (const response of stream) answers.push([response.ID, response.TTL]);
    assert.deepEqual(answers, [
      [5, 20],
      [99, 0],
      [5, 20],
      [0, 0],
    ]);
    assert.equal((await stream.status).code, Status.OK);
  } finally {
    await member.close();
  }
});

test("a follower passes grant, keepalive and time-to-live on to the leader", async () => {
  const leader = await startFakeMember();
  const follower = await startFakeMember({ follower: true, leaderUrl: leader.url });
  try {
    const granted = await grant(follower, 40, 11);
    assert.deepEqual([granted.ID, granted.TTL], [11, 40]);
    assert.ok(leader.node.kv.leaseInfo(11) !== undefined, "the lease is the leader's");
    assert.equal((await timeToLive(follower, 11)).grantedTTL, 40);
    const stream = follower.client.bidi(
      "/etcdserverpb.Lease/LeaseKeepAlive",
      codecOf<lease.LeaseKeepAliveRequest>("LeaseKeepAliveRequest"),
      codecOf<lease.LeaseKeepAliveResponse>("LeaseKeepAliveResponse"),
    );
    stream.write({ ID: 11 });
    stream.write({ ID: 12 });
    stream.end();
    const answers: number[] = [];
    for await (const response of stream) answers.push(response.TTL);
    assert.deepEqual(answers, [40, 0]);
  } finally {
    await follower.close();
    await leader.close();
  }
});
