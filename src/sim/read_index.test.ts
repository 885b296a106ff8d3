import assert from "node:assert/strict";
import { test } from "node:test";
import type { Message, ReadState } from "../raft/index.js";
import { logIndex } from "../util/ids.js";
import { ScriptedCluster } from "./scripted.js";

/*
 * The harness's deliver() consumes every Ready and drops its ReadStates, so these tests take the
 * Readies by hand once the cluster has settled. A settled cluster persists nothing in these
 * phases (heartbeats and reads only); takeReady asserts that, so nothing durable is skipped.
 */

/**
 * Takes one node's Ready by hand. Unless `unpersisted` is set, asserts it holds nothing to persist
 * or apply; with it, entries and hard state are acknowledged without reaching the harness's
 * storage (only for tests that never restart a node afterwards).
 */
function takeReady(
  c: ScriptedCluster,
  id: number,
  unpersisted = false,
): { messages: Message[]; readStates: ReadState[] } {
  const raw = c.node(id);
  if (!raw.hasReady()) return { messages: [], readStates: [] };
  const ready = raw.ready();
  if (!unpersisted) {
    assert.equal(ready.entries.length, 0, `node ${id}: this phase appends nothing`);
    assert.equal(ready.hardState, undefined, `node ${id}: this phase changes no hard state`);
    assert.equal(ready.committedEntries.length, 0, `node ${id}: this phase applies nothing`);
  }
  raw.advance(ready);
  return { messages: [...ready.messages, ...ready.messagesAfterPersist], readStates: [...ready.readStates] };
}

/** Delivers everything until quiet, returning the ReadStates each node produced. */
function pump(c: ScriptedCluster, unpersisted = false): Map<number, ReadState[]> {
  const reads = new Map<number, ReadState[]>(c.ids.map((id) => [id, []]));
  const queue: Message[] = c.inFlight.splice(0);
  for (let steps = 0; steps < 10_000; steps++) {
    for (const id of c.ids) {
      const { messages, readStates } = takeReady(c, id, unpersisted);
      queue.push(...messages);
      reads.get(id)!.push(...readStates);
    }
    const m = queue.shift();
    if (m === undefined) return reads;
    c.node(m.to).step(m);
  }
  throw new Error("did not go quiet");
}

/**
 * A cluster led by node 1 whose followers all know the commit index of the leader's no-op
 * (index 2: index 1 is the bootstrap configuration entry every initial member starts with).
 */
function settledCluster(nodes: number): ScriptedCluster {
  const c = new ScriptedCluster({ nodes });
  c.campaign(1);
  c.tickAll(2);
  assert.equal(c.leader(), 1);
  const noop = c.node(1).entryAt(logIndex(2));
  assert.ok(
    noop?.kind === "normal" && noop.data.byteLength === 0 && noop.term === c.node(1).status().term,
    "index 2 is the leader's no-op",
  );
  for (const id of c.ids) assert.equal(c.node(id).status().commitIndex, 2);
  assert.equal(c.inFlight.length, 0);
  return c;
}

const ctx = (n: number): Uint8Array => new Uint8Array([0xee, n]);

test("ReadIndex on the leader: the ReadState appears only once a quorum has answered the heartbeat round", () => {
  const c = settledCluster(5);
  assert.deepEqual(c.node(1).readIndex(ctx(1)), { ok: true });
  const first = takeReady(c, 1);
  assert.deepEqual(first.readStates, [], "no ReadState before any acknowledgement");
  const heartbeats = first.messages.filter((m) => m.type === "heartbeat");
  assert.equal(heartbeats.length, 4);
  assert.ok(
    heartbeats.every((m) => m.context !== 0),
    "the round is tagged",
  );

  const ackFrom = (id: number): ReadState[] => {
    c.node(id).step(heartbeats.find((m) => m.to === id)!);
    const response = takeReady(c, id).messages.filter((m) => m.type === "heartbeatResponse");
    assert.equal(response.length, 1);
    c.node(1).step(response[0]!);
    return takeReady(c, 1).readStates;
  };
  assert.deepEqual(ackFrom(2), [], "leader + 1 of 5 is not a quorum");
  const states = ackFrom(3);
  assert.equal(states.length, 1, "leader + 2 of 5 is a quorum");
  assert.equal(states[0]!.index, c.node(1).status().commitIndex);
  assert.deepEqual([...states[0]!.context], [...ctx(1)]);
  assert.deepEqual(ackFrom(4), [], "answered once only");
});

test("ReadIndex on an isolated leader is never answered", () => {
  const c = settledCluster(3);
  c.isolate(1);
  assert.deepEqual(c.node(1).readIndex(ctx(2)), { ok: true });
  const states: ReadState[] = [];
  for (let k = 0; k < 5; k++) {
    states.push(...takeReady(c, 1).readStates);
    c.inFlight.length = 0; // the isolated leader's heartbeats reach no one
    c.node(1).tick();
  }
  states.push(...takeReady(c, 1).readStates);
  assert.deepEqual(states, []);
  assert.equal(c.node(1).status().role, "leader", "still leader, yet it cannot prove it");
});

test("ReadIndex on a follower is answered through the leader with the leader's commit index", () => {
  const c = settledCluster(3);
  assert.equal(c.propose(1, new Uint8Array([9])).ok, true);
  c.tickAll(1);
  const commit = c.node(1).status().commitIndex;
  assert.equal(commit, 3, "bootstrap entry, no-op, proposal");
  assert.deepEqual(c.node(2).readIndex(ctx(3)), { ok: true });
  const reads = pump(c);
  assert.deepEqual(reads.get(1), [], "the leader answers the follower, not itself");
  assert.deepEqual(reads.get(3), []);
  const states = reads.get(2)!;
  assert.equal(states.length, 1);
  assert.equal(states[0]!.index, commit);
  assert.deepEqual([...states[0]!.context], [...ctx(3)]);
});

test("ReadIndex on a new leader waits until an entry of its own term commits, then answers with that commit index", () => {
  const c = new ScriptedCluster({ nodes: 3 });
  c.dropIf = (m) => m.type === "appendEntries";
  c.campaign(1);
  assert.equal(c.node(1).status().role, "leader");
  assert.equal(
    c.node(1).status().commitIndex,
    1,
    "only the bootstrap entry (term 1) is committed; the no-op at index 2 is not",
  );
  assert.deepEqual(c.node(1).readIndex(ctx(5)), { ok: true });
  const before = takeReady(c, 1);
  assert.deepEqual(before.readStates, []);
  assert.ok(
    before.messages.every((m) => m.type !== "heartbeat" || m.context === 0),
    "no confirmation round starts before the term's first commit",
  );
  c.dropIf = undefined;
  c.inFlight.length = 0;
  c.node(1).tick(); // a heartbeat unblocks the lost probes
  const reads = pump(c, true);
  assert.equal(c.node(1).status().commitIndex, 2);
  const states = reads.get(1)!;
  assert.equal(states.length, 1);
  assert.equal(states[0]!.index, 2, "the read index includes the no-op of the leader's term");
});

test("ReadIndex with no known leader is refused with noLeader", () => {
  const c = new ScriptedCluster({ nodes: 3 });
  c.deliver(); // persists and applies each node's bootstrap entry, so nothing is pending before the read
  assert.equal(c.inFlight.length, 0);
  assert.equal(c.node(2).hasReady(), false);
  assert.deepEqual(c.node(2).readIndex(ctx(4)), { ok: false, error: "noLeader" });
  assert.equal(c.node(2).hasReady(), false);
});

test("lease reads: a leader cut off from the cluster stops answering lease reads before a new leader can commit (no stale read)", () => {
  const ELECTION_TICKS = 10;
  const c = new ScriptedCluster({ nodes: 3, raft: { readOnlyMode: "lease" } });
  c.campaign(1);
  c.tickAll(2);
  const oldTerm = c.node(1).status().term;
  c.isolate(1);
  const stale: string[] = [];
  let newLeader = 0;
  for (let tick = 1; tick <= 3 * ELECTION_TICKS && c.node(1).status().role === "leader"; tick++) {
    for (const id of c.ids) c.node(id).tick();
    c.deliver();
    const elected = [2, 3].find((id) => c.node(id).status().role === "leader" && c.node(id).status().term > oldTerm);
    if (elected !== undefined && newLeader === 0) {
      newLeader = elected;
      // The new leader commits a write that any later linearizable read must see.
      assert.equal(c.propose(newLeader, new Uint8Array([1])).ok, true);
    }
    if (c.node(1).status().role !== "leader") break;
    c.node(1).readIndex(ctx(tick));
    for (const read of takeReady(c, 1).readStates) {
      const committed = newLeader === 0 ? 0 : c.node(newLeader).status().commitIndex;
      if (read.index < committed) {
        stale.push(
          `tick ${tick}: old leader answered index ${read.index}; leader ${newLeader} has committed ${committed}`,
        );
      }
    }
  }
  assert.notEqual(newLeader, 0, "the majority side elected a new leader");
  assert.deepEqual(stale, [], "lease reads served by a deposed leader miss committed writes");
});
