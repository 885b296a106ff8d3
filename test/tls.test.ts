/**
 * TLS end to end: a 3-process cluster with https on the client ports and mutual TLS between members,
 * from certificates made by src/tls; and `raftkv dev --tls` answering the command it prints.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { save, writeClusterCertificates, x509 } from "./cluster_certificates.js";
import { CliProcess, ProcessCluster, runCli, tempDir, until, type Member } from "./harness.js";

/** A plain-http GET: resolves with the status, or rejects with the connection's error. */
function plainGet(addr: string, path: string): Promise<number> {
  const [host, port] = addr.split(":") as [string, string];
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port: Number(port), path, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** The fingerprint of the certificate a new TLS connection to `addr` is shown. */
async function servedFingerprint(addr: string, ca: string): Promise<string> {
  const [host, port] = addr.split(":") as [string, string];
  const socket = tlsConnect({ host, port: Number(port), ca });
  try {
    await new Promise((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    return socket.getPeerCertificate().fingerprint256;
  } finally {
    socket.destroy();
  }
}

describe("a 3-process cluster with TLS on both ports", () => {
  let dir: { path: string; remove: () => Promise<void> };
  let cluster: ProcessCluster;
  let clientArgs: string[];
  let made: Awaited<ReturnType<typeof writeClusterCertificates>>;

  before(async () => {
    dir = await tempDir("raftkv-tls-");
    made = await writeClusterCertificates(dir.path);
    clientArgs = ["--cacert", made.caPath];
    cluster = await ProcessCluster.start(3, { serveArgs: made.serveArgs });
  });

  after(async () => {
    await cluster?.stop();
    await dir?.remove();
  });

  const cli = (m: Member, ...args: string[]) =>
    runCli([...args, "--endpoints", m.clientAddr, ...clientArgs, "--timeout", "3s"], { timeoutMs: 20_000 });

  it("takes a write through one member and serves it from another, over https verified with --cacert", async () => {
    const [n1, , n3] = cluster.members as [Member, Member, Member];
    // The first write waits for an election and for the members' hellos over their TLS peer links.
    await until(
      "a write through n1",
      async () => ((await cli(n1, "put", "greeting", "hello over TLS")).code === 0 ? true : undefined),
      30_000,
    );
    const read = await cli(n3, "get", "greeting");
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout.trim(), "hello over TLS");
    // Two of the three are followers, which forward writes to the leader's client port over https.
    for (const m of cluster.members) {
      const put = await cli(m, "put", `from-${m.name}`, m.name);
      assert.equal(put.code, 0, `a write through ${m.name}: ${put.stderr}`);
    }
    const range = await cli(n1, "range", "--prefix", "from-");
    assert.deepEqual(range.stdout.trim().split("\n"), ["from-n1\tn1", "from-n2\tn2", "from-n3\tn3"], range.stderr);
  });

  it("takes new certificates on SIGHUP without a restart, and keeps serving", async () => {
    const [n1, n2] = cluster.members as [Member, Member];
    const renewed = x509.issueCertificate(made.clientCa, { commonName: "member renewed", hosts: ["127.0.0.1"] });
    const expected = new X509Certificate(renewed.certPem).fingerprint256;
    assert.notEqual(await servedFingerprint(n1.clientAddr, made.clientCa.certPem), expected);
    await save(dir.path, "member", renewed);
    n1.process!.kill("SIGHUP");
    await until("n1 serving the renewed certificate", async () =>
      (await servedFingerprint(n1.clientAddr, made.clientCa.certPem)) === expected ? true : undefined,
    );
    assert.match(n1.output, /loaded new certificates/);
    // Still one cluster: a write through n2 (forwarded to the leader over https when n2 follows).
    const put = await cli(n2, "put", "after-reload", "yes");
    assert.equal(put.code, 0, put.stderr);
    assert.equal(n1.process!.exitCode, null);
  });

  it("refuses plain http, and a client that does not trust the members' CA", async () => {
    const n2 = cluster.members[1]!;
    await assert.rejects(plainGet(n2.clientAddr, "/v1/status"));
    const get = ["get", "greeting", "--endpoints", n2.clientAddr, "--timeout", "1s"];
    assert.notEqual((await runCli(get)).code, 0);
    const otherCa = join(dir.path, "other-ca.pem");
    await writeFile(otherCa, x509.createCertificateAuthority({ commonName: "someone else" }).certPem);
    const distrusting = await runCli([...get, "--cacert", otherCa]);
    assert.notEqual(distrusting.code, 0);
    assert.match(distrusting.stderr, /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });
});

/** A base port with its members' peer and client ports free (as test/dev_stop.test.ts picks one). */
async function freeBasePort(members: number): Promise<number> {
  const listen = (port: number) =>
    new Promise<Server | undefined>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(undefined));
      server.listen(port, "127.0.0.1", () => resolve(server));
    });
  return until("free ports for raftkv dev", async () => {
    const base = 10_000 + Math.floor(Math.random() * 20_000);
    const held = await Promise.all(
      Array.from({ length: members }, (_, k) => [base + k, base + 1000 + k])
        .flat()
        .map(listen),
    );
    const opened = held.filter((s): s is Server => s !== undefined);
    await Promise.all(opened.map((s) => new Promise((r) => s.close(r))));
    return held.every((s) => s !== undefined) ? base : undefined;
  });
}

describe("raftkv dev --tls", () => {
  it("comes up with TLS on both ports and answers the command it prints", async () => {
    const dir = await tempDir("raftkv-dev-tls-");
    const dev = new CliProcess([
      "dev",
      "--tls",
      "--data",
      join(dir.path, "data"),
      "--base-port",
      String(await freeBasePort(3)),
    ]);
    try {
      const printed = await until(
        "the printed client command",
        () => /npx raftkv (get hello .*)$/m.exec(dev.stdout)?.[1],
      );
      const args = printed.split(" ");
      const endpoints = args[args.indexOf("--endpoints") + 1]!;
      const tlsArgs = args.slice(args.indexOf("--endpoints") + 2);
      await until(
        "a write to the dev cluster",
        async () =>
          (await runCli(["put", "hello", "tls", "--endpoints", endpoints, ...tlsArgs])).code === 0 ? true : undefined,
        30_000,
      );
      const answer = await runCli(args);
      assert.equal(answer.code, 0, answer.stderr);
      assert.equal(answer.stdout.trim(), "tls");
      assert.match(dev.stdout, /n1: https:\/\//);
      const exit = await dev.stop("SIGINT");
      assert.equal(exit.code, 0, exit.stderr);
    } finally {
      if (dev.running) await dev.stop("SIGKILL").catch(() => undefined);
      await dir.remove();
    }
  });
});
