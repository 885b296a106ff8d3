/* Shared by the TCP transport's tests (tcp, outbound_link and inbound_connection .test.ts): real transports on loopback ports. */
import { once } from "node:events";
import { connect } from "node:net";
import type { Socket } from "node:net";
import { after } from "node:test";
import type { Message } from "../raft/messages.js";
import { logIndex, nodeId, term } from "../util/ids.js";
import type { NodeId } from "../util/ids.js";
import type { PeerAddress } from "./peer_address.js";
import { TcpTransport, type TcpTransportOptions } from "./tcp.js";
import type { TransportStats } from "./transport_stats.js";

export const host = "127.0.0.1";
const waitMs = 15_000;
export const n1 = nodeId(1);
export const n2 = nodeId(2);
export const n3 = nodeId(3);

/** Rejects if `promise` takes longer than `ms` (a guard against hanging, not a sleep). */
export async function within<T>(promise: Promise<T>, what: string, ms = waitMs): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `condition()` holds, checking after every turn of the event loop's I/O phase. */
export function until(condition: () => boolean, what: string): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const check = (): void => {
        if (condition()) resolve();
        else setTimeout(check, 2);
      };
      check();
    }),
    what,
  );
}

/** Collects what a transport delivers; waiters resolve on the first matching message. */
export class Inbox {
  readonly messages: Message[] = [];
  #waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];

  readonly push = (m: Message): void => {
    this.messages.push(m);
    const [matched, waiting] = [this.#waiters.filter((w) => w.match(m)), this.#waiters.filter((w) => !w.match(m))];
    this.#waiters = waiting;
    for (const w of matched) w.resolve(m);
  };

  next(match: (m: Message) => boolean, what: string): Promise<Message> {
    const seen = this.messages.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return within(new Promise((resolve) => this.#waiters.push({ match, resolve })), what);
  }
}

export const open: TcpTransport[] = [];

export async function startNode(
  id: NodeId,
  options: Partial<TcpTransportOptions> = {},
): Promise<{ t: TcpTransport; inbox: Inbox; address: PeerAddress }> {
  const inbox = new Inbox();
  const t = new TcpTransport({ id, listen: { host, port: 0 }, peers: new Map(), onMessage: inbox.push, ...options });
  open.push(t);
  await t.start();
  return { t, inbox, address: t.listenAddress() };
}

after(async () => {
  await Promise.all(open.map((t) => t.close()));
});

export const heartbeat = (from: NodeId, to: NodeId, context: number): Message => ({
  type: "heartbeat",
  from,
  to,
  term: term(1),
  commit: logIndex(0),
  context,
});
export const isHeartbeat =
  (context: number) =>
  (m: Message): boolean =>
    m.type === "heartbeat" && m.context === context;
export const dropped = (s: TransportStats): number =>
  s.droppedQueueFull + s.droppedPeerDown + s.droppedUnknownPeer + s.droppedOversize;

export async function rawConnection(address: PeerAddress): Promise<Socket> {
  const socket = connect(address.port, address.host);
  await within(once(socket, "connect"), "raw connect");
  return socket;
}
