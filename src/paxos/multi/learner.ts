import { logIndex, type NodeId } from "../../util/ids.js";
import type { CommitNotice, Learn, LearnRequest, InstallSnapshot } from "./messages.js";
import type { PaxosState } from "./state.js";
import { sameBallot, type Slot } from "./types.js";
import { OK, type StepResult } from "./step_result.js";

/**
 * Learns the slots a commit notice names, in order, while this acceptor holds the value of the
 * named (slot, ballot). Returns true when it is stuck: the next chosen slot's value is not here.
 */
export function learnFromNotice(s: PaxosState, notice: CommitNotice): boolean {
  // The leader names no slot before `from`, believing them known here (or compacted on its side).
  if (notice.from > s.log.chosenThrough + 1) return true;
  let first = notice.from;
  for (const run of notice.runs) {
    for (let slot = Math.max(first, s.log.chosenThrough + 1); slot <= run.last; slot++) {
      const record = s.accepted.get(logIndex(slot));
      if (record === undefined || !sameBallot(record.ballot, run.ballot)) return true;
      s.log.append({ slot: record.slot, ballot: run.ballot, value: record.value });
    }
    first = logIndex(run.last + 1);
  }
  return false;
}

/**
 * Sends `to` what this member knows chosen from `fromSlot` on: values from the log, or the
 * snapshot when that slot is compacted. Returns the last slot sent, or undefined for nothing.
 */
export function sendChosenFrom(s: PaxosState, to: NodeId, fromSlot: Slot): Slot | undefined {
  if (fromSlot > s.log.chosenThrough) return undefined;
  if (fromSlot <= s.log.offset) {
    const snapshot = s.snapshot;
    if (snapshot === undefined) return undefined;
    s.send({ type: "snapshot", from: s.id, to, snapshot });
    s.stats.snapshotsSent++;
    return snapshot.index;
  }
  const { learnEntriesMax, messageBytesMax } = s.options;
  const entries = s.log.slice(fromSlot, learnEntriesMax, messageBytesMax);
  s.send({ type: "learn", from: s.id, to, entries });
  return entries.at(-1)!.slot;
}

export function onLearnRequest(s: PaxosState, m: LearnRequest): StepResult {
  sendChosenFrom(s, m.from, m.fromSlot);
  return OK;
}

/** Chosen values are facts whoever tells them: take those that continue the log. */
export function onLearn(s: PaxosState, m: Learn): StepResult {
  for (const entry of m.entries) {
    if (entry.slot === s.log.chosenThrough + 1) s.log.append(entry);
  }
  return OK;
}

/**
 * A snapshot beyond what this member knows chosen replaces its learner log and state machine;
 * the accepted records it covers are moot (those slots are chosen).
 */
export function onSnapshot(s: PaxosState, m: InstallSnapshot): StepResult {
  const { snapshot } = m;
  if (snapshot.index <= s.log.chosenThrough) return { ok: false, reason: "stale" };
  s.log.restore(snapshot.index);
  s.snapshot = snapshot;
  s.pendingSnapshot = snapshot;
  s.dropRecordsThrough(snapshot.index);
  return OK;
}
