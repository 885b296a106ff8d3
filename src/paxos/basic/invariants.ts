import { assert } from "../../util/assert.js";
import { checkRecord, recordKey } from "./acceptor.js";
import { chosenAt, type PaxosState } from "./state.js";

/*
 * One member's local invariants. That at most one value is decided per instance, and that acceptors
 * keep their promises across time, are checked from outside by safety.ts.
 */

/**
 * Checks the records the last input changed; cheap enough to run after every input, and so each
 * message is built only on failure.
 */
export function checkChangedInvariants(s: PaxosState): void {
  for (const [key, record] of s.recordsUnchecked) {
    if (key !== recordKey(record.register, record.instance)) assert(false, `record ${JSON.stringify(key)} misfiled`);
    if (s.records.get(key) !== record) assert(false, `record ${JSON.stringify(key)} changed but not stored`);
    checkRecord(record);
    if (record.chosen !== undefined && record.instance > (s.latest.get(record.register) ?? 0)) {
      assert(false, `${JSON.stringify(key)} learned above latest`);
    }
  }
  s.recordsUnchecked.clear();
  assert(s.roundSeen >= 0 && s.round >= 0, "negative round");
}

/** Visits every proposal: after every input in tests and the simulator. */
export function checkAllInvariants(s: PaxosState): void {
  checkChangedInvariants(s);
  for (const [register, latest] of s.latest) {
    assert(chosenAt(s, register, latest) !== undefined, `latest ${latest} of ${JSON.stringify(register)} unlearned`);
  }
  let waiting = 0;
  for (const [register, proposal] of s.proposals) {
    assert(proposal.register === register, `proposal of ${JSON.stringify(register)} misfiled`);
    assert(proposal.waiting.length > 0, "a proposal with no request waiting");
    waiting += proposal.waiting.length;
    for (const r of proposal.waiting) assert(r.serial < s.requestSerial, "a request from the future");
    const { attempt } = proposal;
    if (attempt.phase === "backoff") continue;
    assert(attempt.ballot.proposer === s.id && attempt.ballot.round <= s.round, "a round this member never took");
    assert(attempt.startedAt <= s.requestSerial, "a round started in the future");
  }
  assert(waiting === s.requestsPending, `requestsPending ${s.requestsPending} but ${waiting} waiting`);
}
