import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { connect, createServer, type TLSSocket } from "node:tls";
import { ipAddressBytes, objectIdentifier, unsignedInteger } from "./der.js";
import { createCertificateAuthority, issueCertificate } from "./x509.js";

describe("DER", () => {
  it("encodes integers, object identifiers and IP addresses as X.690 and RFC 5280 say", () => {
    assert.equal(unsignedInteger(Buffer.from([0, 0, 0x7f])).toString("hex"), "02017f");
    assert.equal(unsignedInteger(Buffer.from([0x80])).toString("hex"), "02020080");
    assert.equal(objectIdentifier("1.2.840.10045.4.3.2").toString("hex"), "06082a8648ce3d040302");
    assert.equal(ipAddressBytes("127.0.0.1").toString("hex"), "7f000001");
    assert.equal(ipAddressBytes("::1").toString("hex"), "00000000000000000000000000000001");
    assert.equal(ipAddressBytes("fe80::1:2").toString("hex"), "fe800000000000000000000000010002");
    assert.equal(ipAddressBytes("::ffff:10.0.0.1").toString("hex"), "00000000000000000000ffff0a000001");
  });
});

describe("X.509 certificates", () => {
  const ca = createCertificateAuthority({ commonName: "raftkv test CA" });

  it("makes a self-signed CA that may sign certificates", () => {
    const cert = new X509Certificate(ca.certPem);
    assert.equal(cert.subject, "CN=raftkv test CA");
    assert.equal(cert.issuer, "CN=raftkv test CA");
    assert.equal(cert.ca, true);
    assert.ok(cert.verify(cert.publicKey));
    assert.ok(cert.checkIssued(cert));
    assert.ok(new Date(cert.validFrom).getTime() <= Date.now());
  });

  it("issues leaf certificates the CA signed, for the names and addresses given", () => {
    const leaf = issueCertificate(ca, { commonName: "n1", hosts: ["localhost", "127.0.0.1", "::1"] });
    const cert = new X509Certificate(leaf.certPem);
    const caCert = new X509Certificate(ca.certPem);
    assert.equal(cert.subject, "CN=n1");
    assert.equal(cert.issuer, "CN=raftkv test CA");
    assert.equal(cert.ca, false);
    assert.ok(cert.checkIssued(caCert));
    assert.ok(cert.verify(caCert.publicKey));
    assert.ok(!cert.verify(new X509Certificate(createCertificateAuthority({ commonName: "other" }).certPem).publicKey));
    assert.equal(cert.subjectAltName, "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    assert.deepEqual(cert.keyUsage, ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
    assert.equal(cert.checkHost("localhost"), "localhost");
    assert.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(cert.checkIP("127.0.0.2"), undefined);
    assert.ok(cert.checkPrivateKey(createPrivateKey(leaf.keyPem)));
  });

  it("works in a real TLS handshake, both ends verified against the CA", async () => {
    const server = issueCertificate(ca, { commonName: "server", hosts: ["localhost", "127.0.0.1"] });
    const client = issueCertificate(ca, { commonName: "root" });
    const listener = createServer(
      { cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
      (socket) => {
        const peer = socket.getPeerCertificate();
        socket.end(`hello ${String(peer.subject.CN)}`);
      },
    );
    listener.listen(0, "127.0.0.1");
    await once(listener, "listening");
    try {
      const { port } = listener.address() as AddressInfo;
      const socket: TLSSocket = connect({
        host: "127.0.0.1",
        port,
        ca: ca.certPem,
        cert: client.certPem,
        key: client.keyPem,
      });
      await once(socket, "secureConnect");
      assert.equal(socket.authorized, true);
      let answer = "";
      socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
      await once(socket, "end");
      assert.equal(answer, "hello root");
      socket.destroy();
    } finally {
      listener.close();
    }
  });
});
