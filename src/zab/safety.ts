import { bytesEqual } from "../util/bytes.js";
import type { NodeId } from "../util/ids.js";
import type { ZabMessage } from "./messages.js";
import {
  compareZxid,
  formatZxid,
  zxidEqual,
  type DurableState,
  type HistoryEntry,
  type Phase,
  type Role,
  type Zxid,
} from "./types.js";

/*
 * ZAB's own safety properties, as checks a simulator runs on every step. Each costs O(1) per
 * delivery, except leader completeness, which walks what has been delivered (run it when a leader
 * establishes its epoch, or every step at test sizes).
 */

/** Everything delivered by any member so far, merged: agreed[i − 1] is what was delivered at index i. */
export interface DeliveryLedger {
  readonly agreed: HistoryEntry[];
}

export function createDeliveryLedger(): DeliveryLedger {
  return { agreed: [] };
}

/**
 * Checks one delivery (a committed entry a member applied), given the member's previous delivery
 * since it last started (undefined for its first), and records it:
 * - agreement: every member delivers the same transaction at an index, so delivered sequences are
 *   prefixes of one another;
 * - primary order: a member delivers index after index, each the next transaction of the same
 *   leader (counter + 1) or the first (counter 1) of a later epoch — a leader's transactions in its
 *   order with none skipped, and every earlier epoch's before a later one's.
 * Returns what is wrong, or undefined.
 */
export function checkDelivery(
  ledger: DeliveryLedger,
  previous: HistoryEntry | undefined,
  entry: HistoryEntry,
): string | undefined {
  const order = primaryOrderViolation(previous, entry);
  if (order !== undefined) return `primary order: ${order}`;
  const agreed = ledger.agreed[entry.index - 1];
  if (agreed === undefined) {
    if (entry.index !== ledger.agreed.length + 1)
      return `agreement: index ${entry.index} delivered before ${ledger.agreed.length + 1}`;
    ledger.agreed.push(entry);
    return undefined;
  }
  if (!zxidEqual(agreed.zxid, entry.zxid) || !bytesEqual(agreed.data, entry.data)) {
    return `agreement: index ${entry.index} delivered as ${formatZxid(entry.zxid)}, elsewhere as ${formatZxid(agreed.zxid)}`;
  }
  return undefined;
}

function primaryOrderViolation(previous: HistoryEntry | undefined, entry: HistoryEntry): string | undefined {
  const expectedIndex = (previous?.index ?? 0) + 1;
  if (entry.index !== expectedIndex) return `index ${entry.index} delivered after ${expectedIndex - 1}`;
  const z = entry.zxid;
  const sameEpoch = previous !== undefined && previous.zxid.epoch === z.epoch;
  if (sameEpoch && z.counter === previous.zxid.counter + 1) return undefined;
  if (!sameEpoch && z.counter === 1 && (previous === undefined || compareZxid(previous.zxid, z) < 0)) return undefined;
  return `${formatZxid(z)} delivered after ${previous === undefined ? "nothing" : formatZxid(previous.zxid)}`;
}

/** What leader completeness needs of a member; ZabNode provides it. */
export interface MemberView {
  readonly id: NodeId;
  softState(): { readonly role: Role; readonly phase: Phase; readonly epoch: number };
  historyEntry(index: number): HistoryEntry | undefined;
}

/**
 * A leader that has established its epoch (past discovery) holds every transaction committed in
 * earlier epochs, at the index it was delivered at. Anything delivered anywhere was committed, so
 * the ledger stands in for "committed"; a later epoch's transactions (delivered while a deposed
 * leader still believes it leads) are not its business. Returns what is wrong, or undefined (also
 * for a member that is not such a leader).
 */
export function checkLeaderCompleteness(ledger: DeliveryLedger, member: MemberView): string | undefined {
  const status = member.softState();
  if (status.role !== "leading" || status.phase === "discovery") return undefined;
  for (const agreed of ledger.agreed) {
    if (agreed.zxid.epoch >= status.epoch) break;
    const held = member.historyEntry(agreed.index);
    if (held === undefined || !zxidEqual(held.zxid, agreed.zxid)) {
      const what = held === undefined ? "nothing" : formatZxid(held.zxid);
      return `leader completeness: leader ${member.id} of epoch ${status.epoch} holds ${what} at ${agreed.index}, where ${formatZxid(agreed.zxid)} was delivered`;
    }
  }
  return undefined;
}

/**
 * An acknowledgement leaving a member promises what its durable state holds: ACKEPOCH its
 * acceptedEpoch (and the history it describes), Ack and Pong the transactions they name (a pong's
 * durable point), an Ack also currentEpoch. Returns what is wrong, or undefined; other messages
 * promise nothing.
 */
export function checkAcknowledgedDurable(durable: DurableState, m: ZabMessage): string | undefined {
  const holds = (z: Zxid): boolean => z.counter === 0 || durable.history.some((txn) => zxidEqual(txn.zxid, z));
  switch (m.type) {
    case "ackEpoch":
      if (durable.acceptedEpoch < m.epoch) return `ackEpoch ${m.epoch} left before acceptedEpoch was durable`;
      if (!holds(m.lastZxid) || durable.currentEpoch < m.currentEpoch) return "ackEpoch describes a state not durable";
      return undefined;
    case "ack":
      if (durable.currentEpoch < m.epoch) return `ack in epoch ${m.epoch} left before currentEpoch was durable`;
      return holds(m.zxid) ? undefined : `ack of ${formatZxid(m.zxid)} left before it was durable`;
    case "pong":
      return holds(m.durableZxid) ? undefined : `pong claims ${formatZxid(m.durableZxid)} durable`;
    default:
      return undefined;
  }
}
