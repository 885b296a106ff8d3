import { nodeId, type NodeId } from "../util/ids.js";

/**
 * Membership changes. Voter changes go through joint consensus: an `enterJoint` entry makes the
 * configuration C_old,new (decisions need a majority of both), and the leader then appends
 * `leaveJoint` on its own to reach C_new. One entry may carry several changes (promote two learners
 * and remove two voters: a replacement in one step, where old and new majorities need not overlap).
 * Learner additions and removals change no quorum and apply in one step. A change takes effect
 * when its entry is applied, and only one entry of changes may be in flight.
 */
export type ConfChangeType = "addLearner" | "promote" | "remove";

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly id: NodeId;
  /** Opaque to the core (the driver keeps a member's name and address here). */
  readonly context: Uint8Array;
}

/** The payload of a `config` log entry. `changes` are applied in order and are never empty. */
export type ConfEntry =
  | { readonly op: "bootstrap"; readonly voters: readonly NodeId[] }
  | { readonly op: "simple"; readonly changes: readonly ConfChange[] }
  | { readonly op: "enterJoint"; readonly changes: readonly ConfChange[] }
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

function isMember(config: Config, id: NodeId): boolean {
  return config.incoming.has(id) || (config.outgoing?.has(id) ?? false) || config.learners.has(id);
}

/**
 * The entry that carries `changes`, or why they cannot be made from `config`. Each change is
 * checked against the configuration the ones before it leave; any voter change makes the entry joint.
 */
export function planChange(config: Config, changes: readonly ConfChange[]): ConfEntry | ConfChangeError {
  if (config.outgoing !== undefined) return "changeInProgress";
  if (changes.length === 0) return "malformed";
  let working: Config = config;
  let joint = false;
  for (const change of changes) {
    const refused = refusal(working, change);
    if (refused !== undefined) return refused;
    joint ||= change.type === "promote" || working.incoming.has(change.id);
    working = applyChanges(working, [change]);
  }
  if (working.incoming.size === 0) return "lastVoter";
  return { op: joint ? "enterJoint" : "simple", changes };
}

function refusal(config: Config, change: ConfChange): ConfChangeError | undefined {
  switch (change.type) {
    case "addLearner":
      return isMember(config, change.id) ? "alreadyMember" : undefined;
    case "promote":
      return config.learners.has(change.id) ? undefined : config.incoming.has(change.id) ? "notLearner" : "notMember";
    case "remove":
      if (config.learners.has(change.id)) return undefined;
      if (!config.incoming.has(change.id)) return "notMember";
      return config.incoming.size === 1 ? "lastVoter" : undefined;
  }
}

/** The configuration after applying `entry`; a stale or impossible entry leaves it unchanged. */
export function applyConfEntry(config: Config, entry: ConfEntry): Config {
  if (entry.op === "bootstrap") return { incoming: new Set(entry.voters), outgoing: undefined, learners: new Set() };
  if (entry.op === "leaveJoint") return { incoming: config.incoming, outgoing: undefined, learners: config.learners };
  const changed = applyChanges(config, entry.changes);
  return { ...changed, outgoing: entry.op === "enterJoint" ? new Set(config.incoming) : config.outgoing };
}

function applyChanges(config: Config, changes: readonly ConfChange[]): Config {
  const incoming = new Set(config.incoming);
  const learners = new Set(config.learners);
  for (const change of changes) {
    switch (change.type) {
      case "addLearner":
        if (!isMember({ incoming, outgoing: config.outgoing, learners }, change.id)) learners.add(change.id);
        break;
      case "promote":
        if (learners.delete(change.id)) incoming.add(change.id);
        break;
      case "remove":
        learners.delete(change.id);
        if (incoming.size > 1) incoming.delete(change.id);
        break;
    }
  }
  return { incoming, outgoing: config.outgoing, learners };
}

// ---- encoding (a config entry's data) ------------------------------------------------------------
/*
 * u8 version, u8 op, then:
 *   bootstrap   u32 voter id each
 *   simple      version 1: u8 type, u32 id, u32 context length, context (one change)
 *   enterJoint  version 2: u16 count, count × (u8 type, u32 id, u32 context length, context)
 *   leaveJoint  nothing
 * One change is written as version 1, which every earlier raftkv reads; several as version 2.
 */
const versionOne = 1;
const versionList = 2;
const opCodes = { simple: 1, enterJoint: 2, leaveJoint: 3, bootstrap: 4 } as const;
const typeCodes = { addLearner: 1, promote: 2, remove: 3 } as const;
const changeHeaderBytes = 9;

export function encodeConfEntry(entry: ConfEntry): Uint8Array {
  if (entry.op === "leaveJoint") return new Uint8Array([versionOne, opCodes.leaveJoint]);
  if (entry.op === "bootstrap") {
    const bytes = new Uint8Array(2 + 4 * entry.voters.length);
    const view = new DataView(bytes.buffer);
    bytes[0] = versionOne;
    bytes[1] = opCodes.bootstrap;
    [...entry.voters].sort((a, b) => a - b).forEach((id, k) => view.setUint32(2 + 4 * k, id));
    return bytes;
  }
  const single = entry.changes.length === 1;
  let size = single ? 2 : 4;
  for (const change of entry.changes) size += changeHeaderBytes + change.context.length;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  bytes[0] = single ? versionOne : versionList;
  bytes[1] = opCodes[entry.op];
  let at = 2;
  if (!single) {
    view.setUint16(at, entry.changes.length);
    at += 2;
  }
  for (const change of entry.changes) {
    bytes[at] = typeCodes[change.type];
    view.setUint32(at + 1, change.id);
    view.setUint32(at + 5, change.context.length);
    bytes.set(change.context, at + changeHeaderBytes);
    at += changeHeaderBytes + change.context.length;
  }
  return bytes;
}

/** Decodes a config entry's data; undefined for bytes no raftkv wrote. */
export function decodeConfEntry(bytes: Uint8Array): ConfEntry | undefined {
  if (bytes.length < 2) return undefined;
  const version = bytes[0];
  if (version !== versionOne && version !== versionList) return undefined;
  if (version === versionOne && bytes[1] === opCodes.leaveJoint)
    return bytes.length === 2 ? { op: "leaveJoint" } : undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (version === versionOne && bytes[1] === opCodes.bootstrap) {
    if ((bytes.length - 2) % 4 !== 0) return undefined;
    const voters = Array.from({ length: (bytes.length - 2) / 4 }, (_, k) => nodeId(view.getUint32(2 + 4 * k)));
    return voters.includes(nodeId(0)) ? undefined : { op: "bootstrap", voters };
  }
  const op = bytes[1] === opCodes.simple ? "simple" : bytes[1] === opCodes.enterJoint ? "enterJoint" : undefined;
  if (op === undefined) return undefined;
  let at = 2;
  let count = 1;
  if (version === versionList) {
    if (bytes.length < 4) return undefined;
    count = view.getUint16(2);
    at = 4;
    if (count < 2) return undefined;
  }
  const changes: ConfChange[] = [];
  for (let k = 0; k < count; k++) {
    if (at + changeHeaderBytes > bytes.length) return undefined;
    const type = (Object.keys(typeCodes) as ConfChangeType[]).find((t) => typeCodes[t] === bytes[at]);
    const id = view.getUint32(at + 1);
    const contextBytes = view.getUint32(at + 5);
    const end = at + changeHeaderBytes + contextBytes;
    if (type === undefined || id === 0 || end > bytes.length) return undefined;
    changes.push({ type, id: nodeId(id), context: bytes.subarray(at + changeHeaderBytes, end) });
    at = end;
  }
  return at === bytes.length ? { op, changes } : undefined;
}
