import assert from "node:assert/strict";
import { test } from "node:test";
import type { Message, Role } from "../raft/index.js";
import { logIndex, NO_NODE, nodeId, term } from "../util/ids.js";
import { ScriptedCluster } from "./scripted.js";

const ELECTION_TICKS = 10;

type VoteRequestMessage = Extract<Message, { type: "voteRequest" }>;

/** A vote request as node `from` would send it, with `from`'s own last log position. */
function voteRequest(
  c: ScriptedCluster,
  options: { from: number; to: number; term: number; preVote: boolean; transfer: boolean },
): VoteRequestMessage {
  const status = c.node(options.from).status();
  return {
    type: "voteRequest",
    from: nodeId(options.from),
    to: nodeId(options.to),
    term: term(options.term),
    preVote: options.preVote,
    lastLogIndex: status.lastIndex,
    lastLogTerm: c.node(options.from).termAt(status.lastIndex) ?? term(0),
    transfer: options.transfer,
  };
}

/** Messages delivered since `since` (an index into c.delivered). */
function deliveredSince(c: ScriptedCluster, since: number): Message[] {
  return c.delivered.slice(since);
}

function tickUntilLeader(c: ScriptedCluster, roundsMax: number): number {
  for (let round = 0; round < roundsMax; round++) {
    if (c.leader() !== NO_NODE) return round;
    c.tickAll(1);
  }
  return c.leader() !== NO_NODE ? roundsMax : -1;
}

/** Isolates node 3 of a 3-node cluster led by node 1 for ten maximum election timeouts, then heals. */
function partitionAndHeal(preVote: boolean): {
  leaderTerm: number;
  isolatedTerm: number;
  afterHeal: { role: Role; term: number }[];
  c: ScriptedCluster;
} {
  const c = new ScriptedCluster({ nodes: 3, raft: { preVote } });
  c.campaign(1);
  assert.equal(c.leader(), 1);
  const leaderTerm = c.node(1).status().term;
  c.isolate(3);
  c.tickAll(10 * 2 * ELECTION_TICKS);
  assert.equal(c.node(1).status().role, "leader", "the majority side keeps its leader");
  assert.equal(c.node(1).status().term, leaderTerm);
  const isolatedTerm = c.node(3).status().term;
  c.heal();
  const afterHeal: { role: Role; term: number }[] = [];
  for (let round = 0; round < 5 * ELECTION_TICKS; round++) {
    c.tickAll(1);
    const s = c.node(1).status();
    afterHeal.push({ role: s.role, term: s.term });
  }
  return { leaderTerm, isolatedTerm, afterHeal, c };
}

test("pre-vote: an isolated follower's term stays put and it rejoins without disrupting the leader", () => {
  const { leaderTerm, isolatedTerm, afterHeal, c } = partitionAndHeal(true);
  assert.equal(isolatedTerm, leaderTerm, "pre-votes that cannot win never raise the term");
  for (const [round, s] of afterHeal.entries()) {
    assert.deepEqual(s, { role: "leader", term: leaderTerm }, `node 1 after heal round ${round}`);
  }
  assert.equal(c.leader(), 1);
  for (const id of c.ids) assert.equal(c.node(id).status().term, leaderTerm, `node ${id} term`);
});

test("without pre-vote the same partition inflates the isolated node's term and its return deposes the leader", () => {
  const { leaderTerm, isolatedTerm, afterHeal, c } = partitionAndHeal(false);
  assert.ok(isolatedTerm >= leaderTerm + 5, `isolated term ${isolatedTerm} grew well past ${leaderTerm}`);
  assert.ok(
    afterHeal.some((s) => s.role !== "leader" || s.term !== leaderTerm),
    `node 1 loses its term-${leaderTerm} leadership after the heal`,
  );
  assert.ok(tickUntilLeader(c, 20 * ELECTION_TICKS) >= 0, "a leader is elected again");
  assert.ok(c.node(c.leader()).status().term >= isolatedTerm, "in a term at least the isolated node's");
});

test("check-quorum: an isolated leader steps down within two election timeouts", () => {
  const c = new ScriptedCluster({ nodes: 3 });
  c.campaign(1);
  c.tickAll(1);
  c.isolate(1);
  let steppedDownAt = -1;
  for (let k = 1; k <= 3 * ELECTION_TICKS; k++) {
    c.tick(1);
    c.deliver();
    if (c.node(1).status().role !== "leader") {
      steppedDownAt = k;
      break;
    }
  }
  assert.ok(steppedDownAt >= ELECTION_TICKS, `not before one election timeout (stepped down at tick ${steppedDownAt})`);
  assert.ok(steppedDownAt > 0 && steppedDownAt <= 2 * ELECTION_TICKS, `stepped down at tick ${steppedDownAt}`);
  const s = c.node(1).status();
  assert.equal(s.role, "follower");
  assert.equal(s.leader, NO_NODE);
  assert.deepEqual(c.node(1).propose(new Uint8Array([1])), { ok: false, error: "noLeader" });
});

test("without check-quorum an isolated leader keeps leading indefinitely", () => {
  const c = new ScriptedCluster({ nodes: 3, raft: { checkQuorum: false } });
  c.campaign(1);
  c.tickAll(1);
  c.isolate(1);
  for (let k = 1; k <= 10 * ELECTION_TICKS; k++) {
    c.tick(1);
    c.deliver();
    assert.equal(c.node(1).status().role, "leader", `tick ${k}`);
  }
});

test("leader stickiness: a follower that hears its leader ignores a higher-term (pre-)vote request from another node", () => {
  const c = new ScriptedCluster({ nodes: 3 });
  c.campaign(1);
  c.tickAll(1);
  const t = c.node(1).status().term;
  assert.equal(c.hardState(2).term, t);
  assert.equal(c.hardState(2).vote, 1);
  for (const preVote of [true, false]) {
    const since = c.delivered.length;
    const result = c.node(2).step(voteRequest(c, { from: 3, to: 2, term: t + 1, preVote, transfer: false }));
    assert.equal(result.ok, false, `preVote=${preVote}: the request is dropped`);
    c.deliver();
    assert.equal(
      deliveredSince(c, since).filter((m) => m.type === "voteResponse").length,
      0,
      `preVote=${preVote}: no vote response at all`,
    );
    assert.equal(c.node(2).status().term, t);
    assert.equal(c.hardState(2).term, t);
    assert.equal(c.hardState(2).vote, 1);
    assert.equal(c.node(2).status().leader, 1);
  }
  c.tickAll(3 * ELECTION_TICKS);
  assert.equal(c.leader(), 1);
  assert.equal(c.node(1).status().term, t, "the leader keeps its term");
});

test("leader stickiness yields to a vote request marked transfer: the follower moves to the new term and grants", () => {
  const c = new ScriptedCluster({ nodes: 3 });
  c.campaign(1);
  c.tickAll(1);
  const t = c.node(1).status().term;
  const since = c.delivered.length;
  const result = c.node(2).step(voteRequest(c, { from: 3, to: 2, term: t + 1, preVote: false, transfer: true }));
  assert.equal(result.ok, true);
  c.deliverOneHop();
  const responses = deliveredSince(c, since).filter((m) => m.type === "voteResponse" && m.from === 2);
  assert.equal(responses.length, 1);
  const response = responses[0];
  assert.ok(response?.type === "voteResponse" && response.granted && response.term === t + 1);
  assert.equal(c.hardState(2).term, t + 1);
  assert.equal(c.hardState(2).vote, 3);
});

test("without check-quorum there is no stickiness: the same higher-term vote request is granted", () => {
  const c = new ScriptedCluster({ nodes: 3, raft: { checkQuorum: false } });
  c.campaign(1);
  c.tickAll(1);
  const t = c.node(1).status().term;
  const since = c.delivered.length;
  c.node(2).step(voteRequest(c, { from: 3, to: 2, term: t + 1, preVote: false, transfer: false }));
  c.deliverOneHop();
  const responses = deliveredSince(c, since).filter((m) => m.type === "voteResponse" && m.from === 2);
  const response = responses[0];
  assert.ok(responses.length === 1 && response?.type === "voteResponse" && response.granted);
  assert.equal(c.hardState(2).vote, 3);
});

test("after the leader crashes the others elect a new leader in a higher term, and its proposals commit", () => {
  const c = new ScriptedCluster({ nodes: 5 });
  c.campaign(1);
  assert.equal(c.propose(1, new Uint8Array([1])).ok, true);
  c.tickAll(1);
  const oldTerm = c.node(1).status().term;
  c.crash(1);
  assert.ok(tickUntilLeader(c, 20 * ELECTION_TICKS) >= 0, "a new leader within 20 election timeouts");
  const leader = c.leader();
  assert.notEqual(leader, 1);
  assert.ok(c.node(leader).status().term > oldTerm);
  assert.equal(c.propose(leader, new Uint8Array([2])).ok, true);
  c.tickAll(2);
  for (const id of [2, 3, 4, 5]) {
    const applied = c.applied(id);
    assert.deepEqual(
      applied.filter((e) => e.kind === "config").map((e) => [e.index, e.term]),
      [[1, 1]],
      `node ${id} applied the bootstrap configuration entry and no other`,
    );
    const data = applied.filter((e) => e.kind === "normal" && e.data.byteLength > 0).map((e) => [...e.data]);
    assert.deepEqual(data, [[1], [2]], `node ${id} applied the old and the new proposal`);
  }
});

test("no leader without a majority: two survivors of five never elect one; a third one back makes it possible", () => {
  const c = new ScriptedCluster({ nodes: 5 });
  c.campaign(1);
  c.tickAll(1);
  const t = c.node(4).status().term;
  for (const id of [1, 2, 3]) c.crash(id);
  const rolesSeen = new Set<Role>();
  for (let round = 0; round < 100 * ELECTION_TICKS; round++) {
    c.tickAll(1);
    for (const id of [4, 5]) {
      const role = c.node(id).status().role;
      rolesSeen.add(role);
      assert.notEqual(role, "leader", `node ${id} leads in round ${round}`);
    }
  }
  assert.ok(rolesSeen.has("preCandidate"), "the survivors did try to campaign");
  for (const id of [4, 5])
    assert.equal(c.node(id).status().term, t, `node ${id}: failed pre-votes leave the term alone`);
  assert.deepEqual(c.node(4).propose(new Uint8Array([1])), { ok: false, error: "noLeader" });

  c.restart(3);
  assert.ok(tickUntilLeader(c, 20 * ELECTION_TICKS) >= 0, "three of five elect a leader");
});

test("term and vote survive a restart: the node refuses a second candidate of the same term and re-grants the first", () => {
  const c = new ScriptedCluster({ nodes: 3 });
  c.cut(1, 3);
  c.cut(2, 3);
  c.campaign(1);
  assert.equal(c.node(1).status().role, "leader");
  const t = c.node(1).status().term;
  assert.deepEqual(c.hardState(2), { term: t, vote: 1, commit: c.hardState(2).commit });

  c.crash(2);
  c.restart(2);
  c.heal();
  assert.equal(c.node(2).status().term, t, "term recovered");
  assert.equal(c.hardState(2).vote, 1, "vote recovered");

  // Node 3 campaigns in the same term with a log at least as up to date: the vote is already spent.
  let since = c.delivered.length;
  const fromThree = voteRequest(c, { from: 3, to: 2, term: t, preVote: false, transfer: false });
  c.node(2).step({ ...fromThree, lastLogIndex: logIndex(100), lastLogTerm: term(t) });
  c.deliverOneHop();
  const refused = deliveredSince(c, since).filter((m) => m.type === "voteResponse" && m.from === 2);
  assert.equal(refused.length, 1);
  const refusal = refused[0];
  assert.ok(refusal?.type === "voteResponse" && !refusal.granted, `a second candidate in term ${t} is refused`);
  assert.equal(c.hardState(2).vote, 1);

  since = c.delivered.length;
  c.node(2).step(voteRequest(c, { from: 1, to: 2, term: t, preVote: false, transfer: false }));
  c.deliverOneHop();
  const regranted = deliveredSince(c, since).filter((m) => m.type === "voteResponse" && m.from === 2);
  const regrant = regranted[0];
  assert.ok(
    regranted.length === 1 && regrant?.type === "voteResponse" && regrant.granted,
    "the same candidate is granted again",
  );
});
