/**
 * etcdctl given endpoints as URLs (`http://host:port`, `https://host:port`), the form etcd's docs
 * use: grpc-go then sends the whole URL as `:authority` on h2c, which node:http2 alone refuses
 * (the client port rewrites it, src/server/url_authority.ts). Endpoint status, put, get and member
 * list on a 3-process cluster, plain and over TLS with a client certificate.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { save, writeClusterCertificates, x509 } from "./cluster_certificates.js";
import { cleanEnv, ProcessCluster, tempDir, until } from "./harness.js";

const etcdctlPath = "/usr/bin/etcdctl";
const skip = existsSync(etcdctlPath)
  ? false
  : `${etcdctlPath} is absent: apt-get install etcd-client to run these tests`;

function etcdctl(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      etcdctlPath,
      [...args, "--command-timeout=5s", "--dial-timeout=3s"],
      { env: { ...cleanEnv(), ETCDCTL_API: "3" }, timeout: 30_000 },
      (error, stdout, stderr) => (error === null ? resolve(stdout) : reject(new Error(stderr.trim()))),
    );
  });
}

/** Retried until it succeeds (the cluster may still be electing). */
function succeeding(args: readonly string[]): Promise<string> {
  return until(`etcdctl ${args.join(" ")}`, () => etcdctl(args), 30_000);
}

async function checkUrlEndpoints(cluster: ProcessCluster, scheme: string, extraArgs: readonly string[]): Promise<void> {
  const members = cluster.members;
  const urls = members.map((m) => `${scheme}://${m.clientAddr}`);
  const all = [`--endpoints=${urls.join(",")}`, ...extraArgs];

  // Until one member shows as leader: the cluster may still be electing when the members answer.
  const status = await until(
    "endpoint status to show a leader",
    async () => {
      const lines = (await etcdctl(["endpoint", "status", ...all])).trim().split("\n");
      return lines.some((line) => line.split(", ")[4] === "true") ? lines : undefined;
    },
    30_000,
  );
  assert.deepEqual(
    status.map((line) => line.split(", ")[0]),
    urls,
  );
  assert.equal(status.filter((line) => line.split(", ")[4] === "true").length, 1, status.join("\n"));

  assert.equal(await succeeding(["put", "greeting", `hello ${scheme}`, ...all]), "OK\n");
  for (const url of urls) {
    const one = [`--endpoints=${url}`, ...extraArgs];
    assert.equal(await succeeding(["get", "greeting", ...one]), `greeting\nhello ${scheme}\n`);
  }

  const list = (await succeeding(["member", "list", ...all])).trim().split("\n");
  assert.deepEqual(
    list.map((line) => line.split(", ").slice(1, 3).join(" ")).sort(),
    members.map((m) => `started ${m.name}`).sort(),
  );
}

describe("etcdctl with http:// endpoints", { skip }, () => {
  let cluster: ProcessCluster;
  before(async () => {
    cluster = await ProcessCluster.start(3);
  });
  after(async () => {
    await cluster?.stop();
  });

  it("serves endpoint status, put, get and member list", async () => {
    await checkUrlEndpoints(cluster, "http", []);
  });
});

describe("etcdctl with https:// endpoints and a client certificate", { skip }, () => {
  let dir: { path: string; remove: () => Promise<void> };
  let cluster: ProcessCluster;
  let tlsArgs: string[];
  before(async () => {
    dir = await tempDir("raftkv-etcdctl-urls-");
    const made = await writeClusterCertificates(dir.path);
    const [cert, key] = await save(dir.path, "client", x509.issueCertificate(made.clientCa, { commonName: "root" }));
    tlsArgs = [`--cacert=${made.caPath}`, `--cert=${cert}`, `--key=${key}`];
    cluster = await ProcessCluster.start(3, { serveArgs: made.serveArgs });
  });
  after(async () => {
    await cluster?.stop();
    await dir?.remove();
  });

  it("serves endpoint status, put, get and member list", async () => {
    await checkUrlEndpoints(cluster, "https", tlsArgs);
  });
});
