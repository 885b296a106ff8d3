import assert from "node:assert/strict";
import { test } from "node:test";
import { logIndex, NO_NODE, nodeId, term, type NodeId } from "../util/ids.js";
import { Prng } from "../util/prng.js";
import {
  applyConfEntry,
  decodeConfEntry,
  encodeConfEntry,
  planChange,
  type ConfChange,
  type ConfChangeType,
  type ConfEntry,
  type Config,
} from "./confchange.js";
import { RawNode } from "./rawnode.js";

const ids = (...xs: number[]): Set<NodeId> => new Set(xs.map(nodeId));
const NO_CONTEXT = new Uint8Array(0);

function config(incoming: number[], learners: number[] = [], outgoing?: number[]): Config {
  return {
    incoming: ids(...incoming),
    outgoing: outgoing === undefined ? undefined : ids(...outgoing),
    learners: ids(...learners),
  };
}

function change(type: ConfChangeType, id: number, context: Uint8Array = NO_CONTEXT): ConfChange {
  return { type, id: nodeId(id), context };
}

/** A configuration as sorted arrays, so deepEqual compares contents rather than Set order. */
function plain(c: Config): { incoming: number[]; outgoing: number[] | undefined; learners: number[] } {
  const sorted = (s: ReadonlySet<NodeId>): number[] => [...s].sort((a, b) => a - b);
  return {
    incoming: sorted(c.incoming),
    outgoing: c.outgoing === undefined ? undefined : sorted(c.outgoing),
    learners: sorted(c.learners),
  };
}

// ---- planChange ----------------------------------------------------------------------------------

test("planChange: adding a learner is one simple step; promoting a learner and removing a voter go through joint consensus; removing a learner is simple", () => {
  const c = config([1, 2, 3], [4]);
  const add = change("addLearner", 5);
  assert.deepEqual(planChange(c, [add]), { op: "simple", changes: [add] });
  const promote = change("promote", 4);
  assert.deepEqual(planChange(c, [promote]), { op: "enterJoint", changes: [promote] });
  const removeVoter = change("remove", 2);
  assert.deepEqual(planChange(c, [removeVoter]), { op: "enterJoint", changes: [removeVoter] });
  const removeLearner = change("remove", 4);
  assert.deepEqual(planChange(c, [removeLearner]), { op: "simple", changes: [removeLearner] });
});

test("planChange refusals: alreadyMember, notMember, notLearner, lastVoter", () => {
  const c = config([1, 2, 3], [4]);
  assert.equal(planChange(c, [change("addLearner", 2)]), "alreadyMember", "a voter cannot be added as a learner");
  assert.equal(planChange(c, [change("addLearner", 4)]), "alreadyMember", "a learner cannot be added twice");
  assert.equal(planChange(c, [change("promote", 9)]), "notMember", "promoting a stranger");
  assert.equal(planChange(c, [change("remove", 9)]), "notMember", "removing a stranger");
  assert.equal(planChange(c, [change("promote", 2)]), "notLearner", "promoting a voter");
  assert.equal(planChange(config([1]), [change("remove", 1)]), "lastVoter", "the last voter cannot be removed");
  assert.equal(
    planChange(config([1], [2]), [change("remove", 1)]),
    "lastVoter",
    "a learner does not count as a voter to fall back on",
  );
  // Removing a learner from a single-voter cluster is fine.
  assert.deepEqual(planChange(config([1], [2]), [change("remove", 2)]), {
    op: "simple",
    changes: [change("remove", 2)],
  });
});

test("planChange refuses every change while joint (changeInProgress), whatever its type", () => {
  const joint = config([1, 2, 3, 4], [5], [1, 2, 3]);
  for (const c of [
    change("addLearner", 6),
    change("promote", 5),
    change("remove", 2),
    change("remove", 5),
    change("addLearner", 2),
  ]) {
    assert.equal(planChange(joint, [c]), "changeInProgress", `${c.type} ${c.id}`);
  }
});

// ---- applyConfEntry ------------------------------------------------------------------------------

test("applyConfEntry bootstrap: the named voters, no learners, not joint (whatever came before)", () => {
  const before = config([7, 8], [9], [7]);
  const after = applyConfEntry(before, { op: "bootstrap", voters: [3, 1, 2].map(nodeId) });
  assert.deepEqual(plain(after), { incoming: [1, 2, 3], outgoing: undefined, learners: [] });
  assert.deepEqual(plain(before), { incoming: [7, 8], outgoing: [7], learners: [9] }, "the input is not mutated");
});

test("applyConfEntry simple: addLearner and remove of a learner change only the learners", () => {
  const c = config([1, 2, 3]);
  const added = applyConfEntry(c, { op: "simple", changes: [change("addLearner", 4)] });
  assert.deepEqual(plain(added), { incoming: [1, 2, 3], outgoing: undefined, learners: [4] });
  const removed = applyConfEntry(added, { op: "simple", changes: [change("remove", 4)] });
  assert.deepEqual(plain(removed), { incoming: [1, 2, 3], outgoing: undefined, learners: [] });
  assert.deepEqual(plain(c), { incoming: [1, 2, 3], outgoing: undefined, learners: [] }, "inputs are not mutated");
  assert.deepEqual(plain(added), { incoming: [1, 2, 3], outgoing: undefined, learners: [4] }, "inputs are not mutated");
  // A stale entry (adding an existing member) leaves the configuration unchanged.
  assert.deepEqual(plain(applyConfEntry(added, { op: "simple", changes: [change("addLearner", 2)] })), plain(added));
  assert.deepEqual(plain(applyConfEntry(added, { op: "simple", changes: [change("addLearner", 4)] })), plain(added));
});

test("applyConfEntry enterJoint: the old voters become the outgoing half; promote moves the learner into incoming, remove takes the voter out", () => {
  const c = config([1, 2, 3], [4]);
  const promoted = applyConfEntry(c, { op: "enterJoint", changes: [change("promote", 4)] });
  assert.deepEqual(plain(promoted), { incoming: [1, 2, 3, 4], outgoing: [1, 2, 3], learners: [] });
  const removed = applyConfEntry(c, { op: "enterJoint", changes: [change("remove", 2)] });
  assert.deepEqual(plain(removed), { incoming: [1, 3], outgoing: [1, 2, 3], learners: [4] });
  assert.deepEqual(plain(c), { incoming: [1, 2, 3], outgoing: undefined, learners: [4] }, "the input is not mutated");
  // The last voter is never removed, even by an entry that says so.
  assert.deepEqual(plain(applyConfEntry(config([1]), { op: "enterJoint", changes: [change("remove", 1)] })), {
    incoming: [1],
    outgoing: [1],
    learners: [],
  });
});

test("applyConfEntry leaveJoint: drops the outgoing half and keeps incoming and learners", () => {
  const joint = config([1, 3], [4], [1, 2, 3]);
  assert.deepEqual(plain(applyConfEntry(joint, { op: "leaveJoint" })), {
    incoming: [1, 3],
    outgoing: undefined,
    learners: [4],
  });
  // Leaving when not joint changes nothing.
  const simple = config([1, 2, 3], [4]);
  assert.deepEqual(plain(applyConfEntry(simple, { op: "leaveJoint" })), plain(simple));
});

test("applyConfEntry: bootstrap, addLearner, enterJoint(promote), leaveJoint, enterJoint(remove), leaveJoint replays to the expected sequence", () => {
  const empty = config([]);
  const entries: ConfEntry[] = [
    { op: "bootstrap", voters: [1, 2, 3].map(nodeId) },
    { op: "simple", changes: [change("addLearner", 4)] },
    { op: "enterJoint", changes: [change("promote", 4)] },
    { op: "leaveJoint" },
    { op: "enterJoint", changes: [change("remove", 1)] },
    { op: "leaveJoint" },
  ];
  const seen: unknown[] = [];
  entries.reduce((c, e) => {
    const next = applyConfEntry(c, e);
    seen.push(plain(next));
    return next;
  }, empty);
  assert.deepEqual(seen, [
    { incoming: [1, 2, 3], outgoing: undefined, learners: [] },
    { incoming: [1, 2, 3], outgoing: undefined, learners: [4] },
    { incoming: [1, 2, 3, 4], outgoing: [1, 2, 3], learners: [] },
    { incoming: [1, 2, 3, 4], outgoing: undefined, learners: [] },
    { incoming: [2, 3, 4], outgoing: [1, 2, 3, 4], learners: [] },
    { incoming: [2, 3, 4], outgoing: undefined, learners: [] },
  ]);
});

// ---- encoding ------------------------------------------------------------------------------------

test("encode/decode round-trips every ConfEntry op and change type, with and without context", () => {
  const context = new Uint8Array([0, 1, 2, 250, 255, 7]);
  const entries: ConfEntry[] = [
    { op: "bootstrap", voters: [1].map(nodeId) },
    { op: "bootstrap", voters: [1, 2, 3, 0xffff_ffff].map(nodeId) },
    { op: "bootstrap", voters: [] },
    { op: "leaveJoint" },
  ];
  for (const op of ["simple", "enterJoint"] as const) {
    for (const type of ["addLearner", "promote", "remove"] as const) {
      entries.push({ op, changes: [change(type, 42)] });
      entries.push({ op, changes: [change(type, 0xffff_ffff, context)] });
      entries.push({ op, changes: [change(type, 43), change("remove", 44, context), change("addLearner", 45)] });
    }
  }
  for (const entry of entries) {
    const bytes = encodeConfEntry(entry);
    const decoded = decodeConfEntry(bytes);
    assert.ok(decoded !== undefined, `${JSON.stringify(entry)} decodes`);
    if (entry.op === "bootstrap" || entry.op === "leaveJoint") {
      assert.deepEqual(decoded, entry);
    } else {
      assert.ok(decoded.op === entry.op, `op ${entry.op}`);
      const got = decoded.changes;
      const plainChanges = (changes: readonly ConfChange[]): unknown =>
        changes.map((c) => ({ type: c.type, id: c.id, context: [...c.context] }));
      assert.deepEqual(plainChanges(got), plainChanges(entry.changes));
    }
    // Decoding from a view into a larger buffer (as a WAL record hands it out) gives the same entry.
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 3);
    assert.deepEqual(
      decodeConfEntry(padded.subarray(3, 3 + bytes.length)),
      decoded,
      `${JSON.stringify(entry)} from an offset view`,
    );
  }
  // Bootstrap voters are written sorted, so every initial member writes identical bytes.
  assert.deepEqual(
    [...encodeConfEntry({ op: "bootstrap", voters: [3, 1, 2].map(nodeId) })],
    [...encodeConfEntry({ op: "bootstrap", voters: [1, 2, 3].map(nodeId) })],
  );
});

test("decodeConfEntry rejects malformed bytes (truncated, bad version, unknown op or type, id 0, wrong context length, trailing bytes) without throwing", () => {
  const withContext = encodeConfEntry({ op: "enterJoint", changes: [change("promote", 7, new Uint8Array([9, 9, 9]))] });
  const simple = encodeConfEntry({ op: "simple", changes: [change("addLearner", 7)] });
  const bootstrap = encodeConfEntry({ op: "bootstrap", voters: [1, 2].map(nodeId) });
  const leave = encodeConfEntry({ op: "leaveJoint" });
  const edit = (bytes: Uint8Array, at: number, value: number): Uint8Array => {
    const copy = bytes.slice();
    copy[at] = value;
    return copy;
  };
  const bad: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["version only", new Uint8Array([1])],
    ["bad version (0)", edit(simple, 0, 0)],
    ["bad version (2)", edit(simple, 0, 2)],
    ["bad version on leaveJoint", edit(leave, 0, 9)],
    ["bad version on bootstrap", edit(bootstrap, 0, 2)],
    ["unknown op 0", edit(simple, 1, 0)],
    ["unknown op 5", edit(simple, 1, 5)],
    ["unknown change type 0", edit(simple, 2, 0)],
    ["unknown change type 4", edit(simple, 2, 4)],
    ["id 0", encodeConfEntry({ op: "simple", changes: [change("remove", 0)] })],
    ["id 0 in a bootstrap", encodeConfEntry({ op: "bootstrap", voters: [1, 0].map(nodeId) })],
    ["context length says 4, 3 follow", edit(withContext, 10, 4)],
    ["context length says 2, 3 follow", edit(withContext, 10, 2)],
    ["context length huge", edit(withContext, 7, 0xff)],
    ["trailing byte after a change", new Uint8Array([...withContext, 0])],
    ["trailing byte after leaveJoint", new Uint8Array([...leave, 0])],
    ["bootstrap with a partial voter id", bootstrap.subarray(0, bootstrap.length - 1)],
    ["bootstrap with an extra byte", new Uint8Array([...bootstrap, 1])],
  ];
  // Every truncation of a change entry is rejected too.
  for (let n = 0; n < withContext.length; n++) bad.push([`change truncated to ${n} bytes`, withContext.subarray(0, n)]);
  for (let n = 0; n < simple.length; n++) bad.push([`simple truncated to ${n} bytes`, simple.subarray(0, n)]);
  for (const [what, bytes] of bad) {
    let decoded: unknown;
    assert.doesNotThrow(() => {
      decoded = decodeConfEntry(bytes);
    }, what);
    assert.equal(decoded, undefined, what);
  }
});

test("decodeConfEntry never throws on arbitrary bytes (seeded fuzz of mutations of valid entries)", () => {
  const valid = [
    encodeConfEntry({ op: "enterJoint", changes: [change("promote", 7, new Uint8Array([9, 9, 9]))] }),
    encodeConfEntry({ op: "simple", changes: [change("addLearner", 300)] }),
    encodeConfEntry({ op: "bootstrap", voters: [1, 2, 3].map(nodeId) }),
    encodeConfEntry({ op: "leaveJoint" }),
  ];
  // A tiny deterministic LCG, so a failure replays.
  let state = 12345;
  const next = (n: number): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  for (let k = 0; k < 5000; k++) {
    const base = valid[next(valid.length)]!;
    const bytes = base.slice(0, next(base.length + 3));
    for (let flips = next(3); flips > 0 && bytes.length > 0; flips--) bytes[next(bytes.length)] = next(256);
    const decoded = decodeConfEntry(bytes);
    if (decoded === undefined) continue;
    if (decoded.op === "bootstrap") {
      // The encoder sorts voters, so compare the voters themselves: the same ids, none of them 0.
      assert.equal(decoded.voters.length, (bytes.length - 2) / 4, `case ${k}: one voter per 4 bytes`);
      assert.ok(
        decoded.voters.every((id) => id !== 0),
        `case ${k}: no voter 0`,
      );
      const again = decodeConfEntry(encodeConfEntry(decoded));
      const sorted = (v: readonly number[]): number[] => [...v].sort((a, b) => a - b);
      assert.deepEqual(again?.op === "bootstrap" ? sorted(again.voters) : again, sorted(decoded.voters), `case ${k}`);
    } else {
      // Whatever decodes re-encodes to the very same bytes: nothing is silently dropped or invented.
      assert.deepEqual([...encodeConfEntry(decoded)], [...bytes], `case ${k}: ${[...bytes].join(",")}`);
    }
  }
});

test("planChange with several changes: each is checked against what the ones before it leave; any voter change makes the entry joint", () => {
  const c = config([1, 2, 3], [4, 5]);
  const replace = [change("promote", 4), change("promote", 5), change("remove", 1), change("remove", 2)];
  assert.deepEqual(planChange(c, replace), { op: "enterJoint", changes: replace });
  assert.deepEqual(plain(applyConfEntry(c, { op: "enterJoint", changes: replace })), {
    incoming: [3, 4, 5],
    outgoing: [1, 2, 3],
    learners: [],
  });
  const learnersOnly = [change("addLearner", 6), change("remove", 4)];
  assert.deepEqual(planChange(c, learnersOnly), { op: "simple", changes: learnersOnly });
  assert.equal(planChange(c, [change("remove", 1), change("remove", 2), change("remove", 3)]), "lastVoter");
  assert.equal(
    planChange(c, [change("addLearner", 6), change("addLearner", 6)]),
    "alreadyMember",
    "the second sees the first",
  );
  assert.deepEqual(planChange(c, [change("addLearner", 6), change("promote", 6)]), {
    op: "enterJoint",
    changes: [change("addLearner", 6), change("promote", 6)],
  });
  assert.equal(planChange(c, []), "malformed");
});

test("a restart does not replay a config entry its snapshot already holds: a joint configuration keeps its outgoing voters (found by the sweep)", () => {
  // The entry that entered the joint configuration lingers in the log below the snapshot that
  // already holds its result, as it does when entries are kept below a snapshot.
  const enterJoint = encodeConfEntry({
    op: "enterJoint",
    changes: [
      { type: "promote", id: nodeId(4), context: NO_CONTEXT },
      { type: "remove", id: nodeId(3), context: NO_CONTEXT },
    ],
  });
  const entries = [
    { index: logIndex(5), term: term(2), kind: "config" as const, data: enterJoint },
    { index: logIndex(6), term: term(2), kind: "normal" as const, data: new Uint8Array([1]) },
    { index: logIndex(7), term: term(2), kind: "normal" as const, data: new Uint8Array([2]) },
  ];
  const meta = {
    index: logIndex(6),
    term: term(2),
    voters: [1, 2, 4].map(nodeId),
    votersOutgoing: [1, 2, 3].map(nodeId),
    learners: [],
  };
  const restarted = new RawNode(
    { id: nodeId(1), voters: [], random: new Prng(1), checkInvariants: true },
    {
      hardState: { term: term(2), vote: NO_NODE, commit: logIndex(7) },
      entries,
      snapshot: { meta, data: new Uint8Array(0) },
      applied: logIndex(7),
    },
  );
  const { incoming, outgoing } = restarted.config();
  assert.deepEqual([...incoming].sort(), [1, 2, 4].map(nodeId));
  assert.deepEqual([...(outgoing ?? [])].sort(), [1, 2, 3].map(nodeId), "the old voters must still decide");
});
