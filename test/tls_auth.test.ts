/**
 * Identity from a client certificate over real TLS (docs/auth.md): with auth on, a client whose
 * certificate the client CA signed is the user its CN names, at every member, including requests a
 * follower forwards to the leader (with a token it mints); a certificate of another CA names nobody.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { save, writeClusterCertificates, x509 } from "./cluster_certificates.js";
import { ProcessCluster, request, runCli, tempDir, until, type ClientAccess, type Member } from "./harness.js";

/** The cluster's certificates, carol's (CN carol, of the client CA) and one of a foreign CA with CN root. */
async function writeCertificates(
  dir: string,
): Promise<{ files: Map<string, string>; serveArgs: string[]; ca: string }> {
  const made = await writeClusterCertificates(dir);
  const files = new Map<string, string>([["ca.pem", made.caPath]]);
  const foreignCa = x509.createCertificateAuthority({ commonName: "someone else's CA" });
  for (const [name, issued] of [
    ["carol", x509.issueCertificate(made.clientCa, { commonName: "carol" })],
    ["forged-root", x509.issueCertificate(foreignCa, { commonName: "root" })],
  ] as const) {
    const [cert, key] = await save(dir, name, issued);
    files.set(`${name}.pem`, cert).set(`${name}-key.pem`, key);
  }
  return { files, serveArgs: made.serveArgs, ca: made.clientCa.certPem };
}

/** Root, carol (no password: her certificate is her only way in) with readwrite on app/, auth on. */
async function enableAuth(leader: Member): Promise<void> {
  for (const [path, body] of [
    ["/v1/auth/users", { name: "root", password: "root-secret" }],
    ["/v1/auth/users", { name: "carol", password: null }],
    ["/v1/auth/roles", { name: "app" }],
    ["/v1/auth/roles/app/permissions", { type: "readwrite", prefix: "app/" }],
    ["/v1/auth/users/carol/roles", { role: "app" }],
    ["/v1/auth/enable", {}],
  ] as const) {
    const r = await request(leader.clientAddr, "POST", path, JSON.stringify(body));
    assert.equal(r.status, 200, `${path}: ${r.text}`);
  }
}

describe("client certificates as identities, on a 3-process TLS cluster with auth on", () => {
  let dir: { path: string; remove: () => Promise<void> };
  let cluster: ProcessCluster;
  let files: Map<string, string>;

  before(async () => {
    dir = await tempDir("raftkv-tls-auth-");
    const made = await writeCertificates(dir.path);
    files = made.files;
    const access: ClientAccess = { ca: made.ca };
    cluster = await ProcessCluster.start(3, { serveArgs: made.serveArgs, access });
    await enableAuth(await cluster.leader(30_000));
  });

  after(async () => {
    await cluster?.stop();
    await dir?.remove();
  });

  const cli = (m: Member, as: string | undefined, ...args: string[]) =>
    runCli(
      [
        ...args,
        ...["--endpoints", m.clientAddr, "--cacert", files.get("ca.pem")!, "--timeout", "5s"],
        ...(as === undefined ? [] : ["--cert", files.get(`${as}.pem`)!, "--key", files.get(`${as}-key.pem`)!]),
      ],
      { timeoutMs: 20_000 },
    );

  it("a certificate's CN is its user at every member, forwarded requests included", async () => {
    for (const m of cluster.members) {
      await until(
        `carol's put through ${m.name}`,
        async () => ((await cli(m, "carol", "put", `app/${m.name}`, "v")).code === 0 ? true : undefined),
        30_000,
      );
      // A lease grant at a follower goes to the leader over https, with a token minted for carol.
      const grant = await cli(m, "carol", "lease", "grant", "30");
      assert.equal(grant.code, 0, `lease grant at ${m.name}: ${grant.stderr}`);
      const denied = await cli(m, "carol", "put", "other/x", "v");
      assert.equal(denied.code, 1, `a put outside carol's prefix at ${m.name}`);
      assert.match(denied.stderr, /permission denied/);
    }
    const range = await cli(cluster.members[0]!, "carol", "range", "--prefix", "app/");
    assert.deepEqual(range.stdout.trim().split("\n"), ["app/n1\tv", "app/n2\tv", "app/n3\tv"], range.stderr);
  });

  it("no certificate, or one of another CA claiming to be root, is nobody", async () => {
    const [n1] = cluster.members as [Member];
    for (const as of [undefined, "forged-root"]) {
      const r = await cli(n1, as, "put", "app/x", "v");
      assert.equal(r.code, 1, `${as ?? "no certificate"}: ${r.stdout}`);
      assert.match(r.stderr, /authentication failed/, as ?? "no certificate");
    }
    const login = await request(
      n1.clientAddr,
      "POST",
      "/v1/auth/authenticate",
      '{"name":"root","password":"root-secret"}',
    );
    const token = (login.body as { token: string }).token;
    const read = await request(n1.clientAddr, "GET", "/v1/kv/app/x", undefined, { authorization: `Bearer ${token}` });
    assert.equal(read.status, 404, "the refused puts wrote nothing");
  });
});
