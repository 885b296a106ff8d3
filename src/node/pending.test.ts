import assert from "node:assert/strict";
import { test } from "node:test";
import type { Clock } from "./clock.js";
import { ForwardedProposals } from "./pending.js";

/** Time stands still: no waiter here may time out. */
const stillClock: Clock = {
  now: () => 0,
  after: () => ({ cancel: () => undefined }),
  every: () => ({ cancel: () => undefined }),
  soon: (run) => run(),
};

test("a sequence number reserved for a leader's own proposal is never one a forwarded proposal waits on", async () => {
  const forwarded = new ForwardedProposals(stillClock);
  // Forwarded as a follower, then leading: its own proposals take their numbers from the same count.
  const asFollower = forwarded.add(1_000);
  const own = forwarded.reserve();
  assert.notEqual(own, asFollower.seq);
  forwarded.applied(own, "the leader's own result");
  assert.equal(forwarded.size, 1, "applying the leader's own proposal settles no forwarded one");
  forwarded.applied(asFollower.seq, "forwarded result");
  assert.equal(await asFollower.result, "forwarded result");
  assert.equal(forwarded.add(1_000).seq, own + 1);
});
