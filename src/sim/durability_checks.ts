import { NO_NODE, type DurableState, type Message, type NodeId, type Term } from "../raft/index.js";
import type { SafetyChecker } from "./checkers.js";
import { DurableMirror } from "./durable_mirror.js";

/**
 * A vote or an append acknowledgement promises what is on the sender's disk: when it leaves, the
 * vote must be durable, and so must an entry at the acknowledged index from no later term than the
 * acknowledgement's (the sender's log may have moved on since it was made, which the message's term
 * tells the leader).
 */
export function checkDurableAck(
  checker: SafetyChecker,
  sent: { member: string; message: Message; mirror: DurableMirror },
): void {
  const { member, message: m, mirror } = sent;
  if (m.type === "voteResponse" && m.granted && !m.preVote) {
    const hs = mirror.hardState;
    if (hs.term !== m.term || hs.vote !== m.to) {
      checker.fail(
        "notDurable",
        `${member} granted its vote in term ${m.term} while its disk holds term ${hs.term}, vote ${hs.vote}`,
      );
    }
  } else if (m.type === "appendEntriesResponse" && m.success && m.matchIndex > mirror.offset()) {
    const durable = mirror.termAt(m.matchIndex);
    if (durable === undefined || durable > m.term) {
      checker.fail(
        "notDurable",
        `${member} acknowledged index ${m.matchIndex} in term ${m.term} while its disk holds ${durable === undefined ? `only up to ${mirror.lastIndex()}` : `term ${durable} there`}`,
      );
    }
  }
}

/**
 * A member that learns a commit index past a configuration entry acts on the change for good (a
 * removed member stops campaigning), so a leader tells no one of it before it cannot forget it.
 */
export function checkConfigCommitDurable(
  checker: SafetyChecker,
  sent: { member: string; message: Message; mirror: DurableMirror },
): void {
  const { message: m, mirror } = sent;
  const commit =
    m.type === "appendEntries" ? m.commit : m.type === "heartbeat" || m.type === "timeoutNow" ? m.commit : 0;
  const known = mirror.commitKnown();
  const config = commit > known ? mirror.configIn(known, commit) : undefined;
  if (config !== undefined) {
    checker.fail(
      "notDurable",
      `${sent.member} sent commit index ${commit} past config entry ${config} while its durable commit index was ${known}`,
    );
  }
}

/**
 * A new life must recover everything the last one made durable: its term and vote, its commit
 * index, and every entry (unless a snapshot now covers it). Writes that never completed may
 * survive too (a process crash keeps the page cache): an entry may come back overwritten by one of
 * a later term, as Raft's truncation would have, and the log after it then may differ.
 */
export function checkRecovery(
  checker: SafetyChecker,
  member: string,
  before: DurableMirror | undefined,
  durable: DurableState,
): void {
  if (before === undefined) return;
  const hs = durable.hardState;
  const was = before.hardState;
  if (
    hs.term < was.term ||
    (hs.term === was.term && was.vote !== NO_NODE && hs.vote !== was.vote) ||
    hs.commit < was.commit
  ) {
    checker.fail(
      "notDurable",
      `${member} restarted with term ${hs.term}, vote ${hs.vote}, commit ${hs.commit}; it had made term ${was.term}, vote ${was.vote}, commit ${was.commit} durable`,
    );
    return;
  }
  const now = new DurableMirror(durable);
  for (let i = Math.max(now.offset(), before.offset()) + 1; i <= before.lastIndex(); i++) {
    const recovered = now.termAt(i);
    const durable = before.termAt(i)!;
    if (recovered !== undefined && recovered > durable) return;
    if (recovered !== durable) {
      checker.fail(
        "notDurable",
        `${member} restarted without its durable entry ${i} (term ${durable}; recovered ${recovered ?? "nothing"})`,
      );
      return;
    }
  }
}

/**
 * Figure 8's rule, checked against the logs themselves: a leader advances its commit index only to
 * an entry of its own term, and only once a quorum of the configuration in force (both halves while
 * joint) holds that entry durably.
 */
export function checkCommitOnDurableQuorum(
  checker: SafetyChecker,
  commit: {
    leader: string;
    term: Term;
    commit: number;
    termAtCommit: Term | undefined;
    voters: { incoming: ReadonlySet<NodeId>; outgoing: ReadonlySet<NodeId> | undefined };
    mirrorOf: (id: NodeId) => DurableMirror | undefined;
    nameOf: (id: NodeId) => string;
  },
): void {
  const { leader, term, termAtCommit } = commit;
  if (termAtCommit !== term) {
    checker.fail(
      "unsafeCommit",
      `${leader} (term ${term}) committed index ${commit.commit}, whose entry has term ${termAtCommit}`,
    );
    return;
  }
  for (const voters of [commit.voters.incoming, commit.voters.outgoing]) {
    if (voters === undefined) continue;
    const holders = [...voters].filter((id) => commit.mirrorOf(id)?.termAt(commit.commit) === term);
    if (2 * holders.length <= voters.size) {
      const names = (ids: Iterable<NodeId>): string => [...ids].map(commit.nameOf).join(",");
      checker.fail(
        "unsafeCommit",
        `${leader} (term ${term}) committed index ${commit.commit}, durable only on ${names(holders) || "none"} of ${names(voters)}`,
      );
      return;
    }
  }
}
