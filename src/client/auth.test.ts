import assert from "node:assert/strict";
import { after, test } from "node:test";
import { startAuthServer, type AuthServer } from "./auth_server.test.helper.js";
import {
  AuthenticationError,
  PermissionDeniedError,
  RaftkvClient,
  RaftkvError,
  type AuthOptions,
  type RaftkvClientOptions,
} from "./index.js";

const servers: AuthServer[] = [];
const clients: RaftkvClient[] = [];
const server = async (): Promise<AuthServer> => {
  const s = await startAuthServer();
  servers.push(s);
  return s;
};
const client = (
  s: AuthServer,
  auth: AuthOptions | undefined = { user: "alice", password: "secret" },
  options: Partial<RaftkvClientOptions> = {},
): RaftkvClient => {
  const c = new RaftkvClient({ endpoints: [s.label], timeoutMs: 3000, ...(auth && { auth }), ...options });
  clients.push(c);
  return c;
};
const dataRequests = (s: AuthServer): SeenList => s.seen.filter((r) => !r.url.startsWith("/v1/auth/"));
type SeenList = AuthServer["seen"];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
});

test("authenticates once on first use, however many calls wait, and sends the token on every request", async () => {
  const s = await server();
  let open = (): void => undefined;
  s.authenticateGate = new Promise((resolve) => (open = resolve));
  const c = client(s);
  const calls = Array.from({ length: 20 }, (_, i) => c.put(`k${i}`, "v"));
  await new Promise((resolve) => setTimeout(resolve, 50));
  open();
  await Promise.all(calls);
  assert.equal(await c.get("a").then((kv) => kv?.text), "1");
  assert.equal(s.issued, 1, "one authentication");
  const authenticate = s.seen.filter((r) => r.url === "/v1/auth/authenticate");
  assert.deepEqual(JSON.parse(authenticate[0]?.body ?? ""), { name: "alice", password: "secret" });
  assert.equal(authenticate[0]?.authorization, undefined, "authenticate carries no token");
  assert.equal(dataRequests(s).length, 21);
  assert.ok(dataRequests(s).every((r) => r.authorization === "Bearer t1"));
});

for (const code of ["token_expired", "invalid_token"] as const) {
  test(`on 401 ${code} it authenticates again once, for every call refused together, and retries`, async () => {
    const s = await server();
    s.expiredCode = code;
    const c = client(s);
    await c.put("k", "v");
    s.valid.delete("t1");
    const results = await Promise.all(Array.from({ length: 10 }, () => c.put("k", "v")));
    assert.deepEqual(results, Array(10).fill({ revision: 1 }));
    assert.equal(s.issued, 2, "one more authentication for the ten calls");
    const retried = dataRequests(s).slice(1);
    assert.equal(retried.filter((r) => r.authorization === "Bearer t2").length, 10);
  });
}

test("a token refused again after the new authentication is an AuthenticationError, not retried further", async () => {
  const s = await server();
  s.routes.set("PUT /v1/kv/k", { status: 401, body: { error: "invalid_token", message: "revoked" } });
  const c = client(s);
  const error = await c.put("k", "v").catch((e: unknown) => e);
  assert.ok(error instanceof AuthenticationError, String(error));
  assert.deepEqual([error.code, error.status], ["invalid_token", 401]);
  assert.equal(s.issued, 2, "first use, then once again");
  assert.equal(dataRequests(s).length, 2, "the request and one retry");
});

test("403 is a PermissionDeniedError, asked once and without authenticating again", async () => {
  const s = await server();
  s.denied.add("/v1/kv/secret");
  const c = client(s, { user: "alice", password: "secret" }, { retries: 5 });
  const error = await c.put("secret", "x").catch((e: unknown) => e);
  assert.ok(error instanceof PermissionDeniedError, String(error));
  assert.equal(error.code, "permission_denied");
  assert.equal(dataRequests(s).length, 1);
  assert.equal(s.issued, 1);
});

test("a wrong password is an AuthenticationError, and later calls do not ask again", async () => {
  const s = await server();
  const c = client(s, { user: "alice", password: "wrong" });
  await assert.rejects(
    c.put("k", "v"),
    (e: unknown) => e instanceof AuthenticationError && e.code === "authentication_failed",
  );
  await assert.rejects(c.get("k"), AuthenticationError);
  assert.equal(s.seen.length, 1, "one authenticate, no data request");
});

test("409 auth_not_enabled: it goes on without a token, and authenticates once auth is enabled", async () => {
  const s = await server();
  s.enabled = false;
  const c = client(s);
  await c.put("k", "v");
  assert.equal(dataRequests(s)[0]?.authorization, undefined);
  s.enabled = true;
  await c.put("k", "v");
  assert.equal(s.issued, 1);
  assert.deepEqual(
    dataRequests(s).map((r) => r.authorization),
    [undefined, undefined, "Bearer t1"],
  );
});

test("a given token is sent as is; its 401 stands (nothing to authenticate with)", async () => {
  const s = await server();
  s.valid.add("given");
  const c = client(s, { token: "given" });
  await c.put("k", "v");
  s.valid.delete("given");
  await assert.rejects(c.put("k", "v"), (e: unknown) => e instanceof AuthenticationError && e.code === "token_expired");
  assert.equal(s.issued, 0);
  assert.deepEqual(
    s.seen.map((r) => r.authorization),
    ["Bearer given", "Bearer given"],
  );
  await assert.rejects(c.auth.authenticate(), RangeError);
});

test("watch streams carry the token and reconnect with a new one after 401 token_expired", async () => {
  const s = await server();
  const c = client(s);
  await c.put("k", "v");
  s.valid.delete("t1");
  const watch = c.watch({ key: "a" });
  const first = await watch.next();
  watch.close();
  assert.equal(first.done, false);
  assert.equal(first.value?.type === "events" ? first.value.events[0]?.kv.text : undefined, "1");
  const watches = s.seen.filter((r) => r.url.startsWith("/v1/watch"));
  assert.deepEqual(
    watches.map((r) => r.authorization),
    ["Bearer t1", "Bearer t2"],
  );
});

test("a watch refused with 403 fails with PermissionDeniedError", async () => {
  const s = await server();
  s.denied.add("/v1/watch");
  const watch = client(s).watch({ key: "a" });
  await assert.rejects(watch.ready, PermissionDeniedError);
});

test("background keepalives carry the token; a 403 ends them as lost", async () => {
  const s = await server();
  const c = client(s);
  const renewed = await new Promise<number>((resolve) => {
    const keepAlive = c.keepAlive(9, {
      onRenewed: (lease) => {
        keepAlive.stop();
        resolve(lease.id);
      },
    });
  });
  assert.equal(renewed, 9);
  const keepAlives = s.seen.filter((r) => r.url === "/v1/lease/keepalive");
  assert.ok(keepAlives.length >= 1 && keepAlives.every((r) => r.authorization === "Bearer t1"));
  s.denied.add("/v1/lease/keepalive");
  const end = await c.keepAlive(9).done;
  assert.equal(end.reason, "lost");
  assert.ok(end.reason === "lost" && end.error instanceof PermissionDeniedError);
});

test("client.auth: the management routes, their bodies, and their answers", async () => {
  const s = await server();
  s.routes.set("GET /v1/auth/users", { status: 200, body: { users: ["alice", "root"] } });
  s.routes.set("GET /v1/auth/users/alice", { status: 200, body: { name: "alice", roles: ["app"] } });
  s.routes.set("GET /v1/auth/roles", { status: 200, body: { roles: ["app", "root"] } });
  const permissions = [
    { type: "readwrite", prefix: "app/" },
    { type: "read", key: "/w==", encoding: "base64" },
  ];
  s.routes.set("GET /v1/auth/roles/app", { status: 200, body: { name: "app", permissions } });
  s.routes.set("GET /v1/auth/status", { status: 200, body: { enabled: true, revision: 4 } });
  const c = client(s);
  const { auth } = c;
  assert.deepEqual(await auth.status(), { enabled: true, revision: 4 });
  await auth.user.add("bob", "pw");
  await auth.user.add("cert-only", null);
  await auth.user.passwd("bob", "pw2");
  await auth.user.grantRole("bob", "app");
  await auth.user.revokeRole("bob", "a/b");
  await auth.user.delete("bob");
  await auth.role.add("app");
  await auth.role.grant("app", { type: "write", prefix: "app/" });
  await auth.role.grant("app", { type: "read", key: Uint8Array.from([0xff]) });
  await auth.role.revoke("app", { prefix: "app/ x" });
  await auth.role.revoke("app", { key: Uint8Array.from([0xff]) });
  await auth.role.delete("app");
  assert.deepEqual(await auth.enable(), { revision: 1 });
  await auth.disable();
  assert.deepEqual(await auth.user.list(), ["alice", "root"]);
  assert.deepEqual(await auth.user.get("alice"), { name: "alice", roles: ["app"] });
  assert.deepEqual(await auth.role.list(), ["app", "root"]);
  assert.deepEqual(await auth.role.get("app"), {
    name: "app",
    permissions: [
      { type: "readwrite", prefix: new TextEncoder().encode("app/") },
      { type: "read", key: Uint8Array.from([0xff]) },
    ],
  });
  const calls = s.seen
    .filter((r) => r.url !== "/v1/auth/authenticate")
    .map((r) => `${r.method} ${r.url}${r.body === "" ? "" : ` ${r.body}`}`);
  assert.deepEqual(calls.slice(0, 15), [
    "GET /v1/auth/status",
    'POST /v1/auth/users {"name":"bob","password":"pw"}',
    'POST /v1/auth/users {"name":"cert-only","password":null}',
    'POST /v1/auth/users/bob/password {"password":"pw2"}',
    'POST /v1/auth/users/bob/roles {"role":"app"}',
    "DELETE /v1/auth/users/bob/roles/a%2Fb",
    "DELETE /v1/auth/users/bob",
    'POST /v1/auth/roles {"name":"app"}',
    'POST /v1/auth/roles/app/permissions {"type":"write","prefix":"YXBwLw==","encoding":"base64"}',
    'POST /v1/auth/roles/app/permissions {"type":"read","key":"/w==","encoding":"base64"}',
    "DELETE /v1/auth/roles/app/permissions?prefix=app%2F%20x",
    "DELETE /v1/auth/roles/app/permissions?key=%FF",
    "DELETE /v1/auth/roles/app",
    "POST /v1/auth/enable",
    "POST /v1/auth/disable",
  ]);
  assert.equal(s.seen.find((r) => r.url === "/v1/auth/status")?.authorization, undefined, "status is open");
  assert.ok(
    s.seen
      .filter((r) => r.method !== "GET" && r.url !== "/v1/auth/authenticate")
      .every((r) => r.authorization === "Bearer t1"),
  );
});

test("management answers that are not 2xx are typed errors with the server's code", async () => {
  const s = await server();
  s.denied.add("/v1/auth/users");
  s.routes.set("DELETE /v1/auth/roles/nope", {
    status: 404,
    body: { error: "role_not_found", message: "no role nope" },
  });
  const c = client(s);
  await assert.rejects(c.auth.user.add("x", "y"), PermissionDeniedError);
  const missing = await c.auth.role.delete("nope").catch((e: unknown) => e);
  assert.ok(missing instanceof RaftkvError && !(missing instanceof PermissionDeniedError));
  assert.deepEqual([missing.code, missing.status], ["role_not_found", 404]);
  assert.deepEqual(await c.auth.authenticate().then((t) => t?.token), "t2");
});
