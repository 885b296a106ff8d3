import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8, utf8 } from "../../util/bytes.js";
import { nodeId, type NodeId } from "../../util/ids.js";
import { compareBallots, formatBallot, type Ballot } from "./ballot.js";
import { Cluster } from "./sim_cluster.js";
import type { Message } from "./messages.js";
import type { Outcome } from "./state.js";

/*
 * The articles' worked example, step by step: five acceptors S1–S5, each also a proposer. S1 proposes
 * X with proposal number 3.1, S5 proposes Y with 4.5 (their durable rounds start at 2 and 3). Each
 * step delivers chosen messages and asserts the acceptors' exact replies. The two promises: after
 * answering Prepare n an acceptor answers no Prepare numbered at or below n and accepts no Accept
 * numbered below n. (A Prepare numbered n itself can only be the same proposer's Prepare again, a
 * duplicate, and gets no answer; see acceptor.ts.)
 */

const [S1, S2, S3, S4, S5] = [1, 2, 3, 4, 5].map(nodeId) as [NodeId, NodeId, NodeId, NodeId, NodeId];
const [X, Y] = [utf8("X"), utf8("Y")];
const where = { register: "r", instance: 1 } as const;

/** "3.1" → round 3 of node 1, as the articles write proposal numbers. */
function n(text: string): Ballot {
  const [round, proposer] = text.split(".").map(Number) as [number, number];
  return { round, proposer: nodeId(proposer) };
}

function exampleCluster(): Cluster {
  return new Cluster(5, { phaseTicks: 50 }, 1, [2, 0, 0, 0, 3]);
}

/** Delivers the one in-flight message of `type` from → to and returns what `to` sent back to `from`. */
function exchange(c: Cluster, type: Message["type"], from: NodeId, to: NodeId): Message[] {
  const at = c.network.findIndex((m) => m.type === type && m.from === from && m.to === to);
  assert.ok(at >= 0, `no ${type} from S${from} to S${to} in flight`);
  c.deliverAt(at);
  const replies = c.network.filter((m) => m.from === to && m.to === from);
  c.drop((m) => replies.includes(m));
  return replies;
}

/** Takes out of the network (to deliver later, or never) every message matching `which`. */
function hold(c: Cluster, which: (m: Message) => boolean): Message[] {
  const held = c.network.filter(which);
  c.drop(which);
  return held;
}

const promise = (from: NodeId, to: NodeId, ballot: Ballot, accepted?: { ballot: Ballot; value: Uint8Array }) =>
  ({ type: "promise", from, to, ...where, ballot, accepted }) as const;
const accepted = (from: NodeId, to: NodeId, ballot: Ballot) =>
  ({ type: "accepted", from, to, ...where, ballot }) as const;
const nack = (from: NodeId, to: NodeId, ballot: Ballot, promised: Ballot) =>
  ({ type: "nack", from, to, ...where, ballot, promised }) as const;
const written: Outcome = { type: "written", version: 1 };
const lost = (value: Uint8Array): Outcome => ({ type: "conflict", version: 1, value });

/** S1 runs phase 1 with 3.1 on S1–S3 (its Prepares to S4 and S5 are lost); returns with S1's Accepts out. */
function s1PreparesWith31(c: Cluster): void {
  c.member(S1).cas("r", 0, X, 1);
  c.run(S1);
  hold(c, (m) => m.type === "prepare" && (m.to === S4 || m.to === S5));
  assert.deepEqual(exchange(c, "prepare", S1, S2), [promise(S2, S1, n("3.1"))], "S2 promises 3.1, nothing accepted");
  assert.deepEqual(exchange(c, "prepare", S1, S3), [promise(S3, S1, n("3.1"))], "S3 promises 3.1, nothing accepted");
  c.network.push(promise(S2, S1, n("3.1")), promise(S3, S1, n("3.1")));
  c.deliver((m) => m.type === "promise" && m.to === S1);
  const accepts = c.network.filter((m) => m.type === "accept" && m.from === S1);
  assert.equal(accepts.length, 4, "S1's quorum S1–S3 reported nothing: it proposes its own X to S2–S5");
  for (const m of accepts) assert.ok(m.type === "accept" && fromUtf8(m.value) === "X");
  hold(c, (m) => m.type === "accept" && (m.to === S4 || m.to === S5));
}

/** S5 runs phase 1 with 4.5 on S3, S4 and itself (its Prepares to S1 and S2 are lost). */
function s5PreparesWith45(c: Cluster, s3Reports: { ballot: Ballot; value: Uint8Array } | undefined): void {
  c.member(S5).cas("r", 0, Y, 2);
  c.run(S5);
  hold(c, (m) => m.type === "prepare" && (m.to === S1 || m.to === S2));
  const s3 = exchange(c, "prepare", S5, S3);
  assert.deepEqual(s3, [promise(S3, S5, n("4.5"), s3Reports)], "S3's promise carries its highest accepted proposal");
  assert.deepEqual(exchange(c, "prepare", S5, S4), [promise(S4, S5, n("4.5"))], "S4 has accepted nothing");
  c.network.push(...s3, promise(S4, S5, n("4.5")));
}

/** S3's promise to 4.5 refuses every lower Prepare and Accept, 4.1 included (same counter, lower node id). */
function checkS3KeepsItsPromise(c: Cluster): void {
  for (const text of ["3.1", "4.1"]) {
    const b = n(text);
    assert.ok(compareBallots(b, n("4.5")) < 0, `${formatBallot(b)} < 4.5`);
    c.network.push({ type: "prepare", from: S1, to: S3, ...where, ballot: b });
    assert.deepEqual(exchange(c, "prepare", S1, S3), [nack(S3, S1, b, n("4.5"))], `Prepare ${text} refused`);
    c.network.push({ type: "accept", from: S1, to: S3, ...where, ballot: b, value: utf8("Z") });
    assert.deepEqual(exchange(c, "accept", S1, S3), [nack(S3, S1, b, n("4.5"))], `Accept ${text} refused`);
  }
}

/** Delivers S5's Accepts to S3 and S4 (with the value they must carry) and their acceptances. */
function s5Accepts(c: Cluster, value: string): void {
  c.deliver((m) => m.type === "promise" && m.to === S5);
  const accepts = c.network.filter((m) => m.type === "accept" && m.from === S5);
  assert.deepEqual(
    accepts.map((m) => (m.type === "accept" ? `${formatBallot(m.ballot)} ${fromUtf8(m.value)}` : "")),
    [`4.5 ${value}`, `4.5 ${value}`, `4.5 ${value}`, `4.5 ${value}`],
    `S5's Accepts to S1–S4 carry ${value}`,
  );
  hold(c, (m) => m.type === "accept" && m.from === S5 && (m.to === S1 || m.to === S2));
  assert.deepEqual(exchange(c, "accept", S5, S3), [accepted(S3, S5, n("4.5"))]);
  assert.deepEqual(exchange(c, "accept", S5, S4), [accepted(S4, S5, n("4.5"))]);
  c.network.push(accepted(S3, S5, n("4.5")), accepted(S4, S5, n("4.5")));
  c.deliver((m) => m.type === "accepted" && m.to === S5);
}

test("worked example: X accepted by S1–S3 at 3.1 is chosen, so S5's 4.5 (via S3) must propose X, not Y", () => {
  const c = exampleCluster();
  s1PreparesWith31(c);
  assert.deepEqual(exchange(c, "accept", S1, S2), [accepted(S2, S1, n("3.1"))]);
  assert.deepEqual(exchange(c, "accept", S1, S3), [accepted(S3, S1, n("3.1"))]);
  assert.equal(fromUtf8(c.ledger.chosen("r", 1)!), "X", "S1–S3 accepted X at 3.1: a majority, X is chosen");
  const toS1 = [accepted(S2, S1, n("3.1")), accepted(S3, S1, n("3.1"))]; // delayed: S1 does not know yet

  s5PreparesWith45(c, { ballot: n("3.1"), value: X });
  checkS3KeepsItsPromise(c);
  s5Accepts(c, "X");
  assert.deepEqual(c.outcomeOf(S5, 2)?.outcome, lost(X), "S5 learns its Y lost to X");
  c.network.push(...toS1);
  c.settle();
  assert.deepEqual(c.outcomeOf(S1, 1)?.outcome, written);
  for (const id of c.ids) assert.equal(fromUtf8(c.member(id).chosen("r", 1) ?? utf8("?")), "X", `S${id} learned X`);
});

test("worked example, variant (a): S3 has not accepted X when 4.5 reaches it, so S5 proposes Y and 3.1's Accept at S3 fails", () => {
  const c = exampleCluster();
  s1PreparesWith31(c);
  assert.deepEqual(exchange(c, "accept", S1, S2), [accepted(S2, S1, n("3.1"))]);
  const lateAccept = hold(c, (m) => m.type === "accept" && m.from === S1 && m.to === S3);
  assert.equal(c.ledger.chosen("r", 1), undefined, "X accepted by S1 and S2 only: not chosen");

  s5PreparesWith45(c, undefined);
  s5Accepts(c, "Y");
  assert.equal(fromUtf8(c.ledger.chosen("r", 1)!), "Y", "S3–S5 accepted Y at 4.5");
  assert.deepEqual(c.outcomeOf(S5, 2)?.outcome, written);
  c.network.push(...lateAccept);
  assert.deepEqual(exchange(c, "accept", S1, S3), [nack(S3, S1, n("3.1"), n("4.5"))], "refused by the promise to 4.5");
  c.settle();
  assert.deepEqual(c.outcomeOf(S1, 1)?.outcome, lost(Y), "S1 learns X lost");
});

test("worked example, variant (b): X accepted at 3.1 by only S3 of the new quorum is still adopted by 4.5", () => {
  const c = exampleCluster();
  s1PreparesWith31(c);
  hold(c, (m) => m.type === "accept" && m.from === S1 && m.to === S2);
  assert.deepEqual(exchange(c, "accept", S1, S3), [accepted(S3, S1, n("3.1"))]);
  assert.equal(c.ledger.chosen("r", 1), undefined, "X accepted by S1 and S3 only: not chosen");

  s5PreparesWith45(c, { ballot: n("3.1"), value: X });
  s5Accepts(c, "X");
  assert.equal(fromUtf8(c.ledger.chosen("r", 1)!), "X", "S3–S5 accepted X at 4.5");
  assert.deepEqual(c.outcomeOf(S5, 2)?.outcome, lost(X));
  c.settle();
  assert.deepEqual(c.outcomeOf(S1, 1)?.outcome, written, "S1's X was chosen, in S5's round");
});
