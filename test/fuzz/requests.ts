/**
 * Generated requests for the auth fuzz test: random methods, paths (every route of docs/api.md,
 * mangled ones and junk), headers, credentials and bodies, each well framed (a correct
 * Content-Length) unless it is one of the deliberately broken ones, which go on a connection of
 * their own. Seeded, so a failure replays.
 */

/** Who a request claims to be. Only `alice` and `bob` hold valid tokens. */
export type Identity = "none" | "junk" | "random" | "forged" | "expired" | "deleted" | "alice" | "bob";

export const badIdentities: ReadonlySet<Identity> = new Set(["none", "junk", "random", "forged", "expired", "deleted"]);

export interface FuzzRequest {
  readonly bytes: Buffer;
  readonly method: string;
  readonly path: string;
  readonly identity: Identity;
  /** Sent on a fresh connection that is dropped afterwards: its framing may be broken. */
  readonly broken: boolean;
}

export interface Tokens {
  readonly alice: string;
  readonly bob: string;
  readonly expired: string;
  readonly deleted: string;
}

/** mulberry32: small, fast and seedable; quality is not the point. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class RequestGenerator {
  readonly #random: () => number;
  tokens: Tokens;

  constructor(seed: number, tokens: Tokens) {
    this.#random = seededRandom(seed);
    this.tokens = tokens;
  }

  next(): FuzzRequest {
    const identity = this.#pick<Identity>(["none", "junk", "random", "forged", "expired", "deleted", "alice", "bob"]);
    const [path, methods] = this.#route();
    const method = this.#chance(0.8)
      ? this.#pick(methods)
      : this.#chance(0.7)
        ? this.#pick(["GET", "PUT", "POST", "DELETE"])
        : this.#pick(["HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT", "FOO", "get"]);
    const body = this.#body();
    const headers = [`Host: 127.0.0.1`, ...this.#authorization(identity), ...this.#extraHeaders()];
    if (this.#chance(0.02)) return this.#broken(method, path, identity, headers, body);
    const head = `${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\nContent-Length: ${body.length}\r\n\r\n`;
    return { bytes: Buffer.concat([Buffer.from(head, "latin1"), body]), method, path, identity, broken: false };
  }

  #broken(method: string, path: string, identity: Identity, headers: string[], body: Buffer): FuzzRequest {
    const kinds = [
      () => `${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\nContent-Length: ${body.length + 5}\r\n\r\n`,
      () => `${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
      () => `${method} ${path}\r\n\r\n`,
      () => `${method} ${path} HTTP/1.1\r\nX-Long: ${"a".repeat(70_000)}\r\n\r\n`,
      () => `${method} ${path} HTTP/1.1\r\nBad Header\r\n\r\n`,
      () => this.#junk(200),
    ];
    const head = this.#pick(kinds)();
    return { bytes: Buffer.concat([Buffer.from(head, "latin1"), body]), method, path, identity, broken: true };
  }

  #authorization(identity: Identity): string[] {
    const t = this.tokens;
    switch (identity) {
      case "none":
        return [];
      case "junk":
        return [
          `Authorization: ${this.#pick(["", "Bearer", "Bearer ", "Basic cm9vdDpyb290", "bearer x", this.#headerJunk(40)])}`,
        ];
      case "random":
        return [
          `Authorization: Bearer ${this.#base64url(10 + Math.floor(this.#random() * 80))}.${this.#base64url(43)}`,
        ];
      case "forged":
        return [`Authorization: Bearer ${this.#forged()}`];
      case "expired":
        return [`Authorization: Bearer ${t.expired}`];
      case "deleted":
        return [`Authorization: Bearer ${t.deleted}`];
      case "alice":
        return [`Authorization: Bearer ${t.alice}`];
      case "bob":
        return [`Authorization: Bearer ${t.bob}`];
    }
  }

  /** A valid token with its claims changed (another user, a later expiry) or its signature damaged. */
  #forged(): string {
    const [payload = "", signature = ""] = this.#pick([this.tokens.alice, this.tokens.bob]).split(".");
    const claims = this.#parseClaims(payload);
    switch (Math.floor(this.#random() * 4)) {
      case 0:
        return `${encode({ ...claims, user: "root" })}.${signature}`;
      case 1:
        return `${encode({ ...claims, exp: Date.now() + 86_400_000 })}.${signature}`;
      case 2: {
        const flipped = Buffer.from(signature, "base64url");
        if (flipped.length > 0) flipped[Math.floor(this.#random() * flipped.length)]! ^= 1;
        return `${payload}.${flipped.toString("base64url")}`;
      }
      default:
        return `${encode({ ...claims, user: "root" })}.`;
    }
  }

  #parseClaims(payload: string): Record<string, unknown> {
    try {
      return JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    } catch {
      return {};
    }
  }

  /** A path and the methods its route answers (docs/api.md), or junk with any method. */
  #route(): [string, readonly string[]] {
    const key = this.#key();
    const id = this.#pick(["1", "0", "-1", "99999999999999999999", "abc", String(Math.floor(this.#random() * 1e6))]);
    const any = ["GET", "PUT", "POST", "DELETE"];
    const routes: [string, readonly string[]][] = [
      [`/v1/kv/${key}`, ["GET", "PUT", "DELETE"]],
      [`/v1/kv/${key}?lease=${id}`, ["PUT"]],
      [`/v1/kv/${key}?ifRevision=${id}`, ["PUT"]],
      [`/v1/kv/${key}?consistency=${this.#pick(["lease", "serializable", "linearizable", "x"])}`, ["GET"]],
      [`/v1/kv?prefix=${this.#pick(["", "alice/", "bob/", "a", "%00"])}`, ["GET"]],
      [`/v1/kv?from=${this.#pick(["", "a", "alice/", "z"])}&to=${this.#pick(["", "b", "zzz"])}`, ["GET"]],
      ["/v1/txn", ["POST"]],
      [`/v1/watch?prefix=${this.#pick(["", "alice/", "bob/"])}`, ["GET"]],
      [`/v1/watch?key=${key}&fromRevision=${id}`, ["GET"]],
      [`/v1/watch/${id}`, ["DELETE"]],
      [`/v1/watch/${id}/progress`, ["POST"]],
      [`/v1/watch/streams/${id}/watches`, ["POST"]],
      ["/v1/compact", ["POST"]],
      ["/v1/lease/grant", ["POST"]],
      ["/v1/lease/keepalive", ["POST"]],
      [`/v1/lease/${id}/keepalive`, ["POST"]],
      [`/v1/lease/${id}/revoke`, ["POST"]],
      [`/v1/lease/${id}`, ["GET"]],
      ["/v1/leases", ["GET"]],
      ["/v1/status", ["GET"]],
      ["/v1/members", ["GET", "POST"]],
      [`/v1/members/${this.#pick(["n1", "n2", "n3", "n9", id])}`, ["DELETE"]],
      [`/v1/members/${this.#pick(["n1", "n9"])}/promote`, ["POST"]],
      ["/v1/leader/transfer", ["POST"]],
      ["/v1/cluster", ["GET"]],
      ["/v1/cluster/member", ["GET"]],
      ["/v1/auth/status", ["GET"]],
      ["/v1/auth/authenticate", ["POST"]],
      ["/v1/auth/enable", ["POST"]],
      ["/v1/auth/disable", ["POST"]],
      ["/v1/auth/users", ["GET", "POST"]],
      [`/v1/auth/users/${this.#pick(["root", "alice", "bob", "mallory", "%00"])}`, ["GET", "DELETE"]],
      [`/v1/auth/users/${this.#pick(["root", "alice", "bob"])}/password`, ["POST"]],
      [`/v1/auth/users/${this.#pick(["root", "alice", "bob"])}/roles`, ["POST"]],
      [`/v1/auth/users/${this.#pick(["alice", "bob"])}/roles/${this.#pick(["root", "writer", "reader"])}`, ["DELETE"]],
      ["/v1/auth/roles", ["GET", "POST"]],
      [`/v1/auth/roles/${this.#pick(["root", "writer", "reader", "evil"])}`, ["GET", "DELETE"]],
      [`/v1/auth/roles/${this.#pick(["root", "writer", "reader", "evil"])}/permissions`, ["POST"]],
      [`/v1/auth/roles/writer/permissions?prefix=${this.#pick(["", "alice/", "bob/"])}`, ["DELETE"]],
      ["/metrics", ["GET"]],
      ["/healthz", ["GET"]],
      ["/readyz", ["GET"]],
      ["/", ["GET"]],
      [`/${this.#junkPath()}`, any],
      [`/v1/${this.#junkPath()}`, any],
      [`/v1/kv/${"k".repeat(Math.floor(this.#random() * 5000))}`, ["GET", "PUT"]],
    ];
    return this.#pick(routes);
  }

  #key(): string {
    const prefix = this.#pick(["alice/", "bob/", "root/", "x/", "", "alice", "alice%2F", "%61lice/", "ALICE/"]);
    return `${prefix}${this.#pick(["k", "a%2Fb", "%00", "%ff%fe", "..", "", String(Math.floor(this.#random() * 100))])}`;
  }

  #body(): Buffer {
    const lease = Math.floor(this.#random() * 1000);
    const key = this.#pick(["alice/t", "bob/t", "root/t", "x"]);
    const bodies = [
      () => "",
      () => "value",
      () => "{",
      () => "null",
      () =>
        JSON.stringify({
          name: this.#pick(["root", "alice", "mallory", ""]),
          password: this.#pick(["pw", "", "x".repeat(2000)]),
        }),
      () => JSON.stringify({ role: this.#pick(["root", "writer", "reader"]) }),
      () => JSON.stringify({ name: this.#pick(["evil", "root"]) }),
      () =>
        JSON.stringify({
          type: this.#pick(["read", "write", "readwrite", "all"]),
          prefix: this.#pick(["", "bob/", "alice/"]),
        }),
      () => JSON.stringify({ password: "new" }),
      () => JSON.stringify({ ttl: this.#pick([1, 10, -1, 1e12, "x"]) }),
      () => JSON.stringify({ ids: [lease, lease + 1] }),
      () => JSON.stringify({ revision: this.#pick([1, 5, 100, 1e9, -3]) }),
      () => JSON.stringify({ to: this.#pick(["n1", "n2", "n3", "n9"]) }),
      () => JSON.stringify({ id: "n9", peerAddr: "127.0.0.1:1" }),
      () =>
        JSON.stringify({
          compare: this.#chance(0.5) ? [] : [{ key, value: "v" }],
          success: [{ type: this.#pick(["put", "delete", "get"]), key, value: "fz" }],
          failure: [{ type: "put", key: this.#pick(["bob/f", "alice/f"]), value: "fz" }],
        }),
      () => this.#junk(Math.floor(this.#random() * 300)),
    ];
    return Buffer.from(this.#pick(bodies)(), "latin1");
  }

  #extraHeaders(): string[] {
    const headers: string[] = [];
    if (this.#chance(0.3)) headers.push(`Content-Type: ${this.#pick(["application/json", "text/plain", "x/y", ""])}`);
    if (this.#chance(0.1)) headers.push(`Accept: ${this.#pick(["text/event-stream", "*/*", "application/json"])}`);
    if (this.#chance(0.1)) headers.push(`Raftkv-Client-Id: ${this.#pick(["c1", "", "x".repeat(300)])}`);
    if (this.#chance(0.1)) headers.push(`Raftkv-Seq: ${this.#pick(["1", "-1", "abc", "99999999999999999999"])}`);
    if (this.#chance(0.05)) headers.push(`Raftkv-Forwarded: ${this.#pick(["n1", "x"])}`);
    if (this.#chance(0.05)) headers.push(`X-Junk: ${this.#headerJunk(30)}`);
    return headers;
  }

  #junkPath(): string {
    return Array.from({ length: 1 + Math.floor(this.#random() * 4) }, () =>
      this.#pick(["..", "%", "%zz", "%2e%2e", "auth", "kv", "a b", "\u00e9", "", "*", "v1"]),
    ).join("/");
  }

  #junk(length: number): string {
    return Array.from({ length }, () => String.fromCharCode(Math.floor(this.#random() * 256))).join("");
  }

  /** Junk that cannot end the header early: a CR or LF would split one request into two answers. */
  #headerJunk(length: number): string {
    return this.#junk(length).replace(/[\r\n]/g, "_");
  }

  #base64url(bytes: number): string {
    return Buffer.from(Array.from({ length: bytes }, () => Math.floor(this.#random() * 256))).toString("base64url");
  }

  #chance(p: number): boolean {
    return this.#random() < p;
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }
}

function encode(claims: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(claims)).toString("base64url");
}
