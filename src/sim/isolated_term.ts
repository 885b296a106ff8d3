import type { NodeId, Term } from "../raft/index.js";
import type { SafetyChecker } from "./checkers.js";

/** What the check keeps of a member: when every link to and from it was cut, and its term then. */
interface IsolationRecord {
  readonly name: string;
  readonly id: NodeId;
  readonly isolatedSince: number | undefined;
  isolatedTerm: Term | undefined;
  readonly lastDeliveryAt: number;
}

/**
 * With pre-vote on, a member cut off from everyone that has heard nothing since cannot raise its
 * term, unless it is a quorum by itself (the only voter left).
 */
export function checkIsolatedTerm(
  checker: SafetyChecker,
  m: IsolationRecord,
  term: Term,
  config: { incoming: ReadonlySet<NodeId>; outgoing: ReadonlySet<NodeId> | undefined },
): void {
  if (m.isolatedSince === undefined) return;
  const alone = (voters: ReadonlySet<NodeId> | undefined): boolean =>
    voters === undefined || (voters.size === 1 && voters.has(m.id));
  if (alone(config.incoming) && alone(config.outgoing)) return;
  if (m.isolatedTerm === undefined || m.lastDeliveryAt >= m.isolatedSince) {
    m.isolatedTerm = term;
    return;
  }
  if (term > m.isolatedTerm) {
    checker.fail(
      "isolatedTermRise",
      `${m.name}, cut off from everyone since t=${m.isolatedSince} and hearing nothing, went from term ${m.isolatedTerm} to ${term}`,
    );
  }
}
