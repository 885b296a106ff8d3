/**
 * 10,000 random and mutated gRPC requests over HTTP/2 at a member's client port (valid and
 * unknown paths, bad content types and methods, compressed, truncated, oversized, split and
 * corrupted frames, random protobuf, odd deadlines and metadata), plus raw garbage after the HTTP/2
 * preface, and HPACK garbage (header blocks nghttp2 or raftkv's rewriting layer must refuse):
 * every stream ends with a gRPC status, a plain HTTP refusal (415/405) or a clean reset,
 * and the member still answers gRPC and HTTP afterwards.
 */
import assert from "node:assert/strict";
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import { connect as tcpConnect } from "node:net";
import { test } from "node:test";
import { ProcessCluster, request, until } from "./harness.js";

interface Codec<T> {
  encode(message: T, headroom: number): Buffer;
  decode(bytes: Uint8Array): T;
}
const grpc = (await import(new URL("../grpc/client.js", import.meta.url).href)) as {
  GrpcClient: new (url: string) => {
    unary<Q, R>(
      path: string,
      req: Codec<Q>,
      res: Codec<R>,
      request: Q,
      options?: { metadata?: Record<string, string> },
    ): Promise<R>;
    close(): Promise<void>;
  };
};
const codecs = (await import(new URL("../etcd/codecs.js", import.meta.url).href)) as {
  codecOf<T>(name: string): Codec<T>;
};

const seed = Number(process.env.RAFTKV_FUZZ_SEED ?? 20261205);
const total = Number(process.env.RAFTKV_GRPC_FUZZ_REQUESTS ?? 10_000);
const concurrency = 32;

/** xorshift32: the run is the seed's. */
class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 0x1_0000_0000;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

const paths = [
  "/etcdserverpb.KV/Range",
  "/etcdserverpb.KV/Put",
  "/etcdserverpb.Watch/Watch",
  "/etcdserverpb.Lease/LeaseKeepAlive",
  "/etcdserverpb.Maintenance/Status",
  "/etcdserverpb.Maintenance/Snapshot",
  "/etcdserverpb.Cluster/MemberList",
  "/etcdserverpb.Auth/Authenticate",
  "/etcdserverpb.KV/Nope",
  "/nothing",
  "/",
  "/v1/status",
];
// RangeRequest{key:"a", range_end:"b", limit:5, serializable:true}
const validRange = Buffer.from("0a016112016218053801", "hex");

function frame(body: Buffer, flag = 0, length = body.length): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(length >>> 0, 1);
  return Buffer.concat([head, body]);
}

function mutate(random: Random, bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  for (let i = random.int(4); i >= 0 && out.length > 0; i--) out[random.int(out.length)] = random.int(256);
  return random.int(4) === 0 ? out.subarray(0, random.int(out.length + 1)) : out;
}

function body(random: Random): Buffer[] {
  switch (random.int(9)) {
    case 0:
      return [];
    case 1:
      return [frame(validRange)];
    case 2:
      return [frame(mutate(random, validRange))];
    case 3:
      return [frame(random.bytes(random.int(64)))];
    case 4:
      return [frame(validRange, 1)];
    case 5:
      return [frame(validRange, 0, validRange.length + 1 + random.int(100))];
    case 6:
      return [frame(Buffer.alloc(0), random.int(256), 4 * 1024 * 1024 + 1 + random.int(1000))];
    case 7: {
      const whole = Buffer.concat([frame(validRange), frame(random.bytes(random.int(16)))]);
      const cut = random.int(whole.length);
      return [whole.subarray(0, cut), whole.subarray(cut)];
    }
    default:
      return [random.bytes(random.int(32))];
  }
}

function headers(random: Random): Record<string, string> {
  const h: Record<string, string> = {
    ":method": random.int(10) === 0 ? random.pick(["GET", "PUT", "DELETE"]) : "POST",
    ":path": random.pick(paths),
    "content-type": random.pick(["application/grpc", "application/grpc+proto", "application/grpc", "text/plain", ""]),
    te: "trailers",
  };
  if (h["content-type"] === "") delete h["content-type"];
  if (random.int(3) === 0) h["grpc-timeout"] = random.pick(["1m", "0n", "10S", "99999999H", "x", "5u", "-1m"]);
  if (random.int(4) === 0) h.token = random.bytes(8).toString("hex");
  if (random.int(8) === 0) h["grpc-encoding"] = random.pick(["gzip", "identity", "zz"]);
  return h;
}

const streamDeadlineMs = 5000;

function describe(h: Record<string, string>, chunks: readonly Buffer[], cancelled: boolean): string {
  const data = chunks.map((c) => c.toString("hex").slice(0, 40)).join("|");
  return `${h[":method"]} ${h[":path"]} ${JSON.stringify(h)} [${data}]${cancelled ? " cancelled" : ""}`;
}

/** "status", "refused" or "reset"; anything else describes a stream that ended otherwise. */
function send(session: ClientHttp2Session, random: Random): Promise<string> {
  const h = headers(random);
  const chunks = body(random);
  const cancelEarly = random.int(20) === 0;
  return new Promise((resolve) => {
    const stream = session.request(h);
    let grpcStatus = false;
    let httpStatus = 0;
    stream.on("response", (r) => {
      httpStatus = Number(r[":status"]);
      if (r["grpc-status"] !== undefined) grpcStatus = true;
    });
    stream.on("trailers", (t: IncomingHttpHeaders) => {
      if (t["grpc-status"] !== undefined) grpcStatus = true;
    });
    stream.on("error", () => undefined);
    stream.resume();
    const stuck = setTimeout(() => {
      resolve(`${describe(h, chunks, cancelEarly)}: no end within ${streamDeadlineMs} ms`);
      stream.close(0x8);
    }, streamDeadlineMs);
    stream.on("close", () => {
      clearTimeout(stuck);
      if (grpcStatus) resolve("status");
      else if (httpStatus === 415 || httpStatus === 405) resolve("refused");
      else if (stream.rstCode !== 0 || cancelEarly) resolve("reset");
      else
        resolve(`${h[":method"]} ${h[":path"]} (${h["content-type"]}): HTTP ${httpStatus}, no grpc-status, no reset`);
    });
    for (const chunk of chunks) stream.write(chunk);
    if (cancelEarly) stream.close(0x8);
    else stream.end();
  });
}

/** A literal header field without indexing, new name, raw strings. */
function literal(name: string, value: string): Buffer {
  const length = (n: number): Buffer => (n < 127 ? Buffer.of(n) : Buffer.of(127, n - 127));
  return Buffer.concat([
    Buffer.of(0),
    length(name.length),
    Buffer.from(name),
    length(value.length),
    Buffer.from(value),
  ]);
}

function h2Frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, payload]);
}

/**
 * One connection of HPACK garbage: random header blocks (raw, Huffman strings of random bits,
 * a valid request with bytes flipped), first or after a valid request with a URL-form :authority
 * (so that it goes through raftkv's own decoder, not only nghttp2's).
 */
async function sendHpackGarbage(port: number, host: string, random: Random, clientAddr: string): Promise<void> {
  const valid = Buffer.concat([
    Buffer.of(0x83, 0x86),
    literal(":path", "/etcdserverpb.Maintenance/Status"),
    literal(":authority", `http://${clientAddr}`),
    literal("content-type", "application/grpc"),
  ]);
  const mutated = Buffer.from(valid);
  for (let flips = 1 + random.int(4); flips > 0; flips--) mutated[random.int(mutated.length)] = random.int(256);
  const huffman = Buffer.concat([Buffer.of(0x00, 0x80 | 20), random.bytes(20), Buffer.of(0x81, 0xff)]);
  const garbage = random.pick([
    random.bytes(1 + random.int(64)),
    mutated,
    huffman,
    Buffer.of(0x3f, 0xff, 0xff, 0xff, 0x0f),
  ]);
  const first = random.int(2) === 0;
  // HEADERS: END_STREAM | END_HEADERS, sometimes split into a CONTINUATION.
  const cut = random.int(garbage.length);
  const headers =
    random.int(3) === 0
      ? Buffer.concat([
          h2Frame(1, 0x1, first ? 1 : 3, garbage.subarray(0, cut)),
          h2Frame(9, 0x4, first ? 1 : 3, garbage.subarray(cut)),
        ])
      : h2Frame(1, 0x5, first ? 1 : 3, garbage);
  const socket = tcpConnect(port, host);
  socket.on("error", () => undefined);
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.end(
    Buffer.concat([
      Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
      h2Frame(4, 0, 0, Buffer.alloc(0)),
      h2Frame(4, 1, 0, Buffer.alloc(0)),
      first ? Buffer.alloc(0) : h2Frame(1, 0x5, 1, valid),
      headers,
    ]),
  );
  socket.setTimeout(200, () => socket.destroy());
  await new Promise((resolve) => socket.once("close", resolve));
}

test("random and mutated gRPC requests each end in a status or a reset, and the member keeps serving", async () => {
  const cluster = await ProcessCluster.start(1);
  try {
    const member = cluster.members[0]!;
    await until(
      "the member up",
      async () => ((await request(member.clientAddr, "GET", "/readyz")).status === 200 ? true : undefined),
      30_000,
    );
    const random = new Random(seed);
    const url = `http://${member.clientAddr}`;
    let session = connect(url);
    session.on("error", () => undefined);
    const counts: Record<string, number> = { status: 0, refused: 0, reset: 0 };
    const failures: string[] = [];
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (sent < total) {
        sent++;
        if (session.closed || session.destroyed) {
          session = connect(url);
          session.on("error", () => undefined);
        }
        const outcome = await send(session, random);
        if (outcome in counts) counts[outcome]!++;
        else failures.push(outcome);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    session.close();
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} streams ended without a status or a reset`);
    assert.equal(counts.status! + counts.refused! + counts.reset!, total);
    // Garbage after the preface: the member drops the session, not itself.
    const [host, port] = member.clientAddr.split(":") as [string, string];
    for (let i = 0; i < 50; i++) {
      const socket = tcpConnect(Number(port), host);
      socket.on("error", () => undefined);
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.end(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), random.bytes(1 + random.int(200))]));
      // Most garbage makes the member close the connection; some is a valid frame it waits behind.
      socket.setTimeout(200, () => socket.destroy());
      await new Promise((resolve) => socket.once("close", resolve));
    }
    for (let i = 0; i < 50; i++) await sendHpackGarbage(Number(port), host, random, member.clientAddr);
    const client = new grpc.GrpcClient(url);
    try {
      // A URL-form :authority (grpc-go given an http:// endpoint) still gets through the rewriting layer.
      await client.unary(
        "/etcdserverpb.KV/Range",
        codecs.codecOf("RangeRequest"),
        codecs.codecOf("RangeResponse"),
        { key: Buffer.from("k") },
        { metadata: { ":authority": url } },
      );
      const status = await client.unary<Record<string, never>, { version: string }>(
        "/etcdserverpb.Maintenance/Status",
        codecs.codecOf("StatusRequest"),
        codecs.codecOf("StatusResponse"),
        {},
      );
      assert.equal(status.version, "3.4.23-raftkv");
    } finally {
      await client.close();
    }
    assert.equal((await request(member.clientAddr, "GET", "/v1/status")).status, 200);
    assert.equal(member.process?.exitCode, null);
  } finally {
    await cluster.stop();
  }
});
