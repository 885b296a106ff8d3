import { assert } from "../../util/assert.js";
import { NO_NODE } from "../../util/ids.js";
import type { PaxosState } from "./state.js";
import { compareBallots, formatBallot, sameBallot } from "./types.js";

/**
 * One member's local invariants, asserted after every input when enabled (tests, the simulator).
 * Each costs O(1) or O(what changed since the last Ready), so it can run on every step of a long
 * run. Cluster-wide properties (one value chosen per slot, ...) are in safety.ts.
 */
export function checkLocalInvariants(s: PaxosState): void {
  const { log } = s;
  assert(log.offset <= log.applied && log.applied <= log.chosenThrough, `applied ${log.applied} outside the log`);
  assert(compareBallots(s.promised, s.highestSeen) <= 0, "promised above the highest ballot seen");
  // Every record enters through dirtyRecords, which holds it until the next Ready.
  for (const record of s.dirtyRecords.values()) {
    if (!s.accepted.has(record.slot)) continue;
    assert(compareBallots(record.ballot, s.promised) <= 0, `slot ${record.slot} accepted above the promise`);
    assert(record.slot > s.acceptorFloor, `record at ${record.slot} under the snapshot`);
  }
  switch (s.role) {
    case "leader":
      checkLeader(s);
      break;
    case "candidate":
      assert(s.campaign !== undefined && s.lead === undefined, "a candidate campaigns and does not lead");
      assert(sameBallot(s.campaign.ballot, s.promised), "a candidate campaigns in the ballot it promised");
      assert(s.leader === NO_NODE, "a candidate knows no leader");
      break;
    case "follower":
      assert(s.campaign === undefined && s.lead === undefined, "a follower neither campaigns nor leads");
      break;
  }
}

function checkLeader(s: PaxosState): void {
  const lead = s.lead;
  assert(lead !== undefined && s.campaign === undefined && s.leader === s.id, "a leader leads itself");
  assert(
    sameBallot(lead.ballot, s.promised),
    `leader in ${formatBallot(lead.ballot)} promised ${formatBallot(s.promised)}`,
  );
  assert(lead.nextSlot > s.log.chosenThrough, `next slot ${lead.nextSlot} not beyond chosen`);
  assert(lead.knownChosenThrough >= s.log.chosenThrough, "known chosen behind the log");
  const inflight = lead.nextSlot - 1 - s.log.chosenThrough;
  assert(lead.proposals.size <= inflight, `${lead.proposals.size} proposals for ${inflight} open slots`);
  const first = lead.proposals.keys().next();
  assert(first.done === true || first.value > s.log.chosenThrough, "a proposal for a slot already chosen here");
}
