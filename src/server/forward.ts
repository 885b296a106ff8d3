import { request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from "node:http";
import type { KvStore } from "../kv/index.js";
import type { Node } from "../node/index.js";
import { utf8 } from "../util/bytes.js";
import { HttpError } from "./http_util.js";

/** Reserved keys start with a NUL byte; users cannot write them and ranges do not show them. */
export const systemKeyPrefix = new Uint8Array([0]);

/** Where a member's client API listens, published through the log (etcd publishes member attributes the same way). */
export function clientAddrKey(name: string): Uint8Array {
  return new Uint8Array([0, ...utf8(`raftkv/client-addr/${name}`)]);
}

export function isSystemKey(key: Uint8Array): boolean {
  return key[0] === 0;
}

const forwardedHeader = "raftkv-forwarded";

/**
 * Followers hand requests that only the leader may serve to the leader's client API, found in
 * the replicated member table. A request is forwarded at most once, so a stale view cannot loop.
 */
export class Forwarder {
  readonly #node: Node;
  readonly #kv: KvStore;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256 });

  constructor(node: Node, kv: KvStore) {
    this.#node = node;
    this.#kv = kv;
  }

  /** The leader's client address, or a 503 saying why the request cannot be served now. */
  leaderAddr(req: IncomingMessage): string {
    if (req.headers[forwardedHeader] !== undefined) {
      throw new HttpError(503, "no_leader", "forwarded to a member that is not the leader; retry");
    }
    const leader = this.#node.raft.status().leader;
    if (leader === 0) throw new HttpError(503, "no_leader", "no leader is known; retry");
    const stored = this.#kv.get(clientAddrKey(this.#node.nameOf(leader)));
    if (stored === null)
      throw new HttpError(503, "no_leader", "the leader has not published its client address yet; retry");
    return Buffer.from(stored.value).toString("utf8");
  }

  /** Sends the request (whose body was already read) to the leader and relays the answer. */
  forward(req: IncomingMessage, res: ServerResponse, body: Uint8Array | undefined): Promise<void> {
    const target = this.leaderAddr(req);
    const colon = target.lastIndexOf(":");
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && name !== "host" && name !== "connection" && name !== "content-length")
        headers[name] = value;
    }
    headers[forwardedHeader] = this.#node.name;
    if (body !== undefined) headers["content-length"] = String(body.byteLength);
    return new Promise((resolve) => {
      const outgoing = httpRequest(
        {
          host: target.slice(0, colon),
          port: Number(target.slice(colon + 1)),
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
