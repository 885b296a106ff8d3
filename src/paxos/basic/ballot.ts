import { NO_NODE, type NodeId } from "../../util/ids.js";

/**
 * A proposal number, the articles' (counter, node id): rounds order ballots and the proposer's id
 * breaks ties, so two proposers never share a ballot ("3.1" < "4.5", and "4.1" < "4.5"). A proposer
 * makes its rounds unique by persisting the highest one before using it.
 * Invariant: a ballot a proposer uses has round ≥ 1 and proposer ≠ NO_NODE.
 */
export interface Ballot {
  readonly round: number;
  readonly proposer: NodeId;
}

/** Below every ballot a proposer uses: what an acceptor has promised before its first Prepare. */
export const ZERO_BALLOT: Ballot = { round: 0, proposer: NO_NODE };

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareBallots(a: Ballot, b: Ballot): number {
  return a.round !== b.round ? a.round - b.round : a.proposer - b.proposer;
}

export function ballotsEqual(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.proposer === b.proposer;
}

/** The articles' notation: round 3 of node 1 is "3.1". */
export function formatBallot(b: Ballot): string {
  return `${b.round}.${b.proposer}`;
}
