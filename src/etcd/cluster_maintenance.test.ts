import assert from "node:assert/strict";
import { test } from "node:test";
import { Status } from "../grpc/status.js";
import { nodeIdOf } from "../node/index.js";
import { memberAdd, memberNameOf, memberPromote, memberRemove, memberUpdate } from "./cluster_changes.js";
import { memberList } from "./cluster_service.js";
import { fakeMember, plainCall, refusal } from "./fake_context.test.helper.js";
import { put } from "./kv_writes.js";
import { alarm, defragment, hashAll, hashKV, moveLeader, snapshot } from "./maintenance_ops.js";
import type { SnapshotResponse } from "./messages/maintenance.js";
import type { StreamWriter } from "../grpc/call.js";

const call = plainCall("/etcdserverpb.Cluster/MemberAdd");
const spare = "http://127.0.0.1:23801";

test("a member added by peer URL is named host-port, listed unstarted (no name) until heard from", async () => {
  assert.equal(memberNameOf("127.0.0.1:23801"), "127.0.0.1-23801");
  assert.equal(memberNameOf("[::1]:23801"), "---1--23801");
  const fake = fakeMember();
  const added = await memberAdd(fake.ctx, { peerURLs: [spare], isLearner: true }, call);
  const id = nodeIdOf("127.0.0.1-23801");
  assert.deepEqual(added.member, { ID: id, name: "", peerURLs: [spare], clientURLs: [], isLearner: true });
  assert.equal(added.members.length, 4);
  fake.started.add(id);
  const listed = await memberList(fake.ctx, { linearizable: false }, call);
  assert.equal(listed.members.find((m) => m.ID === id)?.name, "127.0.0.1-23801");
  assert.equal(
    await refusal(() => memberAdd(fake.ctx, { peerURLs: [spare], isLearner: true }, call)),
    `${Status.FAILED_PRECONDITION} etcdserver: Peer URLs already exists`,
  );
});

test("MemberAdd refuses bad URLs, several URLs and voters, changing nothing", async () => {
  const fake = fakeMember();
  const bad = `${Status.INVALID_ARGUMENT} etcdserver: given member URLs are invalid`;
  for (const peerURLs of [[], ["not a url"], ["ftp://127.0.0.1:1"], ["http://127.0.0.1"], ["http://h:1/path"]])
    assert.equal(await refusal(() => memberAdd(fake.ctx, { peerURLs, isLearner: true }, call)), bad, String(peerURLs));
  assert.match(
    await refusal(() => memberAdd(fake.ctx, { peerURLs: [spare, "http://127.0.0.1:2"], isLearner: true }, call)),
    /^3 raftkv members have one peer URL each/,
  );
  assert.match(
    await refusal(() => memberAdd(fake.ctx, { peerURLs: [spare], isLearner: false }, call)),
    /^9 raftkv adds/,
  );
  assert.equal(fake.membership.length, 3);
});

test("MemberPromote and MemberRemove answer etcd's errors; MemberUpdate is UNIMPLEMENTED", async () => {
  const fake = fakeMember();
  const { member } = await memberAdd(fake.ctx, { peerURLs: [spare], isLearner: true }, call);
  fake.refuseNext = "learnerBehind";
  assert.equal(
    await refusal(() => memberPromote(fake.ctx, { ID: member!.ID }, call)),
    `${Status.FAILED_PRECONDITION} etcdserver: can only promote a learner member which is in sync with leader`,
  );
  const promoted = await memberPromote(fake.ctx, { ID: member!.ID }, call);
  assert.equal(promoted.members.find((m) => m.ID === member!.ID)?.isLearner, false);
  assert.equal(
    await refusal(() => memberPromote(fake.ctx, { ID: member!.ID }, call)),
    `${Status.FAILED_PRECONDITION} etcdserver: can only promote a learner member`,
  );
  const removed = await memberRemove(fake.ctx, { ID: member!.ID }, call);
  assert.equal(removed.members.length, 3);
  assert.equal(
    await refusal(() => memberRemove(fake.ctx, { ID: member!.ID }, call)),
    `${Status.NOT_FOUND} etcdserver: member not found`,
  );
  assert.equal(
    await refusal(() => memberPromote(fake.ctx, { ID: 42 }, call)),
    `${Status.NOT_FOUND} etcdserver: member not found`,
  );
  assert.match(await refusal(() => memberUpdate(fake.ctx, { ID: 1, peerURLs: [] }, call)), /^12 raftkv cannot change/);
});

test("a follower passes a change to the leader once; with no leader known it says so", async () => {
  const fake = fakeMember();
  fake.role = "follower";
  fake.leader = 0;
  assert.equal(
    await refusal(() => memberRemove(fake.ctx, { ID: 1 }, call)),
    `${Status.UNAVAILABLE} etcdserver: no leader`,
  );
  fake.leader = nodeIdOf("n2");
  const forwarded = { ...call, metadata: { "raftkv-forwarded": "n3" } };
  assert.equal(
    await refusal(() => memberRemove(fake.ctx, { ID: 1 }, forwarded)),
    `${Status.FAILED_PRECONDITION} etcdserver: not leader`,
  );
});

test("MoveLeader: on the leader only, to a voter, answering once the target leads", async () => {
  const fake = fakeMember();
  const n2 = nodeIdOf("n2");
  assert.equal(
    await refusal(() => moveLeader(fake.ctx, { targetID: 42 }, call)),
    `${Status.FAILED_PRECONDITION} etcdserver: bad leader transferee`,
  );
  await moveLeader(fake.ctx, { targetID: n2 }, call);
  assert.equal(fake.leader, n2);
  assert.equal(
    await refusal(() => moveLeader(fake.ctx, { targetID: n2 }, call)),
    `${Status.FAILED_PRECONDITION} etcdserver: not leader`,
  );
});

test("Alarm lists none, Defragment is OK, HashKV follows the state, Snapshot streams the store in chunks", async () => {
  const fake = fakeMember();
  assert.deepEqual(alarm(fake.ctx, { action: 0, memberID: 0, alarm: 0 }, call).alarms, []);
  assert.match(await refusal(() => alarm(fake.ctx, { action: 1, memberID: 0, alarm: 1 }, call)), /^12 /);
  assert.ok(defragment(fake.ctx, {}, call).header !== undefined);
  const empty = hashKV(fake.ctx, { revision: 0 }, call).hash;
  await put(
    fake.ctx,
    {
      key: new Uint8Array([1]),
      value: new Uint8Array(200_000),
      lease: 0,
      prevKv: false,
      ignoreValue: false,
      ignoreLease: false,
    },
    call,
  );
  const one = hashKV(fake.ctx, { revision: 0 }, call);
  assert.notEqual(one.hash, empty);
  assert.equal(hashAll(fake.ctx, {}, call).hash, one.hash);
  assert.equal(one.header?.revision, 1);
  assert.equal(
    await refusal(() => hashKV(fake.ctx, { revision: 5 }, call)),
    `${Status.OUT_OF_RANGE} etcdserver: mvcc: required revision is a future revision`,
  );
  const chunks: SnapshotResponse[] = [];
  const out = {
    write: (m: SnapshotResponse) => {
      chunks.push(m);
      return Promise.resolve();
    },
  };
  await snapshot(fake.ctx, {}, out as unknown as StreamWriter<SnapshotResponse>, call);
  const whole = Buffer.concat(chunks.map((c) => c.blob));
  assert.ok(chunks.length > 1);
  assert.deepEqual(new Uint8Array(whole), fake.kv.snapshot());
  assert.equal(chunks.at(-1)?.remainingBytes, 0);
});
