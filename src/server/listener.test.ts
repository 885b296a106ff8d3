import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import type { RequestListener, Server } from "node:http";
import { Agent, request } from "node:https";
import { connect, type AddressInfo, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { TLSSocket } from "node:tls";
import { createCertificateAuthority, issueCertificate, TlsCredentials } from "../tls/index.js";
import { createClientListener, type ClientListenerOptions } from "./listener.js";

const deadlineMs = 10_000;
const servers: Server[] = [];
after(() => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
});

async function listen(options: ClientListenerOptions, handler: RequestListener): Promise<number> {
  const server = createClientListener(options, handler);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

const hello: RequestListener = (_req, res) => res.end("hello");

/** Opens a raw connection and sends `text`; resolves with everything the server sent once it closed. */
async function raw(port: number, text: string): Promise<{ socket: Socket; answer: Promise<string> }> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  await once(socket, "connect");
  socket.write(text);
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
  const answer = new Promise<string>((resolve) => socket.once("close", () => resolve(received)));
  return { socket, answer };
}

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${deadlineMs} ms`)), deadlineMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe("the client listener's bounds", () => {
  it("answers 431 to a request head larger than headerBytesMax", async () => {
    const port = await listen({ headerBytesMax: 4096 }, hello);
    const { answer } = await raw(port, `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(8192)}\r\n\r\n`);
    assert.match(await within(answer, "answer"), /^HTTP\/1\.1 431 /);
    const small = await raw(port, "GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    assert.match(await within(small.answer, "answer"), /^HTTP\/1\.1 200 [\s\S]*hello$/);
  });

  it("closes a connection whose request head stalls past headersTimeoutMs", async () => {
    const port = await listen({ headersTimeoutMs: 200 }, hello);
    const { answer } = await raw(port, "GET / HTTP/1.1\r\nhost: x\r\nx-slow: ");
    // Node answers 408 and closes; the deadline is generous, the timeout short.
    assert.match(await within(answer, "close of the stalled connection"), /^(HTTP\/1\.1 408 |$)/);
  });

  it("does not cut a long answer to a request that arrived: requestTimeoutMs bounds the request only", async () => {
    const port = await listen({ headersTimeoutMs: 100, requestTimeoutMs: 100 }, (_req, res) => {
      res.writeHead(200);
      let sent = 0;
      const timer = setInterval(() => {
        res.write(`${sent}\n`);
        if (++sent === 15) {
          clearInterval(timer);
          res.end("done");
        }
      }, 50);
    });
    const { answer } = await raw(port, "GET /watch HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    // 750 ms of answer, more than seven request timeouts (and several of Node's checks, every 50 ms here).
    assert.match(await within(answer, "the whole answer"), /14\r?\n[\s\S]*done/);
  });

  it("closes at once the connections of one address beyond connectionsPerAddressMax", async () => {
    const port = await listen({ connectionsPerAddressMax: 2 }, hello);
    const first = await raw(port, "");
    const second = await raw(port, "");
    const third = await raw(port, "");
    assert.equal(await within(third.answer, "close of the third connection"), "");
    second.socket.write("GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    assert.match(await within(second.answer, "answer on the second"), /hello$/);
    // A slot freed by a closed connection can be taken again.
    const fourth = await raw(port, "GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    assert.match(await within(fourth.answer, "answer on the fourth"), /hello$/);
    first.socket.destroy();
  });
});

describe("the client listener over TLS", () => {
  const ca = createCertificateAuthority({ commonName: "client CA" });
  const leaf = issueCertificate(ca, { commonName: "n1", hosts: ["127.0.0.1"] });
  const user = issueCertificate(ca, { commonName: "root" });
  const credentials = new TlsCredentials({ cert: leaf.certPem, key: leaf.keyPem, ca: ca.certPem });
  const whoami: RequestListener = (req, res) => {
    const socket = req.socket;
    assert.ok(socket instanceof TLSSocket, "the auth layer reads the certificate from a TLSSocket");
    const cn = socket.getPeerCertificate().subject?.CN;
    res.end(JSON.stringify({ authorized: socket.authorized, cn: typeof cn === "string" ? cn : null }));
  };

  /** A GET on a new connection, or on one `agent` keeps alive. */
  function get(port: number, options: { agent?: Agent; cert?: string; key?: string } = {}) {
    return within(
      new Promise<{ body: string; fingerprint: string }>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path: "/", ca: ca.certPem, agent: false, ...options }, (res) => {
          // Read now: at the end a kept-alive socket has gone back to its pool.
          const socket = res.socket;
          if (!(socket instanceof TLSSocket)) throw new Error("not a TLS connection");
          const fingerprint = socket.getPeerCertificate().fingerprint256;
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () => resolve({ body, fingerprint }));
        });
        req.on("error", reject);
        req.end();
      }),
      "answer",
    );
  }

  it("asks for a client certificate, verifies it against the CA, and does not require one", async () => {
    const port = await listen({ tls: credentials }, whoami);
    assert.deepEqual(JSON.parse((await get(port)).body), { authorized: false, cn: null });
    const named = await get(port, { cert: user.certPem, key: user.keyPem });
    assert.deepEqual(JSON.parse(named.body), { authorized: true, cn: "root" });
    const stranger = issueCertificate(createCertificateAuthority({ commonName: "other" }), { commonName: "root" });
    const forged = await get(port, { cert: stranger.certPem, key: stranger.keyPem });
    assert.deepEqual(JSON.parse(forged.body), { authorized: false, cn: "root" });
  });

  it("serves new certificates to new connections after an update; a kept-alive connection goes on", async () => {
    const mine = new TlsCredentials(credentials.material);
    const port = await listen({ tls: mine }, whoami);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(port, { agent });
      assert.equal(first.fingerprint, new X509Certificate(leaf.certPem).fingerprint256);
      const renewed = issueCertificate(ca, { commonName: "n1 renewed", hosts: ["127.0.0.1"] });
      mine.update({ cert: renewed.certPem, key: renewed.keyPem, ca: ca.certPem });
      const kept = await get(port, { agent });
      assert.equal(kept.fingerprint, first.fingerprint, "the kept-alive connection, made before the update");
      assert.equal(Object.values(agent.freeSockets).flat().length, 1, "still one connection");
      const fresh = await get(port);
      assert.equal(fresh.fingerprint, new X509Certificate(renewed.certPem).fingerprint256);
    } finally {
      agent.destroy();
    }
  });
});
