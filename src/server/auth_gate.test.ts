import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { test } from "node:test";
import { TLSSocket } from "node:tls";
import { encodeCommand, KvStore, type AuthCommand } from "../kv/index.js";
import { logIndex } from "../util/ids.js";
import { principalFor } from "./auth_gate.js";
import { AuthFailureLimiter } from "./auth_limiter.js";
import type { ServerContext } from "./context.js";
import { HttpError } from "./http_util.js";
import { verifyToken } from "./tokens.js";

const tokenKey = new Uint8Array(32).fill(5);

function securedContext(): ServerContext {
  const kv = new KvStore();
  const commands: AuthCommand[] = [
    { type: "userAdd", name: "root", password: null },
    { type: "userAdd", name: "carol", password: null },
    { type: "authEnable", tokenKey },
  ];
  commands.forEach((c, i) => kv.apply(encodeCommand(c), logIndex(i + 1)));
  const auth = { tokenTtlMs: 60_000, limiter: new AuthFailureLimiter(), log: undefined, now: () => 1_000 };
  return { kv, auth } as unknown as ServerContext;
}

/** A request on a TLS socket whose client certificate names `cn` (verified or not): no real handshake. */
function tlsRequest(cn: string, authorized: boolean, headers: Record<string, string> = {}): IncomingMessage {
  const socket = new TLSSocket(new Socket());
  socket.authorized = authorized;
  Object.defineProperty(socket, "getPeerCertificate", { value: () => ({ subject: { CN: cn } }) });
  return { headers: { ...headers }, socket, url: "/v1/kv/k" } as unknown as IncomingMessage;
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof HttpError) return `${error.status} ${error.code}`;
    throw error;
  }
  return "accepted";
}

test("a verified client certificate's CN names the user, and the request carries a token for forwarding", () => {
  const ctx = securedContext();
  const req = tlsRequest("carol", true);
  assert.equal(principalFor(ctx, req, "user"), "carol");
  const forwarded = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
  assert.ok(forwarded !== null, "a token was minted for the leader");
  const verified = verifyToken(tokenKey, forwarded[1]!, 1_000);
  assert.ok(verified.ok && verified.claims.user === "carol");
  assert.equal(
    refusal(() => principalFor(ctx, tlsRequest("carol", true), "root")),
    "403 permission_denied",
  );
  assert.equal(principalFor(ctx, tlsRequest("root", true), "root"), "root");
});

test("an unverified certificate, or one naming no user, does not authenticate; a token header takes precedence", () => {
  const ctx = securedContext();
  assert.equal(
    refusal(() => principalFor(ctx, tlsRequest("carol", false), "user")),
    "401 unauthenticated",
  );
  assert.equal(
    refusal(() => principalFor(ctx, tlsRequest("mallory", true), "user")),
    "401 invalid_token",
  );
  const withHeader = tlsRequest("root", true, { authorization: "Bearer forged.token" });
  assert.equal(
    refusal(() => principalFor(ctx, withHeader, "user")),
    "401 invalid_token",
  );
  const plain = { headers: {}, socket: new Socket(), url: "/" } as unknown as IncomingMessage;
  assert.equal(
    refusal(() => principalFor(ctx, plain, "user")),
    "401 unauthenticated",
  );
  assert.equal(principalFor(ctx, plain, "open"), "");
});
