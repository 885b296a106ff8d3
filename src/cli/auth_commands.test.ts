import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { startAuthServer, type AuthServer } from "../client/auth_server.test.helper.js";
import { exitCodes, type CliIo } from "./context.js";
import { credentialsOf } from "./credentials.js";
import { separateNewPassword } from "./new_password.js";
import { runCli } from "./program.js";

interface Run {
  code: number;
  out: string;
  err: string;
}

let server: AuthServer;
before(async () => {
  server = await startAuthServer();
  server.user = "root";
  server.password = "r";
});
beforeEach(() => {
  server.seen.length = 0;
  server.enabled = true;
  server.denied.clear();
  server.routes.clear();
});
after(() => server.close());

async function run(...argv: string[]): Promise<Run> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) => ({ write: (chunk: string | Uint8Array) => into.push(Buffer.from(chunk)) });
  const io: CliIo = { stdout: sink(out), stderr: sink(err) };
  const [words, rest] = splitWords(argv);
  const code = await runCli([...words, "--endpoints", server.label, "--timeout", "3s", ...rest], io);
  return { code, out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() };
}

/** The command's words (up to the first flag), then the rest. */
function splitWords(argv: string[]): [string[], string[]] {
  const flag = argv.findIndex((a) => a.startsWith("--"));
  return flag < 0 ? [argv, []] : [argv.slice(0, flag), argv.slice(flag)];
}

/** What the server was asked, but the authentication, as "METHOD url body" and the token. */
function asked(): { calls: string[]; authenticated: unknown[]; tokens: (string | undefined)[] } {
  const authenticate = server.seen.filter((r) => r.url === "/v1/auth/authenticate");
  const others = server.seen.filter((r) => r.url !== "/v1/auth/authenticate");
  return {
    calls: others.map((r) => `${r.method} ${r.url}${r.body === "" ? "" : ` ${r.body}`}`),
    authenticated: authenticate.map((r) => JSON.parse(r.body) as unknown),
    tokens: others.map((r) => r.authorization),
  };
}

/** Runs with some environment variables set, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.keys(vars).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  }
}

const root = { name: "root", password: "r" };

for (const sub of ["add", "passwd"]) {
  const newPasswordCall =
    sub === "add"
      ? 'POST /v1/auth/users {"name":"alice","password":"a"}'
      : 'POST /v1/auth/users/alice/password {"password":"a"}';
  const orderings = [
    ["--password", "a", "--user", "root", "--password", "r"],
    ["--user", "root", "--password", "r", "--password", "a"],
    ["--new-password", "a", "--user", "root", "--password", "r"],
    ["--user", "root", "--password", "r", "--new-password", "a"],
    ["--password=a", "--user=root", "--password=r"],
    ["--user", "root", "--password=r", "--password", "a"],
  ];
  for (const flags of orderings) {
    test(`user ${sub} alice ${flags.join(" ")}: the caller is root/r, the new password a`, async () => {
      const result = await run("user", sub, "alice", ...flags);
      assert.equal(result.code, 0, result.err);
      assert.deepEqual(asked(), {
        calls: [newPasswordCall],
        authenticated: [root],
        tokens: [`Bearer t${server.issued}`],
      });
    });
  }

  test(`user ${sub} alice --password a with --token: the token is the caller's, in either order`, async () => {
    server.valid.add("T");
    for (const flags of [
      ["--token", "T", "--password", "a"],
      ["--password", "a", "--token", "T"],
    ]) {
      server.seen.length = 0;
      const result = await run("user", sub, "alice", ...flags);
      assert.equal(result.code, 0, result.err);
      assert.deepEqual(asked(), { calls: [newPasswordCall], authenticated: [], tokens: ["Bearer T"] });
    }
  });

  test(`user ${sub}: the new password from --password with the caller from RAFTKV_USER/RAFTKV_PASSWORD`, async () => {
    const result = await withEnv({ RAFTKV_USER: "root", RAFTKV_PASSWORD: "r" }, () =>
      run("user", sub, "alice", "--password", "a"),
    );
    assert.equal(result.code, 0, result.err);
    assert.deepEqual(asked().calls, [newPasswordCall]);
    assert.deepEqual(asked().authenticated, [root]);
  });

  test(`user ${sub}: a new password given twice, or none, is a usage error`, async () => {
    for (const flags of [
      ["--password", "a", "--new-password", "b"],
      ["--password", "a", "--password", "b"],
      ["--user", "root", "--password", "r", "--password", "a", "--new-password", "b"],
    ]) {
      const result = await run("user", sub, "alice", ...flags);
      assert.equal(result.code, exitCodes.usage, result.err);
      assert.match(result.err, /^error: user \w+: the new password is given twice/);
    }
    const none = await run("user", sub, "alice", "--user", "root", "--password", "r");
    assert.equal(none.code, exitCodes.usage);
    assert.match(none.err, /^error: user \w+ needs the new password: --password P/);
    assert.deepEqual(server.seen, []);
  });
}

test("user add root --password r alone: no credentials before auth is enabled", async () => {
  server.enabled = false;
  const result = await run("user", "add", "root", "--password", "r");
  assert.equal(result.code, 0, result.err);
  assert.equal(result.out, "user root added (auth revision 1)\n");
  assert.deepEqual(asked(), {
    calls: ['POST /v1/auth/users {"name":"root","password":"r"}'],
    authenticated: [],
    tokens: [undefined],
  });
});

test("the rewriting touches only user add and passwd, and nothing after --", () => {
  const put = ["put", "k", "v", "--password", "p"];
  assert.deepEqual(separateNewPassword(put), put);
  assert.deepEqual(separateNewPassword(["user", "delete", "bob", "--password", "p"]), [
    "user",
    "delete",
    "bob",
    "--password",
    "p",
  ]);
  assert.deepEqual(separateNewPassword(["user", "add", "--", "--password"]), ["user", "add", "--", "--password"]);
  assert.deepEqual(separateNewPassword(["user", "add", "bob", "--user", "root", "--json", "--password", "x"]), [
    "user",
    "add",
    "bob",
    "--user",
    "root",
    "--json",
    "--new-password",
    "x",
  ]);
});

test("credential flags: each combination's client option or usage problem", () => {
  assert.deepEqual(credentialsOf({}), {});
  assert.deepEqual(credentialsOf({ user: "u", password: "p" }), { auth: { user: "u", password: "p" } });
  assert.deepEqual(credentialsOf({ token: "t" }), { auth: { token: "t" } });
  assert.match((credentialsOf({ token: "t", user: "u", password: "p" }) as { problem: string }).problem, /not both/);
  assert.match((credentialsOf({ user: "u" }) as { problem: string }).problem, /--user u needs --password/);
  assert.match((credentialsOf({ password: "p" }) as { problem: string }).problem, /give --user too/);
  assert.match((credentialsOf({ token: "" }) as { problem: string }).problem, /--token is empty/);
});

test("every client command takes the credentials; a bad combination is a usage error on one line", async () => {
  const put = await run("put", "k", "v", "--user", "root", "--password", "r");
  assert.equal(put.code, 0, put.err);
  assert.deepEqual(asked().tokens, [`Bearer t${server.issued}`]);
  const bad = await run("get", "k", "--user", "root");
  assert.equal(bad.code, exitCodes.usage);
  assert.equal(bad.err, "error: --user root needs --password (or RAFTKV_PASSWORD)\n");
  const both = await run("get", "k", "--token", "T", "--user", "root", "--password", "r");
  assert.equal(both.code, exitCodes.usage);
  assert.match(both.err, /^error: give either --user and --password or --token, not both\n$/);
});

test("401 and 403 exit 1 with one line naming the problem", async () => {
  const wrong = await run("put", "k", "v", "--user", "root", "--password", "nope");
  assert.equal(wrong.code, exitCodes.failed);
  assert.equal(wrong.err, "error: authentication failed: scripted authentication_failed (authentication_failed)\n");
  const missing = await run("put", "k", "v");
  assert.equal(missing.code, exitCodes.failed);
  assert.equal(missing.err, "error: authentication failed: scripted unauthenticated (unauthenticated)\n");
  server.denied.add("/v1/kv/k");
  const denied = await run("put", "k", "v", "--user", "root", "--password", "r");
  assert.equal(denied.code, exitCodes.failed);
  assert.equal(denied.err, "error: permission denied: scripted permission_denied (permission_denied)\n");
  assert.equal(denied.out, "");
});

test("role, user and auth commands: requests and output as text and --json", async () => {
  const creds = ["--user", "root", "--password", "r"];
  server.routes.set("GET /v1/auth/roles/app", {
    status: 200,
    body: {
      name: "app",
      permissions: [
        { type: "readwrite", prefix: "app/" },
        { type: "read", key: "/w==", encoding: "base64" },
      ],
    },
  });
  server.routes.set("GET /v1/auth/users/alice", { status: 200, body: { name: "alice", roles: ["app"] } });
  server.routes.set("GET /v1/auth/users", { status: 200, body: { users: ["alice", "root"] } });
  server.routes.set("GET /v1/auth/status", { status: 200, body: { enabled: true, revision: 7 } });
  const outputs: string[] = [];
  for (const argv of [
    ["role", "add", "app"],
    ["role", "grant", "app", "readwrite", "app/"],
    ["role", "grant", "app", "read", "cfg", "--exact"],
    ["role", "revoke", "app", "app/"],
    ["role", "revoke", "app", "cfg", "--exact"],
    ["role", "delete", "app"],
    ["user", "grant-role", "alice", "app"],
    ["user", "revoke-role", "alice", "app"],
    ["user", "delete", "alice"],
    ["auth", "enable"],
    ["auth", "disable"],
    ["auth", "status"],
    ["user", "list"],
    ["user", "get", "alice"],
    ["role", "get", "app"],
  ]) {
    const result = await run(...argv, ...creds);
    assert.equal(result.code, 0, `${argv.join(" ")}: ${result.err}`);
    outputs.push(result.out);
  }
  assert.deepEqual(outputs, [
    "role app added (auth revision 1)\n",
    'role app granted readwrite on keys with prefix "app/" (auth revision 1)\n',
    'role app granted read on key "cfg" (auth revision 1)\n',
    'role app no longer has keys with prefix "app/" (auth revision 1)\n',
    'role app no longer has key "cfg" (auth revision 1)\n',
    "role app deleted (auth revision 1)\n",
    "role app granted to alice (auth revision 1)\n",
    "role app revoked from alice (auth revision 1)\n",
    "user alice deleted (auth revision 1)\n",
    "auth enabled (auth revision 1)\n",
    "auth disabled (auth revision 1)\n",
    "auth enabled (auth revision 7)\n",
    "alice\nroot\n",
    "user alice\nroles: app\n",
    'role app\nTYPE       ON\nreadwrite  keys with prefix "app/"\nread       key "base64:/w=="\n',
  ]);
  assert.deepEqual(asked().calls.slice(0, 12), [
    'POST /v1/auth/roles {"name":"app"}',
    'POST /v1/auth/roles/app/permissions {"type":"readwrite","prefix":"YXBwLw==","encoding":"base64"}',
    'POST /v1/auth/roles/app/permissions {"type":"read","key":"Y2Zn","encoding":"base64"}',
    "DELETE /v1/auth/roles/app/permissions?prefix=app%2F",
    "DELETE /v1/auth/roles/app/permissions?key=cfg",
    "DELETE /v1/auth/roles/app",
    'POST /v1/auth/users/alice/roles {"role":"app"}',
    "DELETE /v1/auth/users/alice/roles/app",
    "DELETE /v1/auth/users/alice",
    "POST /v1/auth/enable",
    "POST /v1/auth/disable",
    "GET /v1/auth/status",
  ]);
});

test("role get and auth status with --json; a bad permission type is a usage error", async () => {
  const creds = ["--user", "root", "--password", "r"];
  server.routes.set("GET /v1/auth/roles/app", {
    status: 200,
    body: {
      name: "app",
      permissions: [
        { type: "readwrite", prefix: "app/" },
        { type: "read", key: "/w==", encoding: "base64" },
      ],
    },
  });
  server.routes.set("GET /v1/auth/status", { status: 200, body: { enabled: true, revision: 7 } });
  const json = await run("role", "get", "app", "--json", ...creds);
  assert.deepEqual(JSON.parse(json.out), {
    name: "app",
    permissions: [
      { type: "readwrite", prefix: "app/" },
      { type: "read", key: "/w==", encoding: "base64" },
    ],
  });
  const status = await run("auth", "status", "--json");
  assert.deepEqual(JSON.parse(status.out), { enabled: true, revision: 7 });
  const badType = await run("role", "grant", "app", "all", "x", ...creds);
  assert.equal(badType.code, exitCodes.usage);
  assert.match(badType.err, /expected one of read, write, readwrite/);
});

test("status sends the token with its GET /v1/cluster too", async () => {
  await run("status", "--user", "root", "--password", "r");
  const cluster = server.seen.find((r) => r.url === "/v1/cluster");
  assert.match(cluster?.authorization ?? "", /^Bearer t\d+$/, "the token it authenticated for");
});
