import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { join } from "node:path";
import { after, test } from "node:test";
import { fsDisk, makeTempDir, removeTree } from "../storage/fs_disk.js";
import { createCertificateAuthority, issueCertificate } from "../tls/index.js";
import { CliFailure } from "./context.js";
import { parseServeFlags } from "./serve_flags.js";
import { followTlsFiles, loadTlsFiles } from "./tls_files.js";

const dir = await makeTempDir("raftkv-tls-files-");
after(() => removeTree(dir));

/** Replaces a file at once (by rename), as a certificate manager does. */
async function put(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  const scratch = `${path}.${Math.random()}`;
  const file = await fsDisk.open(scratch, { create: true });
  await file.write(Buffer.from(text), 0);
  await file.close();
  await fsDisk.rename(scratch, path);
  return path;
}

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const ca = createCertificateAuthority({ commonName: "CA" });
const fingerprint = (cert: string | Buffer): string => new X509Certificate(cert).fingerprint256;

test("changed files are loaded once they have settled; a set that does not load keeps the old one", async () => {
  const first = issueCertificate(ca, { commonName: "first" });
  const paths = {
    cert: await put("c.pem", first.certPem),
    key: await put("k.pem", first.keyPem),
    ca: await put("ca.pem", ca.certPem),
  };
  const credentials = await loadTlsFiles(paths, "client TLS");
  const reloaded: string[] = [];
  const warnings: string[] = [];
  const follower = followTlsFiles({
    credentials,
    paths,
    what: "client TLS",
    onReloaded: (text) => reloaded.push(text),
    onWarning: (text) => warnings.push(text),
    pollMs: 20,
  });
  try {
    const second = issueCertificate(ca, { commonName: "second" });
    await put("c.pem", second.certPem);
    await put("k.pem", second.keyPem);
    await until("the new certificate", () => fingerprint(credentials.material.cert) === fingerprint(second.certPem));
    assert.equal(reloaded.length, 1);
    // A key that is not the certificate's: refused, reported once, the second set stays.
    await put("k.pem", first.keyPem);
    await until("the warning", () => warnings.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /kept the certificates in use/);
    assert.equal(fingerprint(credentials.material.cert), fingerprint(second.certPem));
    // A file gone missing is reported and changes nothing either.
    await fsDisk.unlink(paths.cert);
    await until("the warning for the missing file", () => warnings.some((w) => w.includes("cannot read")));
    assert.equal(fingerprint(credentials.material.cert), fingerprint(second.certPem));
    // An explicit reload (SIGHUP) applies a good set at once.
    const third = issueCertificate(ca, { commonName: "third" });
    await put("c.pem", third.certPem);
    await put("k.pem", third.keyPem);
    await follower.reload();
    assert.equal(fingerprint(credentials.material.cert), fingerprint(third.certPem));
  } finally {
    follower.stop();
  }
});

test("a certificate that does not load refuses the start with its file names", async () => {
  const leaf = issueCertificate(ca, { commonName: "x" });
  const paths = { cert: await put("bad-c.pem", leaf.certPem), key: await put("bad-k.pem", ca.keyPem) };
  await assert.rejects(loadTlsFiles(paths, "peer TLS"), /peer TLS: .*bad-c\.pem and .*bad-k\.pem do not load/);
  await assert.rejects(
    loadTlsFiles({ ...paths, cert: join(dir, "missing.pem") }, "peer TLS"),
    /cannot read .*missing\.pem: ENOENT/,
  );
});

test("serve's TLS flags: --cert with --key, --ca only with them, the peer flags all three or none", () => {
  const usage = (args: string[], pattern: RegExp): void =>
    assert.throws(
      () => parseServeFlags(args, {}),
      (e: unknown) => e instanceof CliFailure && e.exitCode === 2 && pattern.test(e.message),
    );
  usage(["--cert", "c.pem"], /--cert and --key go together/);
  usage(["--ca", "ca.pem"], /--ca needs --cert and --key/);
  usage(["--peer-cert", "c.pem", "--peer-key", "k.pem"], /all three or none/);
  const settings = parseServeFlags(
    ["--cert", "c", "--key", "k", "--peer-cert", "pc", "--peer-key", "pk", "--peer-ca", "pca"],
    { RAFTKV_CA: "ca" },
  );
  assert.deepEqual(settings?.clientTls, { cert: "c", key: "k", ca: "ca" });
  assert.deepEqual(settings.peerTls, { cert: "pc", key: "pk", ca: "pca" });
  assert.equal(settings.connectionsPerAddress, 1024);
  assert.equal(parseServeFlags([], {})?.clientTls, undefined);
});
