import type { Agent, IncomingMessage, ServerResponse } from "node:http";
import { parseAddress, type Node } from "../node/index.js";
import type { TlsCredentials } from "../tls/index.js";
import { HttpError } from "./http_util.js";
import { memberAgent, memberRequest } from "./member_request.js";

const forwardedHeader = "raftkv-forwarded";

/**
 * Followers hand requests that only the leader may serve to the leader's client API, at the
 * address the leader told this member when its peer link connected (Node.clientAddressOf). A
 * request is forwarded at most once, so a stale view cannot loop.
 */
export class Forwarder {
  readonly #node: Node;
  readonly #tls: TlsCredentials | undefined;
  readonly #agent: Agent;

  /** With `tls` (this member's client-port material), the leader is reached over https (member_request.ts). */
  constructor(node: Node, tls?: TlsCredentials) {
    this.#node = node;
    this.#tls = tls;
    this.#agent = memberAgent(tls, { keepAlive: true, maxSockets: 256 });
  }

  /** This member's client-port TLS material, which other kinds of forwarding (etcd's gRPC calls) use too. */
  get tls(): TlsCredentials | undefined {
    return this.#tls;
  }

  /** The leader's client address, or a 503 saying why the request cannot be served now. */
  leaderAddr(req: IncomingMessage): string {
    if (req.headers[forwardedHeader] !== undefined) {
      throw new HttpError(503, "no_leader", "forwarded to a member that is not the leader; retry");
    }
    const leader = this.#node.raft.status().leader;
    if (leader === 0) throw new HttpError(503, "no_leader", "no leader is known; retry");
    const address = this.#node.clientAddressOf(leader);
    // The leader's peer link has not connected to this member yet (it just started, say).
    if (address === undefined)
      throw new HttpError(503, "no_leader", "the leader's client address is not known yet; retry");
    return address;
  }

  /** Sends the request (whose body was already read) to the leader and relays the answer. */
  forward(req: IncomingMessage, res: ServerResponse, body: Uint8Array | undefined): Promise<void> {
    const target = this.leaderAddr(req);
    // Parses: the node checked its own address, and the transport every address a peer told it.
    const { host, port } = parseAddress(target)!;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && name !== "host" && name !== "connection" && name !== "content-length")
        headers[name] = value;
    }
    headers[forwardedHeader] = this.#node.name;
    if (body !== undefined) headers["content-length"] = String(body.byteLength);
    return new Promise((resolve) => {
      const outgoing = memberRequest(
        this.#tls,
        {
          host,
          port,
          method: req.method,
          path: req.url,
          headers,
          agent: this.#agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on("end", resolve);
          answer.on("error", () => resolve());
        },
      );
      outgoing.on("error", () => {
        // The leader may or may not have received it: the outcome is unknown.
        if (!res.headersSent) {
          res.writeHead(504, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              error: "timeout",
              message: `forwarding to the leader at ${target} failed; the outcome is unknown`,
            }),
          );
        }
        resolve();
      });
      outgoing.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
