import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8, utf8 } from "../../util/bytes.js";
import { nodeId, type NodeId } from "../../util/ids.js";
import { Prng } from "../../util/prng.js";
import { Cluster } from "./cluster.test.helper.js";
import type { Message } from "./messages.js";
import { BasicPaxos } from "./node.js";
import type { Outcome } from "./state.js";

const [A, B, C] = [nodeId(1), nodeId(2), nodeId(3)];
const chosen = (value: string): Outcome => ({ type: "chosen", value: utf8(value) });
const is =
  (type: Message["type"], from?: NodeId, to?: NodeId) =>
  (m: Message): boolean =>
    m.type === type && (from === undefined || m.from === from) && (to === undefined || m.to === to);

test("a write on a quiet cluster is decided, every member learns it, and a read anywhere returns it", () => {
  const c = new Cluster(3);
  assert.deepEqual(c.member(A).propose("r", utf8("v"), 1), { ok: true });
  c.run(A);
  c.settle();
  assert.deepEqual(c.outcomeOf(A, 1)?.outcome, chosen("v"));
  for (const id of c.ids) assert.equal(fromUtf8(c.member(id).chosen("r") ?? utf8("?")), "v", `member ${id}`);
  c.member(B).read("r", 2);
  c.run(B);
  assert.deepEqual(c.outcomeOf(B, 2)?.outcome, chosen("v"), "a learned decision answers at once");
  assert.equal(c.network.length, 0, "without a round");
  c.checkLearners();
});

test("a later write to a decided register gets the first write's value", () => {
  const c = new Cluster(3);
  c.member(A).propose("r", utf8("first"), 1);
  c.run(A);
  c.settle();
  c.member(C).propose("r", utf8("second"), 2);
  c.run(C);
  c.settle();
  assert.deepEqual(c.outcomeOf(C, 2)?.outcome, chosen("first"));
});

test("a read of an undecided register answers empty after one round and decides nothing", () => {
  const c = new Cluster(3);
  c.member(B).read("r", 7);
  c.run(B);
  c.settle();
  assert.deepEqual(c.outcomeOf(B, 7)?.outcome, { type: "empty" });
  assert.equal(c.decided.size, 0);
  assert.equal(c.member(B).status().requestsPending, 0);
});

/** A proposes "a"; its Accept reaches only its own acceptor, so "a" is accepted once and not decided. */
function acceptedOnlyByA(c: Cluster): void {
  c.member(A).propose("r", utf8("a"), 1);
  c.run(A);
  c.deliver(is("prepare", A));
  c.deliver(is("promise", undefined, A));
  assert.equal(c.drop(is("accept", A)), 2, "the Accepts to B and C are lost");
  c.drop(is("accepted"));
}

test("a proposer whose quorum reports an accepted value proposes that value, not its own", () => {
  const c = new Cluster(3);
  acceptedOnlyByA(c);
  c.member(B).propose("r", utf8("b"), 2);
  c.run(B);
  c.drop(is("prepare", B, C));
  c.deliver(is("prepare", B, A));
  c.settle();
  assert.deepEqual(c.outcomeOf(B, 2)?.outcome, chosen("a"), "A's promise reported (ballot, a)");
  c.checkLearners();
});

test("a proposer whose quorum reports nothing accepted proposes its own value", () => {
  const c = new Cluster(3);
  acceptedOnlyByA(c);
  c.member(B).propose("r", utf8("b"), 2);
  c.run(B);
  c.drop(is("prepare", B, A));
  c.settle();
  assert.deepEqual(c.outcomeOf(B, 2)?.outcome, chosen("b"), "the quorum {B, C} never accepted a");
  c.drop(() => true);
  for (let i = 0; i < 40 && c.outcomeOf(A, 1) === undefined; i++) {
    c.tick(A);
    c.settle();
  }
  assert.deepEqual(c.outcomeOf(A, 1)?.outcome, chosen("b"), "A retried and learned it lost");
  c.checkLearners();
});

test("of two accepted values a quorum reports, the proposer takes the higher ballot's, which may be decided", () => {
  const c = new Cluster(3);
  acceptedOnlyByA(c);
  c.member(B).propose("r", utf8("b"), 2);
  c.run(B);
  c.drop(is("prepare", B, A));
  c.deliver(is("prepare", B, C));
  c.deliver(is("promise", C, B));
  c.deliver(is("accept", B, C));
  c.drop((m) => m.from === B || m.to === B);
  assert.equal(fromUtf8(c.decided.get("r")?.value ?? utf8("")), "b", "B and C accepted b: decided, and no one knows");
  c.member(C).propose("r", utf8("c"), 3);
  c.run(C);
  c.drop(is("prepare", C, B));
  c.settle();
  assert.deepEqual(c.outcomeOf(C, 3)?.outcome, chosen("b"), "A reported (round 1, a), C itself (round 2, b)");
  c.checkLearners();
});

test("an acceptor's promise survives a restart: an older ballot's Accept is refused afterwards", () => {
  const c = new Cluster(3);
  c.member(A).propose("r", utf8("a"), 1);
  c.run(A);
  c.deliver(is("prepare", A));
  c.deliver(is("promise", undefined, A));
  const oldAccepts = c.network.filter(is("accept", A));
  c.drop(is("accept", A));
  c.member(B).read("r", 2);
  c.run(B);
  c.deliver(is("prepare", B, C));
  c.crash(C);
  c.restart(C);
  c.network.push(...oldAccepts.filter((m) => m.to === C));
  c.deliver(is("accept", A, C));
  assert.equal(c.network.filter(is("nack", C, A)).length, 1);
  assert.equal(c.network.filter(is("accepted", C)).length, 0);
});

test("a restarted proposer never reuses a round, even when it crashed before its own acceptor promised", () => {
  const first = new BasicPaxos({ id: A, acceptors: [A, B, C], random: new Prng(1) });
  first.propose("r", utf8("a"), 1);
  const ready = first.ready();
  const sent = roundsOf(ready.messages);
  assert.ok(sent.length === 2 && ready.mustSync, "Prepares to B and C, which need the round on disk first");
  // Crash after persisting and sending, before advance(): the Prepare to itself was never delivered.
  const durable = { round: ready.round ?? 0, records: ready.records };
  const second = new BasicPaxos({ id: A, acceptors: [A, B, C], random: new Prng(1) }, durable);
  second.propose("r", utf8("b"), 2);
  const again = roundsOf(second.ready().messages);
  assert.ok(Math.min(...again) > Math.max(...sent), `rounds ${again.join()} after ${sent.join()}`);
});

function roundsOf(messages: readonly Message[]): number[] {
  return messages.flatMap((m) => (m.type === "prepare" ? [m.ballot.round] : []));
}

test("a read that arrives once its round has started is not answered by that round", () => {
  const c = new Cluster(3);
  c.member(A).read("r", 1);
  c.run(A);
  c.deliver(is("prepare", A, C));
  const cPromise = c.network.filter(is("promise", C, A));
  c.drop(is("promise", C, A));
  c.drop(is("prepare", A, B));
  c.member(B).propose("r", utf8("x"), 2);
  c.run(B);
  const betweenBAndC = (m: Message): boolean => m.from !== A && m.to !== A;
  c.deliver(betweenBAndC);
  assert.deepEqual(c.outcomeOf(B, 2)?.outcome, chosen("x"), "x is decided by B and C");
  c.drop(is("prepare", B, A));
  c.drop(is("chosen", B, A));
  c.member(A).read("r", 3);
  c.network.push(...cPromise);
  c.settle();
  assert.deepEqual(c.outcomeOf(A, 1)?.outcome, { type: "empty" }, "read 1 began before x was decided");
  assert.deepEqual(c.outcomeOf(A, 3)?.outcome, chosen("x"), "read 3 began after: empty would be stale");
});

test("reads and writes waiting on one register share its decision", () => {
  const c = new Cluster(3);
  c.member(A).read("r", 1);
  c.member(A).propose("r", utf8("w1"), 2);
  c.member(A).propose("r", utf8("w2"), 3);
  c.member(A).read("r", 4);
  c.run(A);
  c.settle();
  for (const request of [2, 3, 4]) assert.deepEqual(c.outcomeOf(A, request)?.outcome, chosen("w1"), `${request}`);
  const first = c.outcomeOf(A, 1)?.outcome;
  assert.ok(first?.type === "empty" || fromUtf8(first?.value ?? utf8("")) === "w1", "read 1: empty or w1");
});

test("two proposers that keep preempting each other still finish, thanks to random backoff", () => {
  const c = new Cluster(3, { phaseTicks: 4, backoffTicksMin: 2 }, 5);
  c.member(A).propose("r", utf8("a"), 1);
  c.member(C).propose("r", utf8("c"), 2);
  c.run(A);
  c.run(C);
  const prng = new Prng(9);
  for (let step = 0; step < 2000 && (!c.outcomeOf(A, 1) || !c.outcomeOf(C, 2)); step++) {
    if (c.network.length > 0 && prng.chance(0.8)) c.deliverAt(prng.int(0, c.network.length));
    else c.tick(prng.pick(c.ids));
  }
  const [a, b] = [c.outcomeOf(A, 1)?.outcome, c.outcomeOf(C, 2)?.outcome];
  assert.ok(a !== undefined && b !== undefined, "both answered");
  assert.deepEqual(a, b);
  c.checkLearners();
});

test("limits: a value over valueBytesMax and requests over requestsPendingMax are refused", () => {
  const random = new Prng(1);
  const m = new BasicPaxos({ id: A, acceptors: [A, B, C], random, valueBytesMax: 4, requestsPendingMax: 2 });
  assert.deepEqual(m.propose("r", utf8("12345"), 1), { ok: false, error: "valueTooLarge" });
  assert.deepEqual(m.propose("r", utf8("1234"), 2), { ok: true });
  assert.deepEqual(m.read("q", 3), { ok: true });
  assert.deepEqual(m.read("s", 4), { ok: false, error: "tooManyPending" });
  assert.throws(() => new BasicPaxos({ id: A, acceptors: [A, A], random }), RangeError);
  assert.throws(() => new BasicPaxos({ id: A, acceptors: [], random }), RangeError);
});

test("a message addressed elsewhere or from the member itself is dropped; a non-acceptor refuses a Prepare", () => {
  const random = new Prng(1);
  const m = new BasicPaxos({ id: nodeId(4), acceptors: [A, B, C], random });
  const ballot = { round: 1, proposer: A };
  assert.deepEqual(m.step({ type: "prepare", from: A, to: B, register: "r", ballot }), {
    ok: false,
    reason: "notForMe",
  });
  const own = { type: "prepare", from: nodeId(4), to: nodeId(4), register: "r", ballot } as const;
  assert.deepEqual(m.step(own), { ok: false, reason: "notForMe" });
  assert.deepEqual(m.step({ ...own, from: A }), { ok: false, reason: "notAcceptor" });
  assert.equal(m.hasReady(), false);
});
