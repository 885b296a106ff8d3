import assert from "node:assert/strict";
import { test } from "node:test";
import { logIndex } from "../util/ids.js";
import { Progress } from "./progress.js";

const i = logIndex;

/** A follower in replicate state that matches through `match`, with `inflightMax` slots. */
function replicating(match: number, inflightMax: number): Progress {
  const pr = new Progress(i(match + 1), inflightMax);
  if (match > 0) assert.equal(pr.maybeUpdate(i(match)), true);
  pr.becomeReplicate();
  return pr;
}

test("probe: one append at a time, paused until a response or heartbeat response", () => {
  const pr = new Progress(i(5), 8);
  assert.equal(pr.state, "probe");
  assert.equal(pr.isPaused(), false);
  pr.sentAppend(i(7));
  assert.equal(pr.isPaused(), true);
  assert.equal(pr.next, 5, "a probe does not advance next optimistically");
  pr.heardFrom();
  assert.equal(pr.isPaused(), false, "a heartbeat response unblocks the probe");
  pr.sentAppend(undefined);
  assert.equal(pr.isPaused(), true, "a bare probe also waits");
  assert.equal(pr.maybeUpdate(i(4)), true);
  assert.equal(pr.isPaused(), false);
  assert.equal(pr.match, 4);
  assert.equal(pr.next, 5);
});

test("replicate: appends are pipelined up to inflightMax, and acknowledgements free slots", () => {
  const pr = replicating(4, 2);
  assert.equal(pr.next, 5);
  pr.sentAppend(i(6));
  assert.equal(pr.next, 7, "next advances optimistically");
  assert.equal(pr.isPaused(), false);
  pr.sentAppend(i(8));
  assert.equal(pr.inflightCount(), 2);
  assert.equal(pr.isPaused(), true, "window full");
  assert.equal(pr.maybeUpdate(i(6)), true);
  assert.equal(pr.inflightCount(), 1);
  assert.equal(pr.isPaused(), false);
  assert.equal(pr.maybeUpdate(i(8)), true);
  assert.equal(pr.inflightCount(), 0);
  assert.equal(pr.match, 8);
  assert.equal(pr.next, 9);
  pr.sentAppend(undefined);
  assert.equal(pr.inflightCount(), 0, "an empty append takes no slot");
});

test("a stale success (at or below match) changes nothing", () => {
  const pr = replicating(6, 4);
  pr.sentAppend(i(8));
  assert.equal(pr.maybeUpdate(i(5)), false);
  assert.equal(pr.match, 6);
  assert.equal(pr.next, 9);
  assert.equal(pr.inflightCount(), 1);
});

test("stale rejections are ignored: in replicate at or below match, in probe for any other prevLogIndex", () => {
  const rep = replicating(6, 4);
  rep.sentAppend(i(9));
  assert.equal(rep.maybeDecreaseTo(i(5), i(3)), false, "rejected 5 ≤ match 6");
  assert.equal(rep.next, 10);
  assert.equal(rep.maybeDecreaseTo(i(8), i(3)), true, "a real rejection above match");
  assert.equal(rep.next, 7, "back to match + 1, never below");

  const probe = new Progress(i(10), 4);
  probe.sentAppend(undefined);
  assert.equal(probe.maybeDecreaseTo(i(7), i(3)), false, "not the probe in flight (prevLogIndex 9)");
  assert.equal(probe.next, 10);
  assert.equal(probe.isPaused(), true);
  assert.equal(probe.maybeDecreaseTo(i(9), i(3)), true);
  assert.equal(probe.next, 3, "jumps to the hint");
  assert.equal(probe.isPaused(), false);
});

test("a rejection hint never takes next below match + 1 nor above the rejected index", () => {
  const pr = new Progress(i(10), 4);
  pr.maybeUpdate(i(5));
  assert.equal(pr.maybeDecreaseTo(i(9), i(1)), true);
  assert.equal(pr.next, 6);
  assert.equal(pr.maybeDecreaseTo(i(5), i(50)), true);
  assert.equal(pr.next, 6, "a hint beyond the rejected index is capped (and by match + 1)");
});

test("heardFrom frees one slot of a full window, in case the appends that filled it were lost", () => {
  const pr = replicating(0, 2);
  pr.sentAppend(i(1));
  pr.sentAppend(i(2));
  assert.equal(pr.isPaused(), true);
  pr.heardFrom();
  assert.equal(pr.inflightCount(), 1);
  assert.equal(pr.isPaused(), false);
  assert.equal(pr.recentActive, true);
  pr.heardFrom();
  assert.equal(pr.inflightCount(), 1, "a window that is not full keeps its slots");
});

test("becomeProbe and becomeReplicate restart from match + 1 with an empty window", () => {
  const pr = replicating(3, 4);
  pr.sentAppend(i(5));
  pr.sentAppend(i(7));
  pr.becomeProbe();
  assert.equal(pr.state, "probe");
  assert.equal(pr.next, 4);
  assert.equal(pr.inflightCount(), 0);
  assert.equal(pr.isPaused(), false);
});
