import { assert } from "../../util/assert.js";
import { checkRecord } from "./acceptor.js";
import type { PaxosState } from "./state.js";

/*
 * One member's local invariants. That at most one value is decided per register is a property of the
 * whole cluster: the tests' harness and the simulator check it across members.
 */

/** Checks the records changed since the last Ready; cheap enough to run after every input. */
export function checkChangedInvariants(s: PaxosState): void {
  for (const register of s.recordsChanged) {
    const record = s.records.get(register);
    assert(record !== undefined && record.register === register, `record of ${JSON.stringify(register)} misfiled`);
    checkRecord(record);
  }
  assert(s.roundSeen >= 0 && s.round >= 0, "negative round");
}

/** Visits every proposal: after every input in tests and the simulator. */
export function checkAllInvariants(s: PaxosState): void {
  checkChangedInvariants(s);
  let waiting = 0;
  for (const [register, proposal] of s.proposals) {
    assert(proposal.register === register, `proposal of ${JSON.stringify(register)} misfiled`);
    assert(proposal.waiting.length > 0, "a proposal with no request waiting");
    assert(s.records.get(register)?.chosen === undefined, "still proposing to a decided register");
    waiting += proposal.waiting.length;
    const { attempt } = proposal;
    if (attempt.phase === "backoff") continue;
    assert(attempt.ballot.proposer === s.id && attempt.ballot.round <= s.round, "a round this member never took");
    if (attempt.phase === "prepare") assert(attempt.covered <= proposal.waiting.length, "covers more than wait");
  }
  assert(waiting === s.requestsPending, `requestsPending ${s.requestsPending} but ${waiting} waiting`);
}
