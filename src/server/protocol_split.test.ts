import assert from "node:assert/strict";
import { once } from "node:events";
import type { RequestListener, Server } from "node:http";
import { request as httpRequest } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { GrpcClient } from "../grpc/client.js";
import { createGrpcHttp2Server, type GrpcHttp2Server } from "../grpc/http2_server.js";
import { GrpcRouter } from "../grpc/router.js";
import { GrpcError, Status } from "../grpc/status.js";
import { rawCodec } from "../grpc/test_support.test.helper.js";
import { createCertificateAuthority, issueCertificate, TlsCredentials } from "../tls/index.js";
import { createClientListener, type ClientListenerOptions } from "./listener.js";

const servers: { server: Server; grpc: GrpcHttp2Server }[] = [];
after(() => {
  for (const { server, grpc } of servers) {
    grpc.closeSessions(0);
    server.closeAllConnections();
    server.close();
  }
});

const hello: RequestListener = (_req, res) => res.end("hello");

function router(): GrpcRouter {
  const r = new GrpcRouter();
  r.unary("/t.S/Echo", rawCodec, rawCodec, (request) => request);
  r.unary("/t.S/Who", rawCodec, rawCodec, (_request, call) => {
    const certificate = call.peerCertificate();
    if (certificate === undefined) throw new GrpcError(Status.UNAUTHENTICATED, "no certificate");
    return Buffer.from(`${String(certificate.subject.CN)}:${call.peerVerified}`);
  });
  return r;
}

async function listen(options: ClientListenerOptions): Promise<number> {
  const grpc = createGrpcHttp2Server(router());
  const server = createClientListener(options, hello, grpc.server);
  servers.push({ server, grpc });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: "/", method: "GET", agent: false }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve(`${res.statusCode} ${body}`));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("one client port for HTTP/1.1 and gRPC", () => {
  it("serves HTTP/1.1 and prior-knowledge h2c gRPC side by side on a plain port", async () => {
    const port = await listen({});
    const client = new GrpcClient(`http://127.0.0.1:${port}`);
    try {
      const [first, echoed, second] = await Promise.all([
        get(port),
        client.unary("/t.S/Echo", rawCodec, rawCodec, Uint8Array.of(4, 2)),
        get(port),
      ]);
      assert.equal(first, "200 hello");
      assert.deepEqual(echoed, Uint8Array.of(4, 2));
      assert.equal(second, "200 hello");
      // A request line beginning like the preface ("P...") is still HTTP/1.1.
      const put = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port, path: "/", method: "PUT", agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end("x");
      });
      assert.equal(put, 200);
    } finally {
      await client.close();
    }
  });

  it("splits TLS by ALPN and shows the client's certificate to gRPC handlers", async () => {
    const ca = createCertificateAuthority({ commonName: "client CA" });
    const leaf = issueCertificate(ca, { commonName: "n1", hosts: ["127.0.0.1"] });
    const user = issueCertificate(ca, { commonName: "alice" });
    const port = await listen({ tls: new TlsCredentials({ cert: leaf.certPem, key: leaf.keyPem, ca: ca.certPem }) });
    const https = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        { host: "127.0.0.1", port, path: "/", agent: new Agent({ ca: ca.certPem, maxCachedSessions: 0 }) },
        (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () => resolve(`${res.statusCode} ${body}`));
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(https, "200 hello");
    const withCert = new GrpcClient(`https://127.0.0.1:${port}`, {
      ca: ca.certPem,
      cert: user.certPem,
      key: user.keyPem,
    });
    const without = new GrpcClient(`https://127.0.0.1:${port}`, { ca: ca.certPem });
    try {
      assert.equal(
        Buffer.from(await withCert.unary("/t.S/Who", rawCodec, rawCodec, new Uint8Array(0))).toString(),
        "alice:true",
      );
      await assert.rejects(without.unary("/t.S/Who", rawCodec, rawCodec, new Uint8Array(0)), (error: GrpcError) => {
        assert.equal(error.code, Status.UNAUTHENTICATED);
        return true;
      });
      assert.deepEqual(await without.unary("/t.S/Echo", rawCodec, rawCodec, Uint8Array.of(9)), Uint8Array.of(9));
    } finally {
      await withCert.close();
      await without.close();
    }
  });
});
