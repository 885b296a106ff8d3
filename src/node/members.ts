import { decodeConfEntry, type ConfEntry, type NodeId } from "../raft/index.js";
import { fromUtf8, utf8 } from "../util/bytes.js";
import { nodeIdOf } from "./names.js";

/** A member that joined (with its address) or left the address book. */
interface MemberChange {
  readonly added?: [NodeId, MemberAddress];
  readonly removed?: NodeId;
}

/** A member as operators know it: its name and where its peers reach it. */
export interface MemberAddress {
  readonly name: string;
  readonly peerAddr: string;
}

/**
 * Names and peer addresses of the members. Raft's configuration says who votes; this says who
 * they are and where they listen. It changes only through config entries (whose context carries a
 * new member's address), and travels inside the node's snapshots, so every member agrees on it.
 */
export class AddressBook {
  readonly #byId = new Map<NodeId, MemberAddress>();
  /** Voters being removed stay known (they are still outgoing voters) until the joint config is left. */
  #leaving: NodeId[] = [];

  constructor(members: readonly MemberAddress[] = []) {
    for (const m of members) this.#byId.set(nodeIdOf(m.name), m);
  }

  get(id: NodeId): MemberAddress | undefined {
    return this.#byId.get(id);
  }

  entries(): [NodeId, MemberAddress][] {
    return [...this.#byId.entries()];
  }

  /** Learns from a committed config entry; returns the members it added or removed. */
  apply(entry: ConfEntry): MemberChange[] {
    if (entry.op === "bootstrap") return [];
    if (entry.op === "leaveJoint") {
      const leaving = this.#leaving;
      this.#leaving = [];
      for (const id of leaving) this.#byId.delete(id);
      return leaving.map((id) => ({ removed: id }));
    }
    const changes: MemberChange[] = [];
    for (const change of entry.changes) {
      if (change.type === "remove" && entry.op === "enterJoint") {
        this.#leaving.push(change.id);
      } else if (change.type === "remove") {
        this.#byId.delete(change.id);
        changes.push({ removed: change.id });
      } else {
        const address = decodeMemberContext(change.context);
        if (change.type !== "addLearner" || address === undefined) continue;
        this.#byId.set(change.id, address);
        changes.push({ added: [change.id, address] });
      }
    }
    return changes;
  }

  applyEntryData(data: Uint8Array): MemberChange[] {
    const entry = decodeConfEntry(data);
    return entry === undefined ? [] : this.apply(entry);
  }

  encode(): Uint8Array {
    return utf8(JSON.stringify([...this.#byId.values()]));
  }

  static decode(bytes: Uint8Array): AddressBook | undefined {
    try {
      const parsed: unknown = JSON.parse(fromUtf8(bytes));
      if (!Array.isArray(parsed) || !parsed.every(isMemberAddress)) return undefined;
      return new AddressBook(parsed);
    } catch {
      return undefined;
    }
  }
}

function isMemberAddress(value: unknown): value is MemberAddress {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as MemberAddress).name === "string" &&
    typeof (value as MemberAddress).peerAddr === "string"
  );
}

export function encodeMemberContext(address: MemberAddress): Uint8Array {
  return utf8(JSON.stringify(address));
}

export function decodeMemberContext(bytes: Uint8Array): MemberAddress | undefined {
  try {
    const parsed: unknown = JSON.parse(fromUtf8(bytes));
    return isMemberAddress(parsed) ? { name: parsed.name, peerAddr: parsed.peerAddr } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A node's snapshot: the address book beside the state machine's own bytes, so a member that
 * catches up by snapshot also learns where everyone is. Layout: u32 book length, book, data. This
 * is what goes before the data.
 */
export function nodeSnapshotHeader(book: AddressBook): Uint8Array {
  const encoded = book.encode();
  const header = new Uint8Array(4 + encoded.length);
  new DataView(header.buffer).setUint32(0, encoded.length);
  header.set(encoded, 4);
  return header;
}

export function decodeNodeSnapshot(bytes: Uint8Array): { book: AddressBook; data: Uint8Array } | undefined {
  if (bytes.length < 4) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  if (4 + length > bytes.length) return undefined;
  const book = AddressBook.decode(bytes.subarray(4, 4 + length));
  return book === undefined ? undefined : { book, data: bytes.subarray(4 + length) };
}
