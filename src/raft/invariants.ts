import { assert } from "../util/assert.js";
import type { Raft } from "./raft.js";

/**
 * One node's local invariants, asserted after every input when enabled (tests, the simulator).
 * Cluster-wide properties (one leader per term, log matching, ...) are the simulator's checkers.
 */
export function checkInvariants(r: Raft): void {
  const { log } = r;
  assert(log.applied <= log.committed, `applied ${log.applied} > commit ${log.committed}`);
  assert(log.committed <= log.lastIndex(), `commit ${log.committed} > last index ${log.lastIndex()}`);
  assert(log.stableIndex() <= log.lastIndex(), `stable ${log.stableIndex()} > last index ${log.lastIndex()}`);
  assert(r.lastTermNotAfterCurrent(), `last log term ${log.lastTerm()} > current term ${r.term}`);
  switch (r.role) {
    case "leader":
      assert(r.leader === r.id && r.vote === r.id, "a leader leads itself and voted for itself");
      for (const [id, pr] of r.progress) {
        assert(pr.match <= log.lastIndex(), `match ${pr.match} of ${id} beyond last index ${log.lastIndex()}`);
        assert(pr.match < pr.next, `match ${pr.match} ≥ next ${pr.next} for ${id}`);
      }
      assert(r.uncommittedBytes >= 0, "negative uncommitted bytes");
      break;
    case "candidate":
      assert(r.vote === r.id && r.leader === 0, "a candidate voted for itself and knows no leader");
      break;
    case "preCandidate":
    case "follower":
      assert(r.progress.size === 0, `a ${r.role} tracks no progress`);
      break;
  }
}
