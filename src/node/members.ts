import { decodeConfEntry, type ConfEntry, type NodeId } from "../raft/index.js";
import { fromUtf8, utf8 } from "../util/bytes.js";
import { nodeIdOf } from "./names.js";

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
  /** A voter being removed stays known (it is still an outgoing voter) until the joint config is left. */
  #leaving: NodeId | undefined;

  constructor(members: readonly MemberAddress[] = []) {
    for (const m of members) this.#byId.set(nodeIdOf(m.name), m);
  }

  get(id: NodeId): MemberAddress | undefined {
    return this.#byId.get(id);
  }

  entries(): [NodeId, MemberAddress][] {
    return [...this.#byId.entries()];
  }

  /** Learns from a committed config entry; returns the member it added or removed, if any. */
  apply(entry: ConfEntry): { added?: [NodeId, MemberAddress]; removed?: NodeId } {
    if (entry.op === "leaveJoint") {
      const leaving = this.#leaving;
      this.#leaving = undefined;
      if (leaving === undefined) return {};
      this.#byId.delete(leaving);
      return { removed: leaving };
    }
    if (entry.op === "bootstrap") return {};
    const { change } = entry;
    if (change.type === "remove" && entry.op === "enterJoint") {
      this.#leaving = change.id;
      return {};
    }
    if (change.type === "remove") {
      this.#byId.delete(change.id);
      return { removed: change.id };
    }
    const address = decodeMemberContext(change.context);
    if (change.type !== "addLearner" || address === undefined) return {};
    this.#byId.set(change.id, address);
    return { added: [change.id, address] };
  }

  applyEntryData(data: Uint8Array): { added?: [NodeId, MemberAddress]; removed?: NodeId } {
    const entry = decodeConfEntry(data);
    return entry === undefined ? {} : this.apply(entry);
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
  return typeof value === "object" && value !== null && typeof (value as MemberAddress).name === "string" && typeof (value as MemberAddress).peerAddr === "string";
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
 * catches up by snapshot also learns where everyone is. Layout: u32 book length, book, data.
 */
/** What a node snapshot holds before the state machine's data: a u32 length, then the address book. */
export function nodeSnapshotHeader(book: AddressBook): Uint8Array {
  const encoded = book.encode();
  const header = new Uint8Array(4 + encoded.length);
  new DataView(header.buffer).setUint32(0, encoded.length);
  header.set(encoded, 4);
  return header;
}

export function encodeNodeSnapshot(book: AddressBook, data: Uint8Array): Uint8Array {
  const header = nodeSnapshotHeader(book);
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

export function decodeNodeSnapshot(bytes: Uint8Array): { book: AddressBook; data: Uint8Array } | undefined {
  if (bytes.length < 4) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  if (4 + length > bytes.length) return undefined;
  const book = AddressBook.decode(bytes.subarray(4, 4 + length));
  return book === undefined ? undefined : { book, data: bytes.subarray(4 + length) };
}
