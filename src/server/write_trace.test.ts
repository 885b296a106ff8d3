import { test } from "node:test";
import assert from "node:assert/strict";
import type { EngineEntry, EngineReady, EngineTypes } from "../engine/engine.js";
import { logIndex } from "../util/ids.js";
import { WriteTracer, type WriteStamps, type WriteStep } from "./write_trace.js";

/** A Ready as the trace sees it: only its identity and committed entries matter. */
function ready(committed: number[] = []): EngineReady<EngineTypes> {
  return { committed: committed.map((index) => entry(index)) } as unknown as EngineReady<EngineTypes>;
}

function entry(index: number): EngineEntry {
  return { index: logIndex(index) } as unknown as EngineEntry;
}

const ack = (from: number, matchIndex: number) => ({ type: "appendEntriesResponse", success: true, from, matchIndex });

function assertInOrder(r: WriteStamps, steps: readonly WriteStep[]): void {
  for (const step of steps) assert.equal(typeof r[step], "number", `${step} stamped`);
  for (let k = 1; k < steps.length; k++)
    assert.ok(r[steps[k]!]! >= r[steps[k - 1]!]!, `${steps[k - 1]} before ${steps[k]}`);
}

test("a leader's put is stamped at every step from arrival to answer, under its log index", () => {
  const tracer = new WriteTracer();
  const observer = tracer.observer();
  const write = tracer.begin();
  write.proposing(() => observer.proposed!("accepted", logIndex(5)));
  const appending = ready();
  observer.readyStarted!(appending, undefined as never);
  observer.readyPersisted!(appending);
  observer.messageReceived!(ack(2, 5));
  observer.messageReceived!(ack(2, 5)); // the same follower again: still one acknowledgement
  observer.messageReceived!(ack(3, 6));
  observer.readyStarted!(ready([5]), undefined as never);
  observer.entriesApplied!([entry(5)]);
  write.replied();

  const [r] = tracer.records();
  assert.equal(r!.index, 5);
  assertInOrder(r!, [
    "received",
    "proposed",
    "readyStarted",
    "persisted",
    "ack1",
    "ack2",
    "committed",
    "applied",
    "replied",
  ]);
  assert.equal(r!.appendReceived, undefined);
});

test("a follower stamps when an entry arrived and when the Ready that persisted it started and ended", () => {
  const tracer = new WriteTracer();
  const observer = tracer.observer();
  observer.messageReceived!({ type: "appendEntries", from: 1, entries: [{ index: 7 }, { index: 8 }] });
  const persisting = ready();
  observer.readyStarted!(persisting, undefined as never);
  observer.readyStarted!(ready(), undefined as never); // a later Ready does not restamp them
  observer.readyPersisted!(persisting);

  const records = tracer.records();
  assert.deepEqual(
    records.map((r) => r.index),
    [7, 8],
  );
  for (const r of records) assertInOrder(r, ["appendReceived", "readyStarted", "persisted"]);
  assert.equal(records[0]!.ack1, undefined);
});

test("a refused proposal and other engines' messages leave no record", () => {
  const tracer = new WriteTracer();
  const observer = tracer.observer();
  tracer.begin().proposing(() => observer.proposed!("rejected"));
  observer.messageReceived!({ kind: "accept", slot: 3 });
  observer.readyStarted!(ready([1]), undefined as never);
  assert.deepEqual(tracer.records(), []);
});

test("a put refused before it reached the node lends its arrival to no later proposal", () => {
  const tracer = new WriteTracer();
  const observer = tracer.observer();
  tracer.begin().proposing(() => undefined);
  observer.proposed!("accepted", logIndex(9)); // a write of another kind, untraced
  const [r] = tracer.records();
  assert.equal(r!.index, 9);
  assert.equal(typeof r!.proposed, "number");
  assert.equal(r!.received, undefined);
});
