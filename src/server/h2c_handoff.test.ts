import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, createServer as createHttp2Server, type IncomingHttpHeaders } from "node:http2";
import { connect as tcpConnect, type AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { Flag, frameHeader, FrameType, readFrameHeader } from "../grpc/h2_frames.js";
import { createClientListener } from "./listener.js";

const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/** Answers each request with its :authority, the size of its x-big header, and whether node:http2 has the socket itself. */
const http2 = createHttp2Server({ settings: { maxHeaderListSize: 64 * 1024 } });
http2.on("stream", (stream, headers: IncomingHttpHeaders) => {
  // A RewritingTransport is wrapped by Node in a JS stream socket, which has no address of its own.
  const raw = typeof stream.session?.socket.remoteAddress === "string";
  stream.respond({ ":status": 200 });
  stream.end(`${headers[":authority"]} ${String(headers["x-big"] ?? "").length} ${raw ? "raw" : "rewritten"}`);
});
const listener = createClientListener({ headersTimeoutMs: 2000 }, (_req, res) => res.end("h1"), http2);
listener.listen(0, "127.0.0.1");
await once(listener, "listening");
const port = (listener.address() as AddressInfo).port;
const hostPort = `127.0.0.1:${port}`;
after(() => {
  listener.closeAllConnections();
  listener.close();
});

async function requests(authority: string, extra: Record<string, string>[]): Promise<string[]> {
  const session = connect(`http://${hostPort}`);
  session.on("error", () => undefined);
  try {
    const answers: string[] = [];
    for (const headers of extra) {
      const stream = session.request({ ":method": "POST", ":path": "/x", ":authority": authority, ...headers });
      stream.end();
      let body = "";
      stream.on("data", (chunk: Buffer) => (body += chunk.toString()));
      await once(stream, "end");
      answers.push(body);
    }
    return answers;
  } finally {
    session.close();
  }
}

/** Frames the server sends on a raw connection that wrote `bytes`, until it closes the connection. */
async function serverFrames(bytes: Buffer): Promise<{ type: number; payload: Buffer }[]> {
  const socket = tcpConnect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  let received = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  socket.write(bytes);
  socket.setTimeout(5000, () => socket.destroy());
  await once(socket, "close");
  const frames: { type: number; payload: Buffer }[] = [];
  for (let at = 0; received.length - at >= 9;) {
    const frame = readFrameHeader(received, at);
    frames.push({ type: frame.type, payload: received.subarray(at + 9, at + 9 + frame.length) });
    at += 9 + frame.length;
  }
  return frames;
}

/** A literal header field without indexing, new name, raw strings (short ones only). */
function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.of(0x00, name.length), Buffer.from(name), Buffer.of(value.length), Buffer.from(value)]);
}

const settingsAck = frameHeader(0, FrameType.SETTINGS, Flag.ACK, 0);
const emptySettings = frameHeader(0, FrameType.SETTINGS, 0, 0);

function requestBlock(authority: string): Buffer {
  // :method POST (3), :scheme http (6), :path / (4) from the static table.
  return Buffer.concat([Buffer.of(0x83, 0x86, 0x84), literal(":authority", authority)]);
}

describe("h2c hand-off to node:http2", () => {
  it("hands a connection with a host:port authority over as it is", async () => {
    const answers = await requests(hostPort, [{}, { "x-big": "b".repeat(20_000) }, {}]);
    assert.deepEqual(answers, [`${hostPort} 0 raw`, `${hostPort} 20000 raw`, `${hostPort} 0 raw`]);
  });

  it("rewrites a URL-form authority to host:port in every request, large header blocks included", async () => {
    const answers = await requests(`http://${hostPort}/ignored`, [{}, { "x-big": "b".repeat(20_000) }, {}]);
    assert.deepEqual(answers, [`${hostPort} 0 rewritten`, `${hostPort} 20000 rewritten`, `${hostPort} 0 rewritten`]);
  });
});

describe("h2c hand-off: frames written by hand", () => {
  it("rewrites padded HEADERS with priority, split over CONTINUATION", async () => {
    const block = requestBlock(`https://${hostPort}`);
    const padding = 7;
    const first = Buffer.concat([
      Buffer.of(padding),
      Buffer.of(0, 0, 0, 0, 15),
      block.subarray(0, 5),
      Buffer.alloc(padding),
    ]);
    const frames = await serverFrames(
      Buffer.concat([
        preface,
        emptySettings,
        settingsAck,
        frameHeader(first.length, FrameType.HEADERS, Flag.PADDED | Flag.PRIORITY | Flag.END_STREAM, 1),
        first,
        frameHeader(block.length - 5, FrameType.CONTINUATION, Flag.END_HEADERS, 1),
        block.subarray(5),
        // GOAWAY (NO_ERROR) after the answer, so the server closes.
        frameHeader(8, 7, 0, 0),
        Buffer.alloc(8),
      ]),
    );
    const data = frames.filter((f) => f.type === FrameType.DATA).map((f) => f.payload.toString());
    assert.deepEqual(data.join(""), `${hostPort} 0 rewritten`);
  });

  it("ends a connection whose later header block is malformed with GOAWAY PROTOCOL_ERROR, and keeps serving", async () => {
    const good = requestBlock(`http://${hostPort}`);
    for (const garbage of [
      Buffer.of(0x80),
      Buffer.of(0xbe, 0xbe),
      Buffer.of(0x00, 0x85, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00),
    ]) {
      const frames = await serverFrames(
        Buffer.concat([
          preface,
          emptySettings,
          frameHeader(good.length, FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1),
          good,
          frameHeader(garbage.length, FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3),
          garbage,
        ]),
      );
      const goaway = frames.find((f) => f.type === 7);
      assert.ok(goaway !== undefined, "a GOAWAY");
      assert.equal(goaway.payload.readUInt32BE(4), 1, "PROTOCOL_ERROR");
    }
    assert.deepEqual(await requests(`http://${hostPort}`, [{}]), [`${hostPort} 0 rewritten`]);
  });
});

describe("h2c hand-off: an idle client", () => {
  it("sends the server's SETTINGS before any request, and serves a client idle past the decision's deadline", async () => {
    const session = connect(`http://${hostPort}`);
    session.on("error", () => undefined);
    try {
      await once(session, "remoteSettings");
      // Past headersTimeoutMs (2 s) with no request: the connection goes the rewriting way.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const stream = session.request({ ":method": "POST", ":path": "/x" });
      stream.end();
      let body = "";
      stream.on("data", (chunk: Buffer) => (body += chunk.toString()));
      await once(stream, "end");
      assert.equal(body, `${hostPort} 0 rewritten`);
    } finally {
      session.close();
    }
  });
});
