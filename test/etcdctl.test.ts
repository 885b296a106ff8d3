/**
 * Debian's etcdctl (3.4) against a 3-process raftkv cluster on raftkv's own client ports (etcd's
 * gRPC API shares them): endpoint status, member list, and get of writes made through raftkv's
 * HTTP API; then the same over TLS with a client certificate.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { save, writeClusterCertificates, x509 } from "./cluster_certificates.js";
import { withMembership } from "./engine_under_test.js";
import { cleanEnv, ProcessCluster, runCli, tempDir, until, type Member } from "./harness.js";

const etcdctlPath = "/usr/bin/etcdctl";
const skip = existsSync(etcdctlPath)
  ? false
  : `${etcdctlPath} is absent: apt-get install etcd-client to run these tests`;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function etcdctl(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      etcdctlPath,
      [...args, "--command-timeout=5s", "--dial-timeout=3s"],
      { env: { ...cleanEnv(), ETCDCTL_API: "3" }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs until it succeeds (the cluster may still be electing), then returns its output. */
async function succeeding(args: readonly string[]): Promise<string> {
  const run = await until(
    `etcdctl ${args.join(" ")}`,
    async () => {
      const result = await etcdctl(args);
      if (result.code !== 0) throw new Error(result.stderr.trim());
      return result;
    },
    30_000,
  );
  return run.stdout;
}

function checkStatusAndMembers(members: readonly Member[], scheme: string, status: string, memberList: string): void {
  const statusLines = status.trim().split("\n");
  assert.equal(statusLines.length, 3, status);
  const ids = new Map<string, string>();
  let leaders = 0;
  for (const [i, line] of statusLines.entries()) {
    // endpoint, id, version, db size, is leader, is learner, raft term, raft index, raft applied index, errors
    const match =
      /^(\S+), ([0-9a-f]+), 3\.4\.23-raftkv, \d+(?:\.\d+)? [kMG]?B, (true|false), false, (\d+), (\d+), (\d+),\s*$/.exec(
        line,
      );
    assert.ok(match !== null, `endpoint status line: ${line}`);
    assert.equal(match[1], members[i]!.clientAddr);
    ids.set(members[i]!.name, match[2]!);
    if (match[3] === "true") leaders++;
    assert.ok(Number(match[4]) >= 1);
  }
  assert.equal(leaders, 1, status);
  const memberLines = memberList.trim().split("\n").sort();
  const expected = members
    .map((m) => `${ids.get(m.name)}, started, ${m.name}, ${scheme}://${m.peerAddr}, ${scheme}://${m.clientAddr}, false`)
    .sort();
  assert.deepEqual(memberLines, expected);
}

async function checkGets(m: Member, tlsArgs: readonly string[]): Promise<void> {
  const endpoint = [`--endpoints=${m.clientAddr}`, ...tlsArgs];
  assert.equal(await succeeding(["get", "foo", ...endpoint]), "foo\nbar\n");
  assert.equal(await succeeding(["get", "foo", "--print-value-only", ...endpoint]), "bar\n");
  assert.equal(await succeeding(["get", "missing", ...endpoint]), "");
  assert.equal(await succeeding(["get", "dir/", "--prefix", ...endpoint]), "dir/a\n1\ndir/b\n2\ndir/c\n3\n");
  assert.equal(
    await succeeding(["get", "dir/", "--prefix", "--keys-only", "--limit=2", ...endpoint]),
    "dir/a\n\ndir/b\n\n",
  );
  const json = JSON.parse(await succeeding(["get", "dir/", "--prefix", "--limit=1", "-w", "json", ...endpoint])) as {
    count: number;
    more: boolean;
    kvs: unknown[];
    header: { revision: number; raft_term: number };
  };
  assert.deepEqual([json.count, json.more, json.kvs.length], [3, true, 1]);
  assert.ok(json.header.revision >= 4);
  assert.equal(await succeeding(["get", "foo", "--consistency=s", ...endpoint]), "foo\nbar\n");
}

describe("etcdctl against a raftkv cluster", { skip }, () => {
  let cluster: ProcessCluster;
  before(async () => {
    cluster = await ProcessCluster.start(3);
  });
  after(async () => {
    await cluster?.stop();
  });

  it("reads endpoint status, member list and keys written through raftkv's HTTP API", async () => {
    const members = cluster.members;
    const writes: [string, string][] = [
      ["foo", "bar"],
      ["dir/a", "1"],
      ["dir/b", "2"],
      ["dir/c", "3"],
    ];
    for (const [key, value] of writes)
      await until(
        `put ${key}`,
        async () =>
          (await runCli(["put", key, value, "--endpoints", members[0]!.clientAddr])).code === 0 ? true : undefined,
        30_000,
      );
    const endpoints = `--endpoints=${members.map((m) => m.clientAddr).join(",")}`;
    checkStatusAndMembers(
      members,
      "http",
      await succeeding(["endpoint", "status", endpoints]),
      await succeeding(["member", "list", endpoints]),
    );
    for (const m of members) await checkGets(m, []);
    // One store behind both APIs: etcdctl's write is raftkv's key.
    const put = await etcdctl(["put", "from-etcdctl", "y", endpoints]);
    assert.equal(put.code, 0, put.stderr);
    const read = await runCli(["get", "from-etcdctl", "--endpoints", members[1]!.clientAddr]);
    assert.equal(read.code, 0, read.stderr);
    assert.match(read.stdout, /\by\b/);
    // A call raftkv does not serve says why.
    const update = await etcdctl(["member", "update", "1234", "--peer-urls=http://127.0.0.1:1", endpoints]);
    assert.notEqual(update.code, 0);
    assert.match(update.stderr, /Unimplemented desc = raftkv cannot change a member.s peer URL/);
  });
});

/** Adds a learner that is never started, and returns its id as etcdctl prints it. */
async function addLearner(name: string, peerUrl: string, args: readonly string[]): Promise<string> {
  const add = await succeeding(["member", "add", name, "--learner", `--peer-urls=${peerUrl}`, ...args]);
  const id = /^Member +(\w+) added/.exec(add)?.[1];
  assert.ok(id !== undefined, add);
  return id;
}

/** `--endpoints=` naming one follower, as etcdctl's endpoint status reports it. */
async function followerEndpoint(cluster: ProcessCluster, tlsArgs: readonly string[]): Promise<string> {
  const all = `--endpoints=${cluster.members.map((m) => `https://${m.clientAddr}`).join(",")}`;
  const status = await succeeding(["endpoint", "status", all, ...tlsArgs]);
  const follower = status.split("\n").find((line) => line.split(", ")[4] === "false");
  assert.ok(follower !== undefined, status);
  return `--endpoints=${follower.split(", ")[0]!}`;
}

describe("etcdctl against a raftkv cluster over TLS with a client certificate", { skip }, () => {
  let dir: { path: string; remove: () => Promise<void> };
  let cluster: ProcessCluster;
  let tlsArgs: string[];
  before(async () => {
    dir = await tempDir("raftkv-etcdctl-tls-");
    const made = await writeClusterCertificates(dir.path);
    const [cert, key] = await save(dir.path, "client", x509.issueCertificate(made.clientCa, { commonName: "root" }));
    tlsArgs = [`--cacert=${made.caPath}`, `--cert=${cert}`, `--key=${key}`];
    cluster = await ProcessCluster.start(3, { serveArgs: made.serveArgs });
    for (const [key, value] of [
      ["foo", "bar"],
      ["dir/a", "1"],
      ["dir/b", "2"],
      ["dir/c", "3"],
    ] as const)
      await until(
        `put ${key}`,
        async () =>
          (await runCli(["put", key, value, "--endpoints", cluster.members[0]!.clientAddr, "--cacert", made.caPath]))
            .code === 0
            ? true
            : undefined,
        30_000,
      );
  });
  after(async () => {
    await cluster?.stop();
    await dir?.remove();
  });

  it("serves endpoint status, member list and get over https", async () => {
    const members = cluster.members;
    const endpoints = `--endpoints=${members.map((m) => `https://${m.clientAddr}`).join(",")}`;
    const status = await succeeding(["endpoint", "status", endpoints, ...tlsArgs]);
    checkStatusAndMembers(
      members,
      "https",
      status.replaceAll("https://", ""),
      await succeeding(["member", "list", endpoints, ...tlsArgs]),
    );
    await checkGets(members[1]!, tlsArgs);
  });

  it("passes a membership change sent to a follower on to the leader over https", withMembership, async () => {
    const one = await followerEndpoint(cluster, tlsArgs);
    const id = await addLearner("spare", "http://127.0.0.1:1", [one, ...tlsArgs]);
    assert.match(
      await succeeding(["member", "list", one, ...tlsArgs]),
      new RegExp(`^${id}, unstarted, , https?://127.0.0.1:1, , true$`, "m"),
    );
    assert.match(await succeeding(["member", "remove", id, one, ...tlsArgs]), /removed from cluster/);
  });

  it(
    "passes a certificate user's membership change made on a follower on to the leader with auth on",
    withMembership,
    async () => {
      const all = `--endpoints=${cluster.members.map((m) => `https://${m.clientAddr}`).join(",")}`;
      await succeeding(["user", "add", "root", "--new-user-password=rootpw", all, ...tlsArgs]);
      await succeeding(["auth", "enable", all, ...tlsArgs]);
      const one = await followerEndpoint(cluster, tlsArgs);
      // The certificate's CN (root) is the user: no token is sent, and the leader sees no certificate.
      const id = await addLearner("spare2", "http://127.0.0.1:2", [one, ...tlsArgs]);
      assert.match(await succeeding(["member", "remove", id, one, ...tlsArgs]), /removed from cluster/);
      assert.match(await succeeding(["auth", "disable", all, ...tlsArgs]), /Authentication Disabled/);
    },
  );
});
