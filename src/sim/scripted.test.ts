import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeConfEntry, NO_NODE, Prng, RawNode, type Config } from "../raft/index.js";
import { logIndex, nodeId } from "../util/ids.js";
import { ScriptedCluster } from "./scripted.js";

/** A node's applied entries, with each config entry's payload decoded. */
function appliedEntries(c: ScriptedCluster, id: number): unknown[] {
  return c
    .applied(id)
    .map((e) =>
      e.kind === "config"
        ? { index: e.index, term: e.term, config: decodeConfEntry(e.data) }
        : { index: e.index, term: e.term, data: [...e.data] },
    );
}

function plainConfig(config: Config): { incoming: number[]; outgoing: number[] | undefined; learners: number[] } {
  const sorted = (ids: ReadonlySet<number>): number[] => [...ids].sort((a, b) => a - b);
  return {
    incoming: sorted(config.incoming),
    outgoing: config.outgoing === undefined ? undefined : sorted(config.outgoing),
    learners: sorted(config.learners),
  };
}

test("a campaign elects a leader whose proposals every node applies", () => {
  const c = new ScriptedCluster({ nodes: 3 });
  c.campaign(1);
  assert.equal(c.leader(), 1);
  const result = c.propose(1, new Uint8Array([42]));
  assert.equal(result.ok, true);
  c.tickAll(2);
  const t = c.node(1).status().term;
  for (const id of [1, 2, 3]) {
    assert.deepEqual(
      appliedEntries(c, id),
      [
        { index: 1, term: 1, config: { op: "bootstrap", voters: [1, 2, 3] } },
        { index: 2, term: t, data: [] },
        { index: 3, term: t, data: [42] },
      ],
      `node ${id}`,
    );
  }
});

test("bootstrap: every initial member starts with the same committed config entry (index 1, term 1) naming the voters; a joiner starts empty and never campaigns", () => {
  const c = new ScriptedCluster({ nodes: 3 });
  const first = c.node(1).entryAt(logIndex(1));
  assert.ok(first !== undefined, "node 1 holds an entry at index 1");
  assert.equal(first.index, 1);
  assert.equal(first.term, 1);
  assert.equal(first.kind, "config");
  assert.deepEqual(decodeConfEntry(first.data), { op: "bootstrap", voters: [1, 2, 3] });
  for (const id of c.ids) {
    const raw = c.node(id);
    assert.deepEqual(raw.entryAt(logIndex(1)), first, `node ${id}: the identical entry at index 1`);
    const s = raw.status();
    assert.deepEqual(
      { lastIndex: s.lastIndex, commitIndex: s.commitIndex, term: s.term, role: s.role, leader: s.leader },
      { lastIndex: 1, commitIndex: 1, term: 1, role: "follower", leader: NO_NODE },
      `node ${id}: one entry, already committed, in term 1`,
    );
    assert.deepEqual(
      plainConfig(raw.config()),
      { incoming: [1, 2, 3], outgoing: undefined, learners: [] },
      `node ${id} config`,
    );
  }
  // The entry is the same whatever order the voters are given in.
  const reordered = new RawNode({
    id: nodeId(3),
    voters: [3, 1, 2].map(nodeId),
    random: new Prng(5),
    checkInvariants: true,
  });
  assert.deepEqual(reordered.entryAt(logIndex(1)), first, "voters given as [3, 1, 2] write the same entry");

  // Once persisted it is handed out for applying, once, and applying it keeps the configuration.
  c.deliver();
  for (const id of c.ids) {
    assert.deepEqual(c.applied(id), [first], `node ${id} applies the bootstrap entry`);
    assert.equal(c.node(id).status().appliedIndex, 1);
    assert.deepEqual(
      plainConfig(c.node(id).config()),
      { incoming: [1, 2, 3], outgoing: undefined, learners: [] },
      `node ${id} config after applying`,
    );
  }

  // A joiner (no voters named, no durable state) writes nothing and is in no configuration.
  const electionTicks = 10;
  const joiner = new RawNode({
    id: nodeId(4),
    voters: [],
    electionTicks,
    heartbeatTicks: 1,
    random: new Prng(9),
    checkInvariants: true,
  });
  const status = (): unknown => {
    const s = joiner.status();
    return {
      lastIndex: s.lastIndex,
      commitIndex: s.commitIndex,
      appliedIndex: s.appliedIndex,
      term: s.term,
      role: s.role,
      leader: s.leader,
    };
  };
  const initial = { lastIndex: 0, commitIndex: 0, appliedIndex: 0, term: 0, role: "follower", leader: NO_NODE };
  assert.deepEqual(status(), initial, "the joiner's log is empty");
  assert.equal(joiner.entryAt(logIndex(1)), undefined);
  assert.deepEqual(
    plainConfig(joiner.config()),
    { incoming: [], outgoing: undefined, learners: [] },
    "the joiner's config is empty",
  );
  assert.equal(joiner.hasReady(), false, "nothing to persist or send");
  // Election timeouts are drawn from [electionTicks, 2 × electionTicks): 100 of the longest.
  for (let k = 1; k <= 100 * 2 * electionTicks; k++) {
    joiner.tick();
    assert.equal(joiner.hasReady(), false, `tick ${k}: the joiner sends nothing (no pre-vote, no vote request)`);
    assert.equal(joiner.status().role, "follower", `tick ${k}`);
  }
  assert.deepEqual(status(), initial, "the joiner never campaigned: term 0, log still empty");
});

test("bootstrap: the first Ready persists the bootstrap hard state (term 1, commit 1) with the entry, so a crash right after keeps commit 1", () => {
  const c = new ScriptedCluster({ nodes: 3 });
  c.deliver(); // persists each node's first Ready (the bootstrap entry) and applies the entry
  assert.equal(c.applied(1).length, 1, "the bootstrap entry was handed out for applying");
  assert.deepEqual(c.hardState(1), { term: 1, vote: NO_NODE, commit: 1 }, "what was applied is durably committed");
  c.crash(1);
  c.restart(1);
  assert.equal(c.node(1).status().commitIndex, 1, "the restarted node still knows index 1 is committed");
});
