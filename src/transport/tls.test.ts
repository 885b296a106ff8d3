/*
 * Mutual TLS on the peer transport: members holding certificates of the peer CA talk; anyone else is
 * refused in the handshake, before a frame is read; new certificates apply without dropping links.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { connect as netConnect } from "node:net";
import { test } from "node:test";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import {
  createCertificateAuthority,
  issueCertificate,
  TlsCredentials,
  type CertificateAuthority,
} from "../tls/index.js";
import { messageFrame } from "./framing.js";
import type { PeerAddress } from "./peer_address.js";
import { heartbeat, isHeartbeat, n1, n2, startNode, until, within } from "./tcp.test.helper.js";

const peerCa = createCertificateAuthority({ commonName: "peer CA" });
const otherCa = createCertificateAuthority({ commonName: "another CA" });

function credentials(ca: CertificateAuthority, name: string, trust: CertificateAuthority = ca): TlsCredentials {
  const leaf = issueCertificate(ca, { commonName: name, hosts: ["127.0.0.1"] });
  return new TlsCredentials({ cert: leaf.certPem, key: leaf.keyPem, ca: trust.certPem });
}

/** A TLS client that is no member (no certificate, or one given here), sending a valid heartbeat frame. */
async function intrude(address: PeerAddress, cert?: { cert: string; key: string }): Promise<void> {
  const socket: TLSSocket = tlsConnect({ host: address.host, port: address.port, ca: peerCa.certPem, ...cert });
  socket.on("error", () => undefined);
  // With TLS 1.3 the client finishes its handshake before the server has judged its certificate.
  await within(once(socket, "secureConnect"), "the intruder's handshake");
  socket.write(messageFrame(heartbeat(n1, n2, 666)));
  // events.once would reject on the 'error' the server's alert raises; the close is what matters.
  await within(
    new Promise((resolve) => socket.once("close", resolve)),
    "the listener closing the intruder's connection",
  );
}

test("two members with certificates of the peer CA exchange messages both ways", async () => {
  const a = await startNode(n1, { tls: credentials(peerCa, "n1") });
  const b = await startNode(n2, { tls: credentials(peerCa, "n2") });
  a.t.setPeer(n2, b.address);
  b.t.setPeer(n1, a.address);
  a.t.send([heartbeat(n1, n2, 1)]);
  b.t.send([heartbeat(n2, n1, 2)]);
  await b.inbox.next(isHeartbeat(1), "n1's heartbeat at n2");
  await a.inbox.next(isHeartbeat(2), "n2's heartbeat at n1");
  assert.equal(a.t.stats().handshakesRefused + b.t.stats().handshakesRefused, 0);
  await Promise.all([a.t.close(), b.t.close()]);
});

test("a node without a certificate of the peer CA is refused in the handshake; none of its messages arrive", async () => {
  const memberWarnings: string[] = [];
  const member = await startNode(n2, {
    tls: credentials(peerCa, "n2"),
    onWarning: (text) => memberWarnings.push(text),
  });
  // Signed by another CA, though it trusts the member's: only the member's check can refuse it.
  const outsider = await startNode(n1, { tls: credentials(otherCa, "n1", peerCa) });
  outsider.t.setPeer(n2, member.address);
  const sendUntilRefused = setInterval(() => outsider.t.send([heartbeat(n1, n2, 1)]), 10);
  try {
    await until(() => member.t.stats().handshakesRefused >= 3, "three refused handshakes from the outsider");
  } finally {
    clearInterval(sendUntilRefused);
  }
  // Dialling the outsider, the member refuses its certificate and says why, once however often it redials.
  member.t.setPeer(n1, outsider.address);
  const dialUntilRefused = setInterval(() => member.t.send([heartbeat(n2, n1, 1)]), 10);
  try {
    await until(() => member.t.stats().connectFailures >= 3, "three failed dials to the outsider");
  } finally {
    clearInterval(dialUntilRefused);
  }
  const dialWarnings = memberWarnings.filter((w) => w.startsWith("TLS with node 1"));
  assert.equal(dialWarnings.length, 1, dialWarnings.join("\n"));
  assert.match(dialWarnings[0]!, /failed: unable to verify the first certificate/);
  assert.equal(outsider.inbox.messages.length, 0);
  await intrude(member.address);
  const stranger = issueCertificate(otherCa, { commonName: "stranger" });
  await intrude(member.address, { cert: stranger.certPem, key: stranger.keyPem });
  const plain = netConnect(member.address.port, member.address.host);
  plain.on("error", () => undefined);
  plain.write(messageFrame(heartbeat(n1, n2, 667)));
  await within(new Promise((resolve) => plain.once("close", resolve)), "the listener closing a plain TCP connection");
  await until(() => member.t.stats().handshakesRefused >= 5, "the intruders' refusals");
  assert.equal(member.inbox.messages.length, 0);
  assert.equal(member.t.stats().received, 0);
  assert.equal(member.t.stats().decodeErrors, 0, "no frame was read from any of them");
  await Promise.all([member.t.close(), outsider.t.close()]);
});

test("new certificates apply to new connections; the established link keeps working", async () => {
  const bCredentials = credentials(peerCa, "n2");
  const a = await startNode(n1, { tls: credentials(peerCa, "n1") });
  const b = await startNode(n2, { tls: bCredentials });
  a.t.setPeer(n2, b.address);
  a.t.send([heartbeat(n1, n2, 1)]);
  await b.inbox.next(isHeartbeat(1), "the first heartbeat");
  const fingerprint = async (): Promise<string> => {
    const leaf = issueCertificate(peerCa, { commonName: "probe" });
    const socket = tlsConnect({ ...b.address, ca: peerCa.certPem, cert: leaf.certPem, key: leaf.keyPem });
    socket.on("error", () => undefined);
    await within(once(socket, "secureConnect"), "a probe's handshake");
    const seen = socket.getPeerX509Certificate()!.fingerprint256;
    socket.destroy();
    return seen;
  };
  const before = await fingerprint();
  assert.equal(before, new X509Certificate(bCredentials.material.cert).fingerprint256);
  const renewed = issueCertificate(peerCa, { commonName: "n2 renewed", hosts: ["127.0.0.1"] });
  bCredentials.update({ cert: renewed.certPem, key: renewed.keyPem, ca: peerCa.certPem });
  a.t.send([heartbeat(n1, n2, 2)]);
  await b.inbox.next(isHeartbeat(2), "a heartbeat on the link made before the reload");
  assert.equal(a.t.stats().connects, 1, "the link was not re-established");
  assert.equal(await fingerprint(), new X509Certificate(renewed.certPem).fingerprint256);
  assert.throws(() => bCredentials.update({ cert: renewed.certPem, key: peerCa.keyPem, ca: peerCa.certPem }));
  assert.equal(
    await fingerprint(),
    new X509Certificate(renewed.certPem).fingerprint256,
    "a bad update changes nothing",
  );
  await Promise.all([a.t.close(), b.t.close()]);
});
