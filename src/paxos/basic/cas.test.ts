import assert from "node:assert/strict";
import { test } from "node:test";
import { fromUtf8, utf8 } from "../../util/bytes.js";
import { nodeId, type NodeId } from "../../util/ids.js";
import { Cluster } from "./sim_cluster.js";
import type { Message } from "./messages.js";
import type { Outcome } from "./state.js";

const [A, B, C] = [nodeId(1), nodeId(2), nodeId(3)];
const written = (version: number): Outcome => ({ type: "written", version });
const conflict = (version: number, value?: string): Outcome => ({
  type: "conflict",
  version,
  value: value === undefined ? undefined : utf8(value),
});
const read = (version: number, value?: string): Outcome => ({
  type: "value",
  version,
  value: value === undefined ? undefined : utf8(value),
});
const touches = (id: NodeId) => (m: Message) => m.from === id || m.to === id;
const prepares = (c: Cluster, from: NodeId): number[] =>
  c.network.flatMap((m) => (m.type === "prepare" && m.from === from ? [m.instance] : []));

let nextRequest = 1;

/** Runs one compare-and-set on `id` to completion over a network that loses whatever `lost` matches. */
function cas(c: Cluster, id: NodeId, expected: number, value: string, lost = (_: Message) => false): Outcome {
  const request = nextRequest++;
  assert.deepEqual(c.member(id).cas("r", expected, utf8(value), request), { ok: true });
  c.run(id);
  while (c.network.length > 0) {
    c.drop(lost);
    if (c.network.length > 0) c.deliverAt(0);
  }
  const outcome = c.outcomeOf(id, request)?.outcome;
  assert.ok(outcome !== undefined, `cas ${expected} → ${value} on ${id} unanswered`);
  return outcome;
}

function readOn(c: Cluster, id: NodeId): Outcome {
  const request = nextRequest++;
  c.member(id).read("r", request);
  c.run(id);
  c.settle();
  const outcome = c.outcomeOf(id, request)?.outcome;
  assert.ok(outcome !== undefined, `read on ${id} unanswered`);
  return outcome;
}

test("cas: each compare-and-set from the latest version writes the next one, on any member, and reads see the last", () => {
  const c = new Cluster(3);
  assert.deepEqual(cas(c, A, 0, "v1"), written(1));
  assert.deepEqual(cas(c, B, 1, "v2"), written(2));
  assert.deepEqual(cas(c, C, 2, "v3"), written(3));
  for (const id of c.ids) assert.deepEqual(readOn(c, id), read(3, "v3"), `read on ${id}`);
  assert.equal(c.ledger.latest("r"), 3);
});

test("cas: from a stale version it fails with the value that won the next version, at once when learned here", () => {
  const c = new Cluster(3);
  cas(c, A, 0, "v1");
  cas(c, A, 1, "v2");
  c.member(C).cas("r", 0, utf8("late"), 100);
  c.member(C).cas("r", 1, utf8("later"), 101);
  c.run(C);
  assert.deepEqual(c.outcomeOf(C, 100)?.outcome, conflict(1, "v1"));
  assert.deepEqual(c.outcomeOf(C, 101)?.outcome, conflict(2, "v2"));
  assert.equal(c.network.length, 0, "no round: versions 1 and 2 are learned here");
});

test("cas: from a version not reached yet it fails with the latest version, read linearizably, and writes nothing", () => {
  const c = new Cluster(3);
  assert.deepEqual(cas(c, B, 4, "early"), conflict(0), "an unwritten register is at version 0");
  cas(c, A, 0, "v1");
  assert.deepEqual(cas(c, B, 5, "early"), conflict(1, "v1"));
  assert.equal(c.ledger.latest("r"), 1, "the failed compare-and-sets chose nothing");
});

test("cas: of two compare-and-sets from one version on two members, exactly one writes", () => {
  const c = new Cluster(3);
  cas(c, A, 0, "v1");
  c.member(A).cas("r", 1, utf8("a"), 200);
  c.member(C).cas("r", 1, utf8("c"), 201);
  c.run(A);
  c.run(C);
  for (let i = 0; c.network.length > 0; i++) c.deliverAt((i * 7) % c.network.length); // interleaved
  for (let t = 0; t < 60 && (!c.outcomeOf(A, 200) || !c.outcomeOf(C, 201)); t++) {
    for (const id of c.ids) c.tick(id);
    c.settle();
  }
  const winner = fromUtf8(c.ledger.chosen("r", 2)!);
  const [a, b] = [c.outcomeOf(A, 200)?.outcome, c.outcomeOf(C, 201)?.outcome];
  assert.deepEqual(winner === "a" ? [a, b] : [b, a], [written(2), conflict(2, winner)], `${winner} won`);
});

test("cas: a member that missed versions catches up on a read by completing each instance, with no no-op", () => {
  const c = new Cluster(3);
  cas(c, A, 0, "v1", touches(C));
  cas(c, A, 1, "v2", touches(C));
  cas(c, B, 2, "v3", touches(C));
  assert.equal(c.member(C).latestKnown("r").version, 0, "C heard nothing");
  const request = nextRequest++;
  c.member(C).read("r", request);
  c.run(C);
  const instances: number[] = [];
  while (c.outcomeOf(C, request) === undefined) {
    instances.push(...prepares(c, C));
    c.deliverAt(0);
  }
  c.settle();
  assert.deepEqual(c.outcomeOf(C, request)?.outcome, read(3, "v3"));
  assert.deepEqual([...new Set(instances)], [1, 2, 3, 4], "one round per instance, then one on the next finds nothing");
  assert.equal(c.ledger.latest("r"), 3, "the read wrote nothing");
  for (const v of [1, 2, 3]) assert.equal(fromUtf8(c.member(C).chosen("r", v)!), `v${v}`);
});

test("cas: a member that learned a later version but not an earlier one learns it when a compare-and-set needs it", () => {
  const c = new Cluster(3);
  cas(c, A, 0, "v1");
  cas(c, A, 1, "v2", (m) => m.type === "chosen" && m.to === C);
  cas(c, A, 2, "v3");
  assert.equal(c.member(C).chosen("r", 2), undefined);
  assert.equal(c.member(C).latestKnown("r").version, 3);
  const request = nextRequest++;
  c.member(C).cas("r", 1, utf8("stale"), request);
  c.run(C);
  assert.deepEqual(prepares(c, C), [2, 2], "a round on instance 2, which is decided but not learned here");
  c.settle();
  assert.deepEqual(c.outcomeOf(C, request)?.outcome, conflict(2, "v2"));
});

test("cas: versions, values and promises are durable per instance across a restart", () => {
  const c = new Cluster(3);
  cas(c, A, 0, "v1");
  cas(c, A, 1, "v2");
  c.crash(B);
  c.restart(B);
  assert.deepEqual(c.member(B).latestKnown("r"), { version: 2, value: utf8("v2") });
  assert.equal(c.member(B).status().instancesKnown, 2);
  assert.deepEqual(cas(c, B, 1, "late"), conflict(2, "v2"));
  assert.deepEqual(cas(c, B, 2, "v3"), written(3));
});

test("cas: a retried compare-and-set that took effect reports written (success is judged by the bytes)", () => {
  const c = new Cluster(3);
  assert.deepEqual(cas(c, A, 0, "v1"), written(1));
  assert.deepEqual(cas(c, B, 0, "v1"), written(1), "a client retrying on another member after a timeout");
});
