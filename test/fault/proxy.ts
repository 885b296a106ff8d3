/**
 * The fault proxy on the peer links: one listener per destination member, at the address the
 * cluster knows that member by, forwarding to the port the member really listens on. Every
 * connection a member dials carries only its own messages, and each frame names its sender, so the
 * proxy can tell which directed link (from → to) a frame travels and drop it when that link is cut.
 *
 * A cut link black-holes whole frames and leaves the connection up: in a real partition the sender
 * hears nothing (no reset, no refusal) and its messages vanish, and a frame is never cut in half,
 * which would only test the decoder's rejection of garbage (http_bad_input.test.ts does that).
 * Backpressure passes through: while a destination does not read (SIGSTOP), the proxy stops reading
 * from the sender, so the sender's socket fills as it would on a direct link.
 *
 * With peer TLS the proxy ends TLS on both sides with a certificate of the peer CA (so the members
 * still verify every hop) to read the frames' senders.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { connect as tlsConnect, createServer as createTlsServer } from "node:tls";

export interface ProxyRoute {
  readonly name: string;
  /** The numeric Raft id frames carry for this member (raftkv's nodeIdOf(name)). */
  readonly id: number;
  /** Where the proxy listens for connections to this member (the member's advertised peer address). */
  readonly listen: string;
  /** Where the member itself listens (--listen-peer). */
  readonly target: string;
}

/** A certificate and key of the peer CA, and the CA: the proxy's side of mutual TLS. */
export interface ProxyTls {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

const frameHeaderBytes = 4;
/** In a payload: version (u8), tag (u8), then the sender's id as a u64 of two big-endian u32 halves. */
const fromOffset = 2;

function split(addr: string): { host: string; port: number } {
  const colon = addr.lastIndexOf(":");
  return { host: addr.slice(0, colon), port: Number(addr.slice(colon + 1)) };
}

export class PeerProxy {
  readonly #routes: readonly ProxyRoute[];
  readonly #tls: ProxyTls | undefined;
  readonly #nameById = new Map<number, string>();
  /** Listeners by destination name; absent while that member is down. */
  readonly #servers = new Map<string, Server>();
  /** Open connections by destination name (both sockets of each). */
  readonly #sockets = new Map<string, Set<Socket>>();
  /** Cut directed links, as "from>to". */
  readonly #cut = new Set<string>();
  forwarded = 0;
  dropped = 0;

  private constructor(routes: readonly ProxyRoute[], tls: ProxyTls | undefined) {
    this.#routes = routes;
    this.#tls = tls;
    for (const r of routes) {
      this.#nameById.set(r.id, r.name);
      this.#sockets.set(r.name, new Set());
    }
  }

  static async start(routes: readonly ProxyRoute[], tls?: ProxyTls): Promise<PeerProxy> {
    const proxy = new PeerProxy(routes, tls);
    try {
      for (const route of routes) await proxy.#listen(route);
    } catch (error) {
      await proxy.close();
      throw error;
    }
    return proxy;
  }

  /** Cuts (or restores) the directed link from → to. */
  setLink(from: string, to: string, open: boolean): void {
    if (open) this.#cut.delete(`${from}>${to}`);
    else this.#cut.add(`${from}>${to}`);
  }

  /** Cuts both directions between every member of `a` and every member of `b`. */
  separate(a: readonly string[], b: readonly string[]): void {
    for (const x of a) {
      for (const y of b) {
        this.setLink(x, y, false);
        this.setLink(y, x, false);
      }
    }
  }

  heal(): void {
    this.#cut.clear();
  }

  /** The cut links, "from>to", sorted (for logs). */
  cutLinks(): string[] {
    return [...this.#cut].sort();
  }

  /**
   * Stops listening for `name` while that member is down, so that its peers are refused as they would
   * be by a dead process (and back off as they would), instead of being accepted and then dropped.
   */
  async down(name: string): Promise<void> {
    const server = this.#servers.get(name);
    this.#servers.delete(name);
    for (const s of this.#sockets.get(name) ?? []) s.destroy();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }

  /** Listens for `name` again (before the member restarts). */
  async up(name: string): Promise<void> {
    const route = this.#routes.find((r) => r.name === name);
    if (route === undefined) throw new Error(`no proxy route to ${name}`);
    if (!this.#servers.has(name)) await this.#listen(route);
  }

  async close(): Promise<void> {
    await Promise.all(this.#routes.map((r) => this.down(r.name)));
  }

  async #listen(route: ProxyRoute): Promise<void> {
    const accept = (socket: Socket): void => this.#accept(route, socket);
    const tls = this.#tls;
    const server =
      tls === undefined
        ? createServer(accept)
        : createTlsServer({ ...tls, requestCert: true, rejectUnauthorized: true }, accept);
    this.#servers.set(route.name, server);
    const { host, port } = split(route.listen);
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: Error) => {
        this.#servers.delete(route.name);
        reject(error);
      });
      server.listen(port, host, () => resolve());
    });
  }

  #accept(route: ProxyRoute, downstream: Socket): void {
    const target = { ...split(route.target), noDelay: true };
    const tls = this.#tls;
    // Peers are not checked by host name (docs/security.md); the chain to the peer CA is.
    const upstream =
      tls === undefined ? connect(target) : tlsConnect({ ...target, ...tls, checkServerIdentity: () => undefined });
    const open = this.#sockets.get(route.name)!;
    open.add(downstream).add(upstream);
    // Either side ending ends both, so a killed member looks to its peers as it would without us.
    const end = (): void => {
      downstream.destroy();
      upstream.destroy();
      open.delete(downstream);
      open.delete(upstream);
    };
    for (const s of [downstream, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
    downstream.setNoDelay(true);
    upstream.on("drain", () => downstream.resume());
    // Members never write on connections they accepted; relay anyway so nothing depends on it.
    upstream.on("data", (chunk: Buffer) => downstream.write(chunk));
    let pending: Buffer = Buffer.alloc(0);
    downstream.on("data", (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      const out: Buffer[] = [];
      while (pending.length - at >= frameHeaderBytes + fromOffset + 8) {
        const length = pending.readUInt32BE(at);
        const frameEnd = at + frameHeaderBytes + length;
        if (pending.length < frameEnd) break;
        const payload = at + frameHeaderBytes;
        const from =
          pending.readUInt32BE(payload + fromOffset) * 0x1_0000_0000 + pending.readUInt32BE(payload + fromOffset + 4);
        const sender = this.#nameById.get(from) ?? `id${from}`;
        if (this.#cut.has(`${sender}>${route.name}`)) this.dropped++;
        else {
          out.push(pending.subarray(at, frameEnd));
          this.forwarded++;
        }
        at = frameEnd;
      }
      pending = pending.subarray(at);
      if (out.length > 0 && !upstream.write(out.length === 1 ? out[0]! : Buffer.concat(out))) downstream.pause();
    });
  }
}
