import { nodeId, type NodeId } from "../util/ids.js";

/**
 * Membership changes. Voter changes go through joint consensus: an `enterJoint` entry makes the
 * configuration C_old,new (decisions need a majority of both), and the leader then appends
 * `leaveJoint` on its own to reach C_new. Learner additions and removals change no quorum and apply
 * in one step. A change takes effect when its entry is applied, and only one may be in flight.
 */
export type ConfChangeType = "addLearner" | "promote" | "remove";

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly id: NodeId;
  /** Opaque to the core (the driver keeps a member's name and address here). */
  readonly context: Uint8Array;
}

/** The payload of a `config` log entry. */
export type ConfEntry =
  | { readonly op: "bootstrap"; readonly voters: readonly NodeId[] }
  | { readonly op: "simple"; readonly change: ConfChange }
  | { readonly op: "enterJoint"; readonly change: ConfChange }
  | { readonly op: "leaveJoint" };

/** A configuration: `outgoing` is set only while joint. Invariant: the three sets are disjoint except incoming ∩ outgoing. */
export interface Config {
  readonly incoming: ReadonlySet<NodeId>;
  readonly outgoing: ReadonlySet<NodeId> | undefined;
  readonly learners: ReadonlySet<NodeId>;
}

export type ConfChangeError =
  | "notLeader"
  | "changeInProgress"
  | "alreadyMember"
  | "notMember"
  | "notLearner"
  | "lastVoter"
  | "learnerBehind"
  | "transferInProgress"
  | "malformed";

export function isMember(config: Config, id: NodeId): boolean {
  return config.incoming.has(id) || (config.outgoing?.has(id) ?? false) || config.learners.has(id);
}

/** The entry that carries `change`, or why it cannot be made from `config`. */
export function planChange(config: Config, change: ConfChange): ConfEntry | ConfChangeError {
  if (config.outgoing !== undefined) return "changeInProgress";
  switch (change.type) {
    case "addLearner":
      return isMember(config, change.id) ? "alreadyMember" : { op: "simple", change };
    case "promote":
      return config.learners.has(change.id) ? { op: "enterJoint", change } : config.incoming.has(change.id) ? "notLearner" : "notMember";
    case "remove":
      if (config.learners.has(change.id)) return { op: "simple", change };
      if (!config.incoming.has(change.id)) return "notMember";
      return config.incoming.size === 1 ? "lastVoter" : { op: "enterJoint", change };
  }
}

/** The configuration after applying `entry`; a stale or impossible entry leaves it unchanged. */
export function applyConfEntry(config: Config, entry: ConfEntry): Config {
  if (entry.op === "bootstrap") return { incoming: new Set(entry.voters), outgoing: undefined, learners: new Set() };
  if (entry.op === "leaveJoint") return { incoming: config.incoming, outgoing: undefined, learners: config.learners };
  const { change } = entry;
  const incoming = new Set(config.incoming);
  const learners = new Set(config.learners);
  switch (change.type) {
    case "addLearner":
      if (!isMember(config, change.id)) learners.add(change.id);
      break;
    case "promote":
      if (learners.delete(change.id)) incoming.add(change.id);
      break;
    case "remove":
      learners.delete(change.id);
      if (incoming.size > 1) incoming.delete(change.id);
      break;
  }
  const outgoing = entry.op === "enterJoint" ? new Set(config.incoming) : config.outgoing;
  return { incoming, outgoing, learners };
}

// ---- encoding (a config entry's data) ------------------------------------------------------------

const version = 1;
const opCodes = { simple: 1, enterJoint: 2, leaveJoint: 3, bootstrap: 4 } as const;
const typeCodes = { addLearner: 1, promote: 2, remove: 3 } as const;

export function encodeConfEntry(entry: ConfEntry): Uint8Array {
  if (entry.op === "leaveJoint") return new Uint8Array([version, opCodes.leaveJoint]);
  if (entry.op === "bootstrap") {
    const bytes = new Uint8Array(2 + 4 * entry.voters.length);
    const view = new DataView(bytes.buffer);
    bytes[0] = version;
    bytes[1] = opCodes.bootstrap;
    [...entry.voters].sort((a, b) => a - b).forEach((id, k) => view.setUint32(2 + 4 * k, id));
    return bytes;
  }
  const { change } = entry;
  const bytes = new Uint8Array(2 + 1 + 4 + 4 + change.context.length);
  const view = new DataView(bytes.buffer);
  bytes[0] = version;
  bytes[1] = opCodes[entry.op];
  bytes[2] = typeCodes[change.type];
  view.setUint32(3, change.id);
  view.setUint32(7, change.context.length);
  bytes.set(change.context, 11);
  return bytes;
}

/** Decodes a config entry's data; undefined for bytes this version did not write. */
export function decodeConfEntry(bytes: Uint8Array): ConfEntry | undefined {
  if (bytes.length < 2 || bytes[0] !== version) return undefined;
  if (bytes[1] === opCodes.leaveJoint) return bytes.length === 2 ? { op: "leaveJoint" } : undefined;
  if (bytes[1] === opCodes.bootstrap) {
    if ((bytes.length - 2) % 4 !== 0) return undefined;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const voters = Array.from({ length: (bytes.length - 2) / 4 }, (_, k) => nodeId(view.getUint32(2 + 4 * k)));
    return voters.includes(nodeId(0)) ? undefined : { op: "bootstrap", voters };
  }
  const op = bytes[1] === opCodes.simple ? "simple" : bytes[1] === opCodes.enterJoint ? "enterJoint" : undefined;
  if (op === undefined || bytes.length < 11) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = (Object.keys(typeCodes) as ConfChangeType[]).find((t) => typeCodes[t] === bytes[2]);
  const id = view.getUint32(3);
  const contextBytes = view.getUint32(7);
  if (type === undefined || id === 0 || 11 + contextBytes !== bytes.length) return undefined;
  return { op, change: { type, id: nodeId(id), context: bytes.subarray(11) } };
}
