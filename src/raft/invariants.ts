import { assert, assertNever } from "../util/assert.js";
import { NO_NODE } from "../util/ids.js";
import type { RaftState } from "./state.js";

/*
 * One node's local invariants. Cluster-wide properties (one leader per term, log matching, ...)
 * are the simulator's checkers.
 */

/** Constant-time checks, run after every input in production too: a broken one is a bug worth stopping for. */
export function checkCoreInvariants(r: RaftState): void {
  const { log } = r;
  assert(log.applied <= log.applying, `applied ${log.applied} > applying ${log.applying}`);
  assert(log.applying <= log.committed, `applying ${log.applying} > commit ${log.committed}`);
  assert(log.committed <= log.lastIndex(), `commit ${log.committed} > last index ${log.lastIndex()}`);
  assert(log.stableIndex() <= log.lastIndex(), `stable ${log.stableIndex()} > last index ${log.lastIndex()}`);
  assert(r.lastTermNotAfterCurrent(), `last log term ${log.lastTerm()} > current term ${r.term}`);
  const { state } = r;
  switch (state.role) {
    case "leader":
      assert(r.leader === r.id && r.vote === r.id, "a leader leads itself and voted for itself");
      assert(state.uncommittedBytes >= 0, "negative uncommitted bytes");
      break;
    case "candidate":
      assert(r.vote === r.id && r.leader === NO_NODE, "a candidate voted for itself and knows no leader");
      break;
    case "preCandidate":
      assert(r.leader === NO_NODE, "a pre-candidate knows no leader");
      break;
    case "follower":
      break;
    default:
      assertNever(state, "role state");
  }
}

/** Checks that visit every member: after every input in tests and the simulator. */
export function checkAllInvariants(r: RaftState): void {
  checkCoreInvariants(r);
  const { state, log } = r;
  if (state.role !== "leader") return;
  assert(state.progress.has(r.id), "a leader tracks its own progress");
  for (const [id, pr] of state.progress) {
    assert(pr.match <= log.lastIndex(), `match ${pr.match} of ${id} beyond last index ${log.lastIndex()}`);
    assert(pr.match < pr.next, `match ${pr.match} ≥ next ${pr.next} for ${id}`);
  }
}
