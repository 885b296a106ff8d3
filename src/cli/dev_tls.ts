/**
 * `raftkv dev --tls`: throwaway certificates for a local cluster, made afresh on each start. Two CAs,
 * because a peer link accepts any certificate of the peer CA (docs/security.md): the client CA signs
 * the members' client-port certificates and a client certificate with CN root; the peer CA signs
 * the members' peer certificates only. Neither CA's key is kept.
 */
import { join } from "node:path";
import { fsDisk } from "../storage/index.js";
import { createCertificateAuthority, issueCertificate, type Issued } from "../tls/index.js";

export interface DevTls {
  readonly dir: string;
  /** `raftkv serve` flags for each member, by name. */
  readonly serveArgs: ReadonlyMap<string, readonly string[]>;
  /** The client flags that reach the cluster: --cacert, --cert and --key. */
  readonly clientArgs: readonly string[];
  readonly caPath: string;
}

const hosts = ["localhost", "127.0.0.1", "::1"];

async function writeFile(path: string, text: string): Promise<void> {
  const scratch = `${path}.new`;
  await fsDisk.unlink(scratch).catch(() => undefined);
  const file = await fsDisk.open(scratch, { create: true });
  try {
    await file.write(Buffer.from(text), 0);
  } finally {
    await file.close();
  }
  await fsDisk.rename(scratch, path);
}

export async function makeDevTls(dataDir: string, names: readonly string[]): Promise<DevTls> {
  const dir = join(dataDir, "tls");
  await fsDisk.mkdir(dir);
  const clientCa = createCertificateAuthority({ commonName: "raftkv dev client CA" });
  const peerCa = createCertificateAuthority({ commonName: "raftkv dev peer CA" });
  const save = async (base: string, issued: Issued): Promise<[string, string]> => {
    const [cert, key] = [join(dir, `${base}.pem`), join(dir, `${base}-key.pem`)];
    await writeFile(cert, issued.certPem);
    await writeFile(key, issued.keyPem);
    return [cert, key];
  };
  const caPath = join(dir, "ca.pem");
  const peerCaPath = join(dir, "peer-ca.pem");
  await writeFile(caPath, clientCa.certPem);
  await writeFile(peerCaPath, peerCa.certPem);
  const serveArgs = new Map<string, readonly string[]>();
  for (const name of names) {
    const [cert, key] = await save(`${name}-client`, issueCertificate(clientCa, { commonName: name, hosts }));
    const [peerCert, peerKey] = await save(`${name}-peer`, issueCertificate(peerCa, { commonName: name, hosts }));
    serveArgs.set(name, [
      ...["--cert", cert, "--key", key, "--ca", caPath],
      ...["--peer-cert", peerCert, "--peer-key", peerKey, "--peer-ca", peerCaPath],
    ]);
  }
  const [cert, key] = await save("client", issueCertificate(clientCa, { commonName: "root" }));
  return { dir, serveArgs, clientArgs: ["--cacert", caPath, "--cert", cert, "--key", key], caPath };
}
