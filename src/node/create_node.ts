import { randomInt } from "node:crypto";
import type { NodeId, Random } from "../raft/index.js";
import { fsDisk, type Disk } from "../storage/index.js";
import { isClientAddress, type PeerAddress } from "../transport/index.js";
import type { TlsCredentials } from "../tls/index.js";
import { Prng } from "../util/prng.js";
import type { Clock } from "./clock.js";
import { isValidName, nodeIdOf } from "./names.js";
import { AddressBook } from "./members.js";
import type { EngineName, EngineTypes } from "../engine/engine.js";
import type { ZabTuning } from "../engine/zab.js";
import type { PeerWire } from "../transport/index.js";
import { openEngine, type OpenedEngine } from "./engines.js";
import { EngineNode, type NodeObserver, type RaftTuning } from "./node.js";
import type { EngineNodeOptions } from "./node_options.js";
import type { NodeIdentity } from "./data_dir.js";
import { PeerFollower } from "./peer_follower.js";
import { connectTcp, type PeerEndpoint, type PeerTransport } from "./peer_transport.js";
import { realClock } from "./real_clock.js";
import type { StateMachine } from "./state_machine.js";

export interface CreateNodeOptions {
  /** This member's name ("n1"); with `dataDir` it is the node's identity for good. */
  readonly id: string;
  readonly dataDir: string;
  /** Every member at bootstrap, this one included: name → peer address "host:port". Ignored on restart. */
  readonly peers: Readonly<Record<string, string>>;
  readonly stateMachine: StateMachine;
  /**
   * Start empty and wait to be added by a member of an existing cluster (no bootstrap); `peers`
   * then names the existing members (and this one), so this node can answer them.
   */
  readonly join?: boolean;
  /** Where to listen for peers; defaults to this member's address in `peers`. */
  readonly listenPeer?: string;
  /**
   * Where this member serves clients ("host:port"), if it does: told to every peer when it
   * connects, so that each member knows where the others serve (see Node.clientAddressOf).
   */
  readonly clientAddress?: string;
  /** This member's peer certificate and key and the peer CA: mutual TLS on peer links (plain TCP without). */
  readonly peerTls?: TlsCredentials;
  readonly electionTimeoutMs?: number;
  readonly heartbeatMs?: number;
  readonly snapshotEntries?: number;
  readonly snapshotBytes?: number;
  readonly snapshotKeepEntries?: number;
  readonly proposalTimeoutMs?: number;
  readonly raftTuning?: RaftTuning;
  /** ZAB's core settings (its counter width), when the engine is ZAB. */
  readonly zabTuning?: ZabTuning | undefined;
  readonly readiesInFlightMax?: number;
  readonly observer?: NodeObserver;
  readonly onWarning?: (text: string) => void;
  /** The world the node runs in: the real one by default; the simulator passes its own. */
  readonly disk?: Disk;
  readonly clock?: Clock;
  readonly random?: Random;
  /** How to reach peers (TCP by default; the simulator passes its network), whatever the engine's messages. */
  readonly connectPeers?: <M>(endpoint: PeerEndpoint<M>) => Promise<PeerTransport<M>>;
  /** The consensus engine: Raft by default; a data directory keeps the engine it was created with. */
  readonly engine?: EngineName | undefined;
  readonly checkInvariants?: boolean;
  readonly onBug?: (error: unknown) => void;
}

export type CreateNodeResult =
  { readonly ok: true; readonly node: Node } | { readonly ok: false; readonly error: string };

/** A member of the configuration as operators see it. */
export interface MemberInfo {
  readonly name: string;
  readonly id: NodeId;
  readonly peerAddr: string;
  readonly learner: boolean;
}

/** A running member: the consensus node (Raft by default), its peer transport and the member names. */
export interface Node {
  readonly raft: EngineNode;
  readonly name: string;
  readonly transport: PeerTransport;
  /** The member name behind a numeric id ("n2"), or the number as text if unknown. */
  nameOf(id: NodeId): string;
  /** The voters and learners of the configuration in force, by name. */
  members(): readonly MemberInfo[];
  /**
   * Where a member serves clients: this one's `clientAddress`; another's as it last told this one
   * on connecting, in memory only (undefined until it has, or if it serves none).
   */
  clientAddressOf(id: NodeId): string | undefined;
  stop(): Promise<void>;
}

export function parseAddress(text: string): PeerAddress | undefined {
  const match = /^(.+):(\d{1,5})$/.exec(text);
  if (match === null) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1]!.replace(/^\[(.*)\]$/, "$1"), port };
}

/**
 * Opens (or bootstraps) a data directory and starts a member: durable log, TCP transport, timers.
 * A data directory that already has an identity keeps it: `peers` is ignored then, and a
 * different `id` (or engine) is refused, so a node can never come back as somebody else.
 */
export async function createNode(options: CreateNodeOptions): Promise<CreateNodeResult> {
  if (!isValidName(options.id)) return { ok: false, error: `invalid member id ${JSON.stringify(options.id)}` };
  const clientAddress = options.clientAddress;
  if (clientAddress !== undefined && !isClientAddress(clientAddress))
    return { ok: false, error: `invalid client address ${JSON.stringify(clientAddress)}` };
  const engineName = options.engine ?? "raft";
  if (engineName !== "raft" && options.join === true)
    return { ok: false, error: `--join needs the raft engine: ${engineName} runs a fixed membership` };
  const opened = await openEngine(
    engineName,
    options.disk ?? fsDisk,
    options.dataDir,
    options.raftTuning,
    options.zabTuning,
  );
  if (!opened.ok) return { ok: false, error: opened.error.message };
  // One call per engine, so that each runs with its own message and storage types.
  const engine = opened.value;
  if (engine.name === "raft") return startNode(options, engine);
  return engine.name === "zab" ? startNode(options, engine) : startNode(options, engine);
}

async function startNode<E extends EngineTypes>(
  options: CreateNodeOptions,
  engine: OpenedEngine<E>,
): Promise<CreateNodeResult> {
  const clientAddress = options.clientAddress;
  const { storage } = engine;
  let identity = engine.identity;
  if (identity !== undefined && identity.name !== options.id) {
    await storage.close();
    return { ok: false, error: `${options.dataDir} belongs to member ${identity.name}, not ${options.id}` };
  }
  if (identity === undefined) {
    const checked = bootstrapIdentity(options);
    if (typeof checked === "string") {
      await storage.close();
      return { ok: false, error: checked };
    }
    const written = await engine.writeIdentity(checked);
    if (!written.ok) {
      await storage.close();
      return { ok: false, error: written.error.message };
    }
    identity = checked;
  }
  const members = identity.members.map((m) => ({ ...m, id: nodeIdOf(m.name) }));
  const self = members.find((m) => m.name === identity.name)!;
  const clock = options.clock ?? realClock;
  const follower = new PeerFollower({ self: self.id, clock, parse: parseAddress });
  const listen = parseAddress(options.listenPeer ?? self.peerAddr);
  if (listen === undefined) {
    await storage.close();
    return { ok: false, error: `invalid peer address ${JSON.stringify(options.listenPeer ?? self.peerAddr)}` };
  }
  const raft = newEngineNode(options, engine, {
    id: self.id,
    voters: identity.joined === true ? [] : members.map((m) => m.id),
    addressBook: new AddressBook(identity.members),
    onMembersChanged: (change) => follower.changed(change),
    clock,
  });
  const clientAddresses = new Map<NodeId, string>();
  let transport: PeerTransport<E["message"]>;
  try {
    transport = await openTransport(
      options,
      { id: self.id, peerAddr: self.peerAddr, listen, wire: engine.wire },
      members,
      raft,
      {
        ...(clientAddress === undefined ? {} : { clientAddress }),
        onClientAddress: (id, address) => clientAddresses.set(id, address),
      },
    );
  } catch (error) {
    await storage.close();
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  follower.transport = transport;
  raft.start(transport);
  return {
    ok: true,
    node: {
      raft,
      name: identity.name,
      transport,
      nameOf: (id) => raft.addressBook().get(id)?.name ?? String(id),
      members: () => membersOf(raft),
      clientAddressOf: (id) => (id === self.id ? clientAddress : clientAddresses.get(id)),
      stop: () => {
        follower.stop();
        return raft.stop();
      },
    },
  };
}

function newEngineNode<E extends EngineTypes>(
  options: CreateNodeOptions,
  engine: OpenedEngine<E>,
  member: Pick<EngineNodeOptions<E>, "id" | "addressBook" | "onMembersChanged" | "clock"> & {
    readonly voters: readonly NodeId[];
  },
): EngineNode<E> {
  return new EngineNode<E>({
    ...member,
    engine: engine.factory(member.voters),
    stateMachine: options.stateMachine,
    storage: engine.storage,
    durable: engine.durable,
    random: options.random ?? new Prng(randomInt(2 ** 31)),
    electionTimeoutMs: options.electionTimeoutMs ?? 150,
    heartbeatMs: options.heartbeatMs ?? 50,
    snapshotEntries: options.snapshotEntries ?? 10_000,
    snapshotBytes: options.snapshotBytes ?? 64 * 1024 * 1024,
    snapshotKeepEntries: options.snapshotKeepEntries ?? 1_000,
    proposalTimeoutMs: options.proposalTimeoutMs ?? 5_000,
    observer: options.observer,
    readiesInFlightMax: options.readiesInFlightMax,
    checkInvariants: options.checkInvariants,
    onBug: options.onBug,
  });
}

/**
 * Connects the peer transport to every member the identity and the address book name, telling
 * each where this one serves clients and recording where they do.
 */
function openTransport<E extends EngineTypes>(
  options: CreateNodeOptions,
  self: {
    readonly id: NodeId;
    readonly peerAddr: string;
    readonly listen: PeerAddress;
    readonly wire: PeerWire<E["message"]>;
  },
  members: readonly { readonly id: NodeId; readonly peerAddr: string }[],
  raft: EngineNode<E>,
  clients: Pick<PeerEndpoint, "clientAddress" | "onClientAddress">,
): Promise<PeerTransport<E["message"]>> {
  const peers = new Map<NodeId, PeerAddress>();
  for (const m of members) if (m.id !== self.id) peers.set(m.id, parseAddress(m.peerAddr)!);
  for (const [id, address] of raft.addressBook().entries()) {
    const addr = parseAddress(address.peerAddr);
    if (id !== self.id && addr !== undefined) peers.set(id, addr);
  }
  return (options.connectPeers ?? connectTcp)({
    id: self.id,
    wire: self.wire,
    listen: self.listen,
    advertise: parseAddress(self.peerAddr) ?? self.listen,
    peers,
    onMessage: (m) => raft.receive(m),
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
    ...(options.peerTls === undefined ? {} : { tls: options.peerTls }),
    ...clients,
  });
}

function membersOf(raft: Pick<EngineNode, "config" | "addressBook">): MemberInfo[] {
  const config = raft.config();
  const book = raft.addressBook();
  const describe = (id: NodeId, learner: boolean): MemberInfo => {
    const address = book.get(id);
    return { id, name: address?.name ?? String(id), peerAddr: address?.peerAddr ?? "", learner };
  };
  const voters = new Set([...config.incoming, ...(config.outgoing ?? [])]);
  return [
    ...[...voters].map((id) => describe(id, false)),
    ...[...config.learners].map((id) => describe(id, true)),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function bootstrapIdentity(options: CreateNodeOptions): NodeIdentity | string {
  // Raft's identity names no engine, as it did before engines had names.
  const entries = Object.entries(options.peers);
  if (!entries.some(([name]) => name === options.id))
    return `--initial-cluster does not name this member (${options.id})`;
  const ids = new Map<number, string>();
  for (const [name, addr] of entries) {
    if (!isValidName(name)) return `invalid member id ${JSON.stringify(name)} in --initial-cluster`;
    if (parseAddress(addr) === undefined) return `invalid peer address ${JSON.stringify(addr)} for ${name}`;
    const id = nodeIdOf(name);
    const clash = ids.get(id);
    if (clash !== undefined) return `member names ${clash} and ${name} collide; rename one`;
    ids.set(id, name);
  }
  return {
    name: options.id,
    members: entries.map(([name, peerAddr]) => ({ name, peerAddr })),
    ...(options.join === true ? { joined: true } : {}),
  };
}
