import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { createCertificateAuthority, issueCertificate } from "../tls/index.js";
import { nodeHttpTransport, parseEndpoint, type HttpRequest } from "../client/index.js";
import { clientTlsFiles } from "./client_tls.js";

const ca = createCertificateAuthority({ commonName: "members' CA" });
const leaf = issueCertificate(ca, { commonName: "n1", hosts: ["127.0.0.1"] });
const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.end("{}"));
server.listen(0, "127.0.0.1");
await once(server, "listening");
const port = (server.address() as AddressInfo).port;
after(() => server.close());

const get: HttpRequest = { method: "GET", path: "/v1/status", headers: {}, body: undefined, timeoutMs: 5000 };

test("--cert and --key go together; any of the three flags means https", () => {
  assert.equal(clientTlsFiles({}), undefined);
  assert.deepEqual(clientTlsFiles({ cacert: "ca.pem" }), { cacert: "ca.pem" });
  assert.throws(() => clientTlsFiles({ cacert: "ca.pem", cert: "c.pem" }), /--cert and --key go together/);
});

test("an https:// endpoint is parsed as such, and keeps its scheme in its label", () => {
  assert.deepEqual(parseEndpoint(`https://127.0.0.1:${port}`), {
    host: "127.0.0.1",
    port,
    label: `https://127.0.0.1:${port}`,
    https: true,
  });
  assert.deepEqual(parseEndpoint("http://[::1]:8001/"), { host: "::1", port: 8001, label: "[::1]:8001" });
});

test("with a CA the transport reaches host:port endpoints over https, verifying the member", async () => {
  const transport = nodeHttpTransport({ tls: { ca: ca.certPem } });
  try {
    const outcome = await transport.request(parseEndpoint(`127.0.0.1:${port}`), get);
    assert.equal(outcome.type, "response");
    assert.equal(outcome.type === "response" ? outcome.status : 0, 200);
  } finally {
    transport.close();
  }
});

test("a member whose certificate does not verify is never sent the request", async () => {
  const transport = nodeHttpTransport();
  try {
    // An https:// endpoint without a CA: verified against the system's CAs, which did not sign it.
    const outcome = await transport.request(parseEndpoint(`https://127.0.0.1:${port}`), get);
    assert.deepEqual(outcome, { type: "not_sent", reason: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
  } finally {
    transport.close();
  }
});

test("a request on a kept-alive TLS connection that drops before the answer may have been applied: unknown", async () => {
  // Answers the first request, then takes the second whole and drops the connection unanswered,
  // as a member SIGKILLed right after applying a write would.
  let requests = 0;
  const dropping = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    if (++requests === 1) res.end("{}");
    else req.socket.destroy();
  });
  dropping.listen(0, "127.0.0.1");
  await once(dropping, "listening");
  const endpoint = parseEndpoint(`127.0.0.1:${(dropping.address() as AddressInfo).port}`);
  const transport = nodeHttpTransport({ tls: { ca: ca.certPem } });
  try {
    assert.equal((await transport.request(endpoint, get)).type, "response");
    const put: HttpRequest = { ...get, method: "PUT", path: "/v1/kv/k", body: new Uint8Array([1]) };
    assert.equal((await transport.request(endpoint, put)).type, "unknown");
  } finally {
    transport.close();
    dropping.close();
  }
});
