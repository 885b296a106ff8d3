/**
 * The lessor against a node reduced to what it uses and a clock moved by hand, for what the
 * simulator cannot stage exactly: the order of timers, input and `soon` after a stall, a read
 * barrier that is slow to return, revokes held in flight or failing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeCommand } from "../kv/index.js";
import { NodeRequestError } from "../node/index.js";
import { drainMicrotasks, FakeNode, ManualClock } from "./fake_member.test.helper.js";
import { LeaseError, Lessor, minimumTtlSeconds } from "./index.js";

const electionTimeoutMs = 1000;

function member(): { node: FakeNode; clock: ManualClock; lessor: Lessor } {
  const node = new FakeNode();
  const clock = new ManualClock();
  let draws = 0;
  // Draws that make the ids 1, 2, 3...: the high draw 0, the low one n / 2^32.
  const random = (): number => (draws++ % 2 === 0 ? 0 : Math.ceil(draws / 2) / 2 ** 32);
  const lessor = new Lessor({ kv: node.kv, node, clock, electionTimeoutMs, random });
  return { node, clock, lessor };
}

test("the minimum TTL is 1.5 election timeouts in whole seconds, and a grant is raised to it", async () => {
  assert.equal(minimumTtlSeconds(150), 1);
  assert.equal(minimumTtlSeconds(1000), 2);
  assert.equal(minimumTtlSeconds(1400), 3);
  const { node, lessor } = member();
  assert.deepEqual(await lessor.grant(1), { id: 1, ttlSeconds: 2 });
  assert.deepEqual(await lessor.grant(60, 7), { id: 7, ttlSeconds: 60 });
  await assert.rejects(lessor.grant(60, 7), (error) => error instanceof LeaseError && error.code === "leaseExists");
  // The random draw lands on 2, then 3; ids in use are drawn again.
  await lessor.grant(5, 3);
  assert.deepEqual(await lessor.grant(5), { id: 2, ttlSeconds: 5 });
  assert.deepEqual(await lessor.grant(5), { id: 4, ttlSeconds: 5 });
  assert.deepEqual(
    node.kv.leases().map((lease) => lease.id),
    [1, 2, 3, 4, 7],
  );
  await assert.rejects(lessor.grant(0), RangeError);
  await assert.rejects(lessor.grant(1.5), RangeError);
  lessor.close();
});

test("off the leader, grant, keepalive and timeToLive refuse for the caller to forward", async () => {
  const { node, lessor } = member();
  const { id } = await lessor.grant(10);
  node.role = "follower";
  node.leader = 2 as typeof node.leader;
  const notLeader = (error: unknown): boolean => error instanceof NodeRequestError && error.detail.type === "notLeader";
  await assert.rejects(lessor.grant(10), notLeader);
  await assert.rejects(lessor.keepAlive(id), notLeader);
  await assert.rejects(lessor.timeToLive(id), notLeader);
  node.leader = 0 as typeof node.leader;
  await assert.rejects(
    lessor.keepAlive(id),
    (error) => error instanceof NodeRequestError && error.detail.type === "noLeader",
  );
  // Any member revokes and lists.
  assert.deepEqual(await lessor.leases(), [{ id, ttlSeconds: 10, remainingMs: undefined }]);
  assert.equal((await lessor.revoke(id)).deleted, 0);
  lessor.close();
});

test("leading again, in a new term, a member extends every lease by an election timeout", async () => {
  const { node, clock, lessor } = member();
  const { id } = await lessor.grant(10);
  await clock.advance(4000);
  assert.equal((await lessor.timeToLive(id)).remainingMs, 6000);
  node.role = "follower";
  await clock.advance(5000);
  node.role = "leader";
  node.term = 2;
  await clock.advance(5100);
  assert.equal((await lessor.timeToLive(id)).remainingMs, 10_000 + electionTimeoutMs);
  assert.deepEqual(node.revokesProposed(), []);
  lessor.close();
});

test("a keepalive counts from its arrival: after a stall, the expiry check waits for it while its barrier runs", async () => {
  const { node, clock, lessor } = member();
  const { id } = await lessor.grant(2);
  await clock.advance(1500);
  let confirm = (): void => undefined;
  node.barrier = () => new Promise((resolve) => (confirm = resolve));
  // The process was stopped past the deadline; a keepalive waited in the socket meanwhile.
  clock.stall(1500);
  await clock.runTimers();
  const renewed = lessor.keepAlive(id);
  await clock.runSoon();
  await clock.runSoon();
  assert.deepEqual(node.revokesProposed(), [], "the expiry check counted the keepalive waiting on its barrier");
  confirm();
  assert.deepEqual(await renewed, { id, ttlSeconds: 2 });
  await clock.advance(clock.now() + 1900);
  assert.deepEqual(node.revokesProposed(), []);
  await clock.advance(clock.now() + 200);
  assert.deepEqual(node.revokesProposed(), [id], "unrenewed since, it expires a TTL after the answer");
  lessor.close();
});

test("after a stall, the expiry decision also waits for input whose handler takes a turn to reach the lessor", async () => {
  const { node, clock, lessor } = member();
  const { id } = await lessor.grant(2);
  clock.stall(3000);
  await clock.runTimers();
  // The request's handler, in the poll phase, finishes reading it in a turn of its own.
  let renewed: Promise<unknown> | undefined;
  clock.soon(() => {
    renewed = lessor.keepAlive(id);
  });
  await clock.runSoon();
  await clock.runSoon();
  await clock.runSoon();
  assert.deepEqual(node.revokesProposed(), []);
  assert.deepEqual(await renewed, { id, ttlSeconds: 2 });
  lessor.close();
});

test("a keepalive waits for the revoke of its lease in flight, and then says the lease is gone", async () => {
  const { node, clock, lessor } = member();
  const { id } = await lessor.grant(2);
  let applyRevokes = (): void => undefined;
  const revokesHeld = new Promise<void>((resolve) => (applyRevokes = resolve));
  let held = 0;
  const propose = node.propose.bind(node);
  node.propose = (command) => {
    const decoded = decodeCommand(command);
    if (!decoded.ok || decoded.command.type !== "leaseRevoke") return propose(command);
    held++;
    return revokesHeld.then(() => propose(command));
  };
  await clock.advance(2100);
  assert.equal(held, 1, "the expiry's revoke is in flight");
  const renewed = lessor.keepAlive(id);
  await drainMicrotasks();
  applyRevokes();
  await assert.rejects(renewed, (error) => error instanceof LeaseError && error.code === "leaseNotFound");
  assert.deepEqual(node.revokesProposed(), [id]);
  lessor.close();
});

test("a revoke that fails is proposed again by a later check", async () => {
  const { node, clock, lessor } = member();
  const { id } = await lessor.grant(2);
  let failures = 2;
  node.refuse = (command) => command.type === "leaseRevoke" && failures-- > 0;
  await clock.advance(2000);
  await clock.advance(2350);
  assert.deepEqual(node.revokesProposed(), [id, id, id]);
  assert.equal(node.kv.leaseInfo(id), undefined);
  lessor.close();
});

test("a grant is answered after a read barrier: its TTL runs from the answer, and a leader deposed meanwhile refuses", async () => {
  const { node, clock, lessor } = member();
  let confirm = (): void => undefined;
  node.barrier = () => new Promise((resolve) => (confirm = resolve));
  const granted = lessor.grant(3);
  await drainMicrotasks();
  // The entry applied at 0; the barrier confirms the leader 500 ms later.
  await clock.advance(500);
  confirm();
  const { id } = await granted;
  assert.equal(lessor.deadlineOf(id), 500 + 3000, "the TTL counts from the answer");

  const refused = lessor.grant(3);
  await drainMicrotasks();
  // Another leader took over (this member's loop stalled, say) before the barrier returned.
  node.term = 2;
  confirm();
  await assert.rejects(refused, (error) => error instanceof NodeRequestError && error.detail.type === "notLeader");
  assert.equal(node.kv.leases().length, 2, "the lease it created lives on unrenewed, to expire");
  lessor.close();
});

test("a barrier that took over half an election timeout is too old to promise from: a keepalive confirms again, then gives up", async () => {
  const { node, clock, lessor } = member();
  const { id } = await lessor.grant(5);
  let barriers = 0;
  let confirm = (): void => undefined;
  node.barrier = () => {
    barriers++;
    return new Promise((resolve) => (confirm = resolve));
  };
  const renewed = lessor.keepAlive(id);
  await drainMicrotasks();
  await clock.advance(600);
  confirm();
  await drainMicrotasks();
  assert.equal(barriers, 2, "the first barrier took 600 ms of the 500 it may: a second one");
  confirm();
  assert.deepEqual(await renewed, { id, ttlSeconds: 5 });
  assert.equal(lessor.deadlineOf(id), 600 + 5000);

  const slow = lessor.keepAlive(id);
  for (let k = 0; k < 3; k++) {
    await drainMicrotasks();
    await clock.advance(clock.now() + 600);
    confirm();
  }
  await assert.rejects(slow, (error) => error instanceof NodeRequestError && error.detail.type === "timeout");
  assert.equal(barriers, 5);
  lessor.close();
});
