import type { Message, NodeId } from "../raft/index.js";
import type { TlsCredentials } from "../tls/index.js";
import {
  TcpTransport,
  type PeerAddress,
  type PeerStatus,
  type PeerWire,
  type TransportStats,
} from "../transport/index.js";

/**
 * How a node reaches its peers: TCP in production, the simulated network in the simulator. Both
 * carry every message through the same binary codec.
 */
export interface PeerTransport<M = Message> {
  /** Queues messages for their recipients; never throws, never blocks (undeliverable ones are counted). */
  send(messages: readonly M[]): void;
  /** Adds a peer or moves it to a new address. */
  setPeer(id: NodeId, address: PeerAddress): void;
  removePeer(id: NodeId): void;
  stats(): TransportStats;
  peers(): PeerStatus[];
  close(): Promise<void>;
}

/** Who a transport serves and where its messages go. */
export interface PeerEndpoint<M = Message> {
  readonly id: NodeId;
  /** How the engine's messages are encoded on the wire (the simulator encodes with its own codec). */
  readonly wire: PeerWire<M>;
  readonly listen: PeerAddress;
  /** Where the other members reach this one (its address in the configuration). */
  readonly advertise: PeerAddress;
  readonly peers: ReadonlyMap<NodeId, PeerAddress>;
  /** Called for each valid message addressed to this node, in arrival order per peer. */
  readonly onMessage: (message: M) => void;
  readonly onWarning?: (text: string) => void;
  /** Where this member serves clients, for the transport to tell each peer (TCP does, in its hello). */
  readonly clientAddress?: string;
  /** A peer told where it serves clients; a transport that carries no such news never calls it. */
  readonly onClientAddress?: (id: NodeId, address: string) => void;
  /** Mutual TLS between members (certificate, key and peer CA); a transport without network ignores it. */
  readonly tls?: TlsCredentials;
}

/** Opens a transport for an endpoint; rejects with a one-line reason (a port in use). */
export type ConnectPeers<M = Message> = (endpoint: PeerEndpoint<M>) => Promise<PeerTransport<M>>;

export const connectTcp = async <M>(endpoint: PeerEndpoint<M>): Promise<PeerTransport<M>> => {
  const transport = new TcpTransport<M>(endpoint);
  await transport.start();
  return transport;
};
