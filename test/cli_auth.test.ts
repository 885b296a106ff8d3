/**
 * Authentication end to end (docs/api.md, "Authentication commands"): the SPEC's CLI sequence
 * against real `raftkv serve` processes — root added without credentials, a role with a prefix, a
 * user with that role, auth enabled — then a permitted put, a denied one (exit 1, one line, the key
 * unchanged), no or wrong credentials, a token, a password change voiding it, and auth disabled
 * again; and the library's typed errors and token-carrying watch on the same cluster.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { AuthenticationError, PermissionDeniedError, RaftkvClient } from "raftkv/client";
import { cleanEnv, ProcessCluster, runCli, type Exit } from "./harness.js";

const root = ["--user", "root", "--password", "rootpw"];
const alice = ["--user", "alice", "--password", "alicepw"];

let endpoints: string[] = [];

const raftkv = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<Exit> =>
  runCli([...args, "--endpoints", endpoints.join(","), "--timeout", "30s"], {
    timeoutMs: 60_000,
    env: { ...cleanEnv(), ...env },
  });
const ok = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> => {
  const result = await raftkv(args, env);
  assert.equal(result.code, 0, `raftkv ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
};
const refused = async (args: string[], pattern: RegExp): Promise<void> => {
  const result = await raftkv(args);
  assert.equal(result.code, 1, `raftkv ${args.join(" ")} should exit 1: ${result.stdout}${result.stderr}`);
  assert.match(result.stderr, pattern);
  assert.equal(result.stderr.trimEnd().split("\n").length, 1, `one line: ${JSON.stringify(result.stderr)}`);
  assert.equal(result.stdout, "");
};

async function setUpAndEnforce(): Promise<void> {
  assert.match(await ok(["user", "add", "root", "--password", "rootpw"]), /^user root added \(auth revision \d+\)\n$/);
  await ok(["role", "add", "app", ...root]);
  await ok(["role", "grant", "app", "readwrite", "app/", ...root]);
  // The new password first, then the caller's right after --user.
  await ok(["user", "add", "alice", "--password", "alicepw", ...root]);
  await ok(["user", "grant-role", "alice", "app", ...root]);
  assert.match(await ok(["auth", "enable", ...root]), /^auth enabled \(auth revision \d+\)\n$/);
  assert.match(await ok(["auth", "status"]), /^auth enabled /);

  assert.match(await ok(["put", "app/x", "1", ...alice]), /^OK \(revision \d+\)\n$/);
  await ok(["put", "other", "before", ...root]);
  await refused(["put", "other", "after", ...alice], /^error: permission denied: .*\(permission_denied\)\n$/);
  assert.equal(await ok(["get", "other", ...root]), "before\n", "the denied put changed nothing");

  await refused(["get", "app/x"], /^error: authentication failed: .*\(unauthenticated\)\n$/);
  await refused(
    ["get", "app/x", "--user", "alice", "--password", "nope"],
    /^error: authentication failed: .*\(authentication_failed\)\n$/,
  );
  await refused(["user", "list", ...alice], /^error: permission denied: /);
  assert.equal(await ok(["user", "list", ...root]), "alice\nroot\n");
  assert.match(
    await ok(["role", "get", "app", ...root]),
    /^role app\nTYPE +ON\nreadwrite +keys with prefix "app\/"\n$/,
  );
  assert.deepEqual(JSON.parse(await ok(["user", "get", "alice", "--json", ...root])), {
    name: "alice",
    roles: ["app"],
  });
}

async function tokens(): Promise<void> {
  const token = await authenticate("alice", "alicepw");
  assert.equal(await ok(["get", "app/x", "--token", token]), "1\n");
  assert.equal(await ok(["get", "app/x"], { RAFTKV_TOKEN: token }), "1\n");
  assert.equal(await ok(["get", "app/x"], { RAFTKV_USER: "alice", RAFTKV_PASSWORD: "alicepw" }), "1\n");
  // The caller's --password right after --user; the other one is alice's new password.
  await ok(["user", "passwd", "alice", ...root, "--password", "alicepw2"]);
  await refused(["get", "app/x", "--token", token], /^error: authentication failed: .*\(invalid_token\)\n$/);
  assert.equal(await ok(["get", "app/x", "--user", "alice", "--password", "alicepw2"]), "1\n");
  await ok(["user", "passwd", "alice", "--new-password", "alicepw", ...root]);
}

async function clientWithAuth(): Promise<void> {
  const client = new RaftkvClient({ endpoints, timeoutMs: 30_000, auth: { user: "alice", password: "alicepw" } });
  try {
    const watch = client.watch({ prefix: "app/" });
    await watch.ready;
    const { revision } = await client.put("app/watched", "w");
    await assert.rejects(client.put("other", "x"), PermissionDeniedError);
    for await (const message of watch) {
      if (message.type === "events" && message.revision >= revision) {
        assert.equal(message.events[0]?.kv.keyText, "app/watched");
        break;
      }
    }
    assert.deepEqual(await client.auth.status().then((s) => s.enabled), true);
    await assert.rejects(client.auth.user.list(), PermissionDeniedError);
    const wrong = new RaftkvClient({ endpoints, auth: { user: "alice", password: "nope" } });
    await assert.rejects(wrong.get("app/x"), AuthenticationError);
    wrong.close();
  } finally {
    client.close();
  }
}

async function disable(): Promise<void> {
  await refused(["auth", "disable", ...alice], /^error: permission denied: /);
  assert.match(await ok(["auth", "disable", ...root]), /^auth disabled /);
  assert.equal(await ok(["get", "other"]), "before\n");
  await ok(["put", "other", "after"]);
}

async function authenticate(name: string, password: string): Promise<string> {
  const response = await fetch(`http://${endpoints[0]}/v1/auth/authenticate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password }),
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { token: string }).token;
}

describe("auth through the CLI and the client on a 3-member cluster", { timeout: 240_000 }, () => {
  let cluster: ProcessCluster;

  before(async () => {
    cluster = await ProcessCluster.start(3);
    endpoints = cluster.members.map((m) => m.clientAddr);
    await cluster.leader(30_000);
  });
  after(() => cluster.stop());

  it("sets up users and roles, enables auth, and enforces it", setUpAndEnforce);
  it("a token works as --token and RAFTKV_TOKEN until the user's password changes", tokens);
  it("the client: typed errors, and a watch that carries the token", clientWithAuth);
  it("auth disable opens every route again", disable);
});
