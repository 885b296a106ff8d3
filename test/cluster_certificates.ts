/**
 * Throwaway TLS material for the process tests, made by src/tls (no part of the package's API, so it
 * is loaded from the build next to the tests): a client CA for the client ports and a peer CA for
 * the peer links, with one certificate of each shared by every member (they are all on 127.0.0.1).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
}
export interface CertificateAuthority extends Issued {
  readonly commonName: string;
}
export const x509 = (await import(new URL("../tls/index.js", import.meta.url).href)) as {
  createCertificateAuthority(options: { commonName: string }): CertificateAuthority;
  issueCertificate(ca: CertificateAuthority, options: { commonName: string; hosts?: readonly string[] }): Issued;
};

/** Writes `issued` as DIR/BASE.pem and DIR/BASE-key.pem; their paths. */
export async function save(dir: string, base: string, issued: Issued): Promise<[string, string]> {
  const [cert, key] = [join(dir, `${base}.pem`), join(dir, `${base}-key.pem`)];
  await writeFile(cert, issued.certPem);
  await writeFile(key, issued.keyPem);
  return [cert, key];
}

export interface ClusterCertificates {
  /** The `raftkv serve` flags that use them. */
  readonly serveArgs: string[];
  /** The client CA's file: --cacert for clients. */
  readonly caPath: string;
  readonly clientCa: CertificateAuthority;
  /** The members' peer certificate, key and the peer CA, PEM (what the fault proxy presents). */
  readonly peer: { readonly cert: string; readonly key: string; readonly ca: string };
}

export async function writeClusterCertificates(dir: string): Promise<ClusterCertificates> {
  const clientCa = x509.createCertificateAuthority({ commonName: "test client CA" });
  const peerCa = x509.createCertificateAuthority({ commonName: "test peer CA" });
  const hosts = ["localhost", "127.0.0.1"];
  const [cert, key] = await save(dir, "member", x509.issueCertificate(clientCa, { commonName: "member", hosts }));
  const peer = x509.issueCertificate(peerCa, { commonName: "peer", hosts });
  const [peerCert, peerKey] = await save(dir, "peer", peer);
  const [caPath, peerCaPath] = [join(dir, "ca.pem"), join(dir, "peer-ca.pem")];
  await writeFile(caPath, clientCa.certPem);
  await writeFile(peerCaPath, peerCa.certPem);
  return {
    serveArgs: [
      ...["--cert", cert, "--key", key, "--ca", caPath],
      ...["--peer-cert", peerCert, "--peer-key", peerKey, "--peer-ca", peerCaPath],
    ],
    caPath,
    clientCa,
    peer: { cert: peer.certPem, key: peer.keyPem, ca: peerCa.certPem },
  };
}
