import { assert } from "../util/assert.js";
import type { ZabState } from "./state.js";
import { formatZxid } from "./types.js";

/**
 * One member's local invariants, cheap enough to assert after every input (tests, the simulator).
 * The cluster-wide properties (primary order, agreement, a new leader holding every commit) are
 * in safety.ts.
 */
export function checkInvariants(z: ZabState): void {
  const { history } = z;
  assert(z.applied <= z.committed, `applied ${z.applied} > committed ${z.committed}`);
  assert(z.committed <= history.length, `committed ${z.committed} > history length ${history.length}`);
  assert(history.durableLength <= history.length, "durable prefix longer than the history");
  assert(z.currentEpoch <= z.acceptedEpoch, `currentEpoch ${z.currentEpoch} > acceptedEpoch ${z.acceptedEpoch}`);
  assert(z.durableEpochs.acceptedEpoch <= z.acceptedEpoch, "durable acceptedEpoch ahead of memory");
  assert(z.durableEpochs.currentEpoch <= z.currentEpoch, "durable currentEpoch ahead of memory");
  const last = history.lastZxid();
  assert(last.epoch <= z.currentEpoch, `history reaches ${formatZxid(last)} beyond currentEpoch ${z.currentEpoch}`);
  const s = z.state;
  switch (s.role) {
    case "looking":
      assert(s.votes.get(z.id) === s.vote, "a looking member counts its own vote");
      break;
    case "following":
      assert(
        s.phase === "discovery" || s.epoch === z.acceptedEpoch,
        "a follower past discovery accepted its leader's epoch",
      );
      assert(s.phase !== "broadcast" || s.epoch === z.currentEpoch, "a broadcasting follower took its leader's epoch");
      break;
    case "leading":
      assert(
        s.epoch === 0 || s.epoch === z.acceptedEpoch,
        `leading epoch ${s.epoch} is not acceptedEpoch ${z.acceptedEpoch}`,
      );
      assert(s.phase === "discovery" || s.epoch === z.currentEpoch, "an established leader took its own epoch");
      assert(last.epoch < s.epoch || last.counter <= z.counterMax, `counter ${last.counter} beyond ${z.counterMax}`);
      assert(s.phase === "broadcast" || last.epoch < s.epoch || s.epoch === 0, "a proposal before broadcast");
      for (const [id, learner] of s.learners) {
        assert(learner.match <= history.length, `match ${learner.match} of ${id} beyond the history`);
        assert(learner.sent <= history.length, `sent ${learner.sent} to ${id} beyond the history`);
      }
      break;
  }
}
