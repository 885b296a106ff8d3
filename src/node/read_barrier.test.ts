import assert from "node:assert/strict";
import { test } from "node:test";
import { logIndex } from "../util/ids.js";
import type { Clock } from "./clock.js";
import { ReadBarrier } from "./read_barrier.js";
import type { Ticker } from "./ticker.js";

const idleClock: Clock = {
  now: () => 0,
  after: () => ({ cancel: () => undefined }),
  every: () => ({ cancel: () => undefined }),
  soon: () => undefined,
};

test("a lease read is released only by its own round, not by a linearizable round of the same number (found by the sweep)", async () => {
  const contexts: Uint8Array[] = [];
  const raw = { read: (context: Uint8Array) => (contexts.push(context), { ok: true }) };
  const ticker = { leaseVoid: () => false } as unknown as Ticker;
  const barrier = new ReadBarrier({
    raw,
    ticker,
    clock: idleClock,
    observer: undefined,
    electionTimeoutMs: 100,
    schedule: () => undefined,
  });
  let applied = 5;
  const released: string[] = [];
  void barrier.wait("linearizable", () => applied).then(() => released.push("linearizable"));
  // The lease read arrives after index 6 committed: a round that began before cannot vouch for it.
  void barrier.wait("lease", () => applied).then(() => released.push("lease"));
  assert.equal(contexts.length, 2, "each kind of read started its first round");
  barrier.advanced([{ context: contexts[0]!, index: logIndex(5) }], applied);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(released, ["linearizable"]);
  applied = 6;
  barrier.advanced([{ context: contexts[1]!, index: logIndex(6) }], applied);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(released, ["linearizable", "lease"]);
});
