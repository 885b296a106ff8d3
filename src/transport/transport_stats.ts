/**
 * Counters since construction. Every message handed to send() is counted once, in `sent` or one of
 * the `dropped…` counters, unless it is still queued (see TcpTransport.peers()).
 */
export interface TransportStats {
  /** Messages written to a socket (a streamed snapshot counts once, when its last chunk is written). */
  readonly sent: number;
  /** Valid messages for this node handed to onMessage. */
  readonly received: number;
  /** Dropped because the peer's queue was full (or, for a snapshot, one was already streaming to it). */
  readonly droppedQueueFull: number;
  /** Dropped because the peer was unreachable: in backoff, or the connection failed or closed with them queued. */
  readonly droppedPeerDown: number;
  /** Dropped because the recipient is not a known peer (or is this node). */
  readonly droppedUnknownPeer: number;
  /** Dropped because the encoding exceeds frameBytesMax. */
  readonly droppedOversize: number;
  /** Inbound messages (or snapshot streams) addressed to another node. */
  readonly droppedMisaddressed: number;
  /** Inbound frames or payloads rejected; each closed the connection it came on. */
  readonly decodeErrors: number;
  /** Outbound connections established, and those among them that replaced an earlier one to the same peer. */
  readonly connects: number;
  readonly reconnects: number;
  /** Outbound attempts that failed before connecting. */
  readonly connectFailures: number;
  readonly accepted: number;
  /** Inbound TLS handshakes that failed: no certificate, or one the peer CA did not sign. */
  readonly handshakesRefused: number;
  readonly snapshotChunksSent: number;
  readonly snapshotsReceived: number;
  /** Inbound snapshot streams dropped: inconsistent, too big, superseded, or cut off by a closed connection. */
  readonly snapshotStreamsDiscarded: number;
}

/** The transport's counters, which its outbound links and inbound connections add to. */
export type Counters = { -readonly [K in keyof TransportStats]: number };

export function zeroCounters(): Counters {
  return {
    sent: 0,
    received: 0,
    droppedQueueFull: 0,
    droppedPeerDown: 0,
    droppedUnknownPeer: 0,
    droppedOversize: 0,
    droppedMisaddressed: 0,
    decodeErrors: 0,
    connects: 0,
    reconnects: 0,
    connectFailures: 0,
    accepted: 0,
    handshakesRefused: 0,
    snapshotChunksSent: 0,
    snapshotsReceived: 0,
    snapshotStreamsDiscarded: 0,
  };
}
