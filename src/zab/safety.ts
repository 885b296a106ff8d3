import { assertNever } from "../util/assert.js";
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

/**
 * Everything delivered by any member so far, merged: agreed[i − 1] is what was delivered at index
 * i, and committedBy[i − 1] an upper bound on the epoch whose leader committed it (the lowest
 * currentEpoch of a member that delivered it: a member learns of a commit from the leader it
 * follows, whose epoch is its currentEpoch then, and currentEpoch only grows).
 */
export interface DeliveryLedger {
  readonly agreed: HistoryEntry[];
  readonly committedBy: number[];
  /** The member seen to establish each epoch. */
  readonly leaders: Map<number, NodeId>;
}

export function createDeliveryLedger(): DeliveryLedger {
  return { agreed: [], committedBy: [], leaders: new Map() };
}

/** One delivery: what a member applied, what it applied just before (since it last started), and its currentEpoch. */
export interface Delivery {
  readonly entry: HistoryEntry;
  readonly previous: HistoryEntry | undefined;
  readonly currentEpoch: number;
}

/**
 * Checks one delivery (a committed entry a member applied) and records it:
 * - agreement: every member delivers the same transaction at an index, so delivered sequences are
 *   prefixes of one another;
 * - primary order: a member delivers index after index, each the next transaction of the same
 *   leader (counter + 1) or the first (counter 1) of a later epoch — a leader's transactions in its
 *   order with none skipped, and every earlier epoch's before a later one's.
 * Returns what is wrong, or undefined.
 */
export function checkDelivery(ledger: DeliveryLedger, { entry, previous, currentEpoch }: Delivery): string | undefined {
  const order = primaryOrderViolation(previous, entry);
  if (order !== undefined) return `primary order: ${order}`;
  const k = entry.index - 1;
  const agreed = ledger.agreed[k];
  if (agreed === undefined) {
    if (k !== ledger.agreed.length)
      return `agreement: index ${entry.index} delivered before ${ledger.agreed.length + 1}`;
    ledger.agreed.push(entry);
    ledger.committedBy.push(currentEpoch);
    return undefined;
  }
  if (!zxidEqual(agreed.zxid, entry.zxid) || !bytesEqual(agreed.data, entry.data)) {
    return `agreement: index ${entry.index} delivered as ${formatZxid(entry.zxid)}, elsewhere as ${formatZxid(agreed.zxid)}`;
  }
  ledger.committedBy[k] = Math.min(ledger.committedBy[k]!, currentEpoch);
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
 * Leader completeness: a leader that has established epoch e (past discovery) holds every
 * transaction committed by the leader of an earlier epoch, at the index it was delivered at. A
 * transaction may be committed in a later epoch than its zxid's (as part of that epoch's initial
 * history), and a deposed leader may still believe it leads while a later one commits, so the
 * ledger's committedBy bound, not the zxid, says which leaders must hold it. Returns what is wrong,
 * or undefined (also for a member that is not such a leader).
 */
export function checkLeaderCompleteness(ledger: DeliveryLedger, member: MemberView): string | undefined {
  const status = member.softState();
  if (status.role !== "leading" || status.phase === "discovery") return undefined;
  for (let k = 0; k < ledger.agreed.length; k++) {
    if (ledger.committedBy[k]! >= status.epoch) continue;
    const agreed = ledger.agreed[k]!;
    const held = member.historyEntry(agreed.index);
    if (held === undefined || !zxidEqual(held.zxid, agreed.zxid)) {
      const what = held === undefined ? "nothing" : formatZxid(held.zxid);
      return `leader completeness: leader ${member.id} of epoch ${status.epoch} holds ${what} at ${agreed.index}, where ${formatZxid(agreed.zxid)} was committed in epoch ${ledger.committedBy[k]} or before`;
    }
  }
  return undefined;
}

/**
 * One leader per epoch: at most one member establishes each epoch (a quorum promised it, and no
 * member promises an epoch twice). Records the member if it has established its epoch. Returns
 * what is wrong, or undefined.
 */
export function checkOneLeaderPerEpoch(ledger: DeliveryLedger, member: MemberView): string | undefined {
  const status = member.softState();
  if (status.role !== "leading" || status.phase === "discovery") return undefined;
  const known = ledger.leaders.get(status.epoch);
  if (known === undefined) ledger.leaders.set(status.epoch, member.id);
  else if (known !== member.id)
    return `one leader per epoch: ${known} and ${member.id} both established epoch ${status.epoch}`;
  return undefined;
}

/**
 * A delivered transaction is durable on a quorum of members, at its index: a leader commits only
 * what a quorum acknowledged after writing it, and no later leader truncates a committed
 * transaction. `disks` holds every member's durable state. Returns what is wrong, or undefined.
 */
export function checkCommittedDurable(
  entry: HistoryEntry,
  disks: Iterable<DurableState>,
  quorum: number,
): string | undefined {
  let holding = 0;
  for (const disk of disks) {
    const stored = disk.history[entry.index - 1];
    if (stored !== undefined && zxidEqual(stored.zxid, entry.zxid)) holding++;
  }
  if (holding >= quorum) return undefined;
  return `commit durability: ${formatZxid(entry.zxid)} delivered at ${entry.index} is on ${holding} disks, a quorum is ${quorum}`;
}

/**
 * An acknowledgement leaving a member promises what its durable state holds: ACKEPOCH its
 * acceptedEpoch (and the history it describes), Ack and Pong the transactions they name (a pong's
 * durable point), an Ack also currentEpoch. Returns what is wrong, or undefined; other messages
 * promise nothing.
 */
export function checkAcknowledgedDurable(durable: DurableState, m: ZabMessage): string | undefined {
  const holds = (z: Zxid): boolean => z.counter === 0 || historyHolds(durable.history, z);
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
    case "notification":
    case "followerInfo":
    case "newEpoch":
    case "newLeader":
    case "proposal":
    case "commit":
    case "ping":
    case "syncRequest":
    case "syncResponse":
    case "forward":
      return undefined;
    default:
      return assertNever(m, "zab message");
  }
}

/** Whether a history (zxids ascending) holds `z`, by binary search. */
function historyHolds(history: readonly { readonly zxid: Zxid }[], z: Zxid): boolean {
  let low = 0;
  let high = history.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const order = compareZxid(history[mid]!.zxid, z);
    if (order === 0) return true;
    if (order < 0) low = mid + 1;
    else high = mid - 1;
  }
  return false;
}
