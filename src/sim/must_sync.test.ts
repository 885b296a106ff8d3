import { test } from "node:test";
import assert from "node:assert/strict";
import { NO_NODE, Prng, RawNode, type Entry } from "../raft/index.js";
import { encodeConfEntry } from "../raft/confchange.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import { ScriptedCluster } from "./scripted.js";

test("mustSync: entries, a new term and a new vote need the barrier; a Ready that only moves the commit index does not", () => {
  const raw = new RawNode({ id: nodeId(1), voters: [nodeId(1)], random: new Prng(3), checkInvariants: true });
  const first = raw.ready();
  assert.equal(first.mustSync, true, "the bootstrap entry");
  raw.advance(first);
  raw.campaign();
  const elected = raw.ready();
  assert.equal(elected.mustSync, true, "a new term, a vote for itself and the leader's no-op");
  assert.ok(elected.entries.length > 0);
  raw.advance(elected);
  // A single voter commits its own entries once they are durable: the next Ready moves only the commit.
  const committed = raw.ready();
  assert.equal(committed.entries.length, 0);
  assert.ok(committed.hardState !== undefined && committed.hardState.commit === elected.entries.at(-1)!.index);
  assert.equal(committed.mustSync, false);
  raw.advance(committed);
  assert.equal(raw.propose(new Uint8Array([1])).ok, true);
  const proposal = raw.ready();
  assert.equal(proposal.mustSync, true, "a proposal's entry");
});

test("a commit index written without a sync may go back on a crash; the node learns it again and applies the same entries again", () => {
  const c = new ScriptedCluster({ nodes: 3 });
  c.campaign(1);
  for (let k = 0; k < 3; k++) assert.equal(c.propose(1, new Uint8Array([k])).ok, true);
  c.tickAll(2);
  const commit = c.node(1).status().commitIndex;
  assert.equal(c.node(2).status().commitIndex, commit);
  // The follower learnt the last commit index from a message that carried no entries: not synced.
  assert.ok(c.hardState(2).commit < commit, `durable commit ${c.hardState(2).commit} < ${commit}`);
  const appliedBefore = c.applied(2).map((e) => e.index);
  c.crash(2);
  c.restart(2);
  assert.ok(c.node(2).status().commitIndex < commit, "the restarted follower starts from its durable commit");
  c.tickAll(2);
  assert.equal(c.node(2).status().commitIndex, commit, "and learns the rest from the leader");
  const appliedAfter = c.applied(2).map((e) => e.index);
  assert.deepEqual(appliedAfter.slice(0, appliedBefore.length), appliedBefore);
});

test("a state machine's own applied index ahead of a lost commit index is trusted at restart", () => {
  const raw = new RawNode({ id: nodeId(1), voters: [nodeId(1)], random: new Prng(3), checkInvariants: true });
  raw.advance(raw.ready());
  raw.campaign();
  const elected = raw.ready();
  raw.advance(elected);
  raw.advance(raw.ready());
  const lastIndex = elected.entries.at(-1)!.index;
  assert.equal(raw.status().commitIndex, lastIndex);
  // Disk as a crash may leave it: the entries and the vote, the commit index still at the bootstrap entry.
  const restarted = new RawNode(
    { id: nodeId(1), voters: [nodeId(1)], random: new Prng(4), checkInvariants: true },
    {
      hardState: { ...elected.hardState!, commit: logIndex(1) },
      entries: [raw.entryAt(logIndex(1))!, ...elected.entries],
      snapshot: undefined,
      applied: lastIndex,
    },
  );
  assert.equal(restarted.status().commitIndex, lastIndex);
  assert.equal(restarted.ready().committedEntries.length, 0, "nothing already applied is handed out again");
});

test("mustSync: a commit index that passes a configuration entry is synced, on the leader and on the followers", () => {
  const c = new ScriptedCluster({ nodes: 3, joiners: 1 });
  c.campaign(1);
  assert.equal(c.propose(1, new Uint8Array([1])).ok, true);
  c.tickAll(2);
  const normal = c.node(1).status().commitIndex;
  assert.ok(c.hardState(2).commit < normal, "a commit index covering only normal entries is not synced on its own");
  const add = c.node(1).proposeConfChange({ type: "addLearner", id: nodeId(4), context: new Uint8Array(0) });
  assert.ok(add.ok);
  c.tickAll(2);
  for (const id of [1, 2, 3]) {
    assert.ok(
      c.hardState(id).commit >= add.index,
      `node ${id}: durable commit ${c.hardState(id).commit} covers the config entry at ${add.index}`,
    );
  }
});

test("a config entry in the log proves the config entries before it committed: a restart after a torn write keeps them in force", () => {
  // A torn write kept the promotion's entry but not the hard state written after it.
  const conf = (index: number, entry: Parameters<typeof encodeConfEntry>[0]): Entry => ({
    index: logIndex(index),
    term: term(2),
    kind: "config",
    data: encodeConfEntry(entry),
  });
  const addLearner = conf(3, {
    op: "simple",
    changes: [{ type: "addLearner", id: nodeId(4), context: new Uint8Array(0) }],
  });
  const promote = conf(4, {
    op: "enterJoint",
    changes: [{ type: "promote", id: nodeId(4), context: new Uint8Array(0) }],
  });
  const entries: Entry[] = [
    {
      index: logIndex(1),
      term: term(1),
      kind: "config",
      data: encodeConfEntry({ op: "bootstrap", voters: [nodeId(1), nodeId(2), nodeId(3)] }),
    },
    { index: logIndex(2), term: term(2), kind: "normal", data: new Uint8Array(0) },
    addLearner,
    promote,
  ];
  const raw = new RawNode(
    { id: nodeId(3), voters: [], random: new Prng(1), checkInvariants: true },
    { hardState: { term: term(2), vote: NO_NODE, commit: logIndex(1) }, entries },
  );
  assert.equal(raw.status().commitIndex, 3, "the addition is known committed; the promotion is not");
  raw.campaign();
  assert.equal(raw.status().role, "follower", "no campaign while the committed addition is not yet in force");
  raw.advance(raw.ready());
  assert.deepEqual([...raw.config().learners], [4], "in force once handed out");
});
