import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, sensitiveHeaders, type OutgoingHttpHeaders } from "node:http2";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { describe, it } from "node:test";
import { Flag, FrameType, headersPayload, prefaceBytes, readFrameHeader } from "./h2_frames.js";
import { HpackDecoder, type HeaderField } from "./hpack_decoder.js";
import { HpackError } from "./hpack_huffman.js";

const hex = (s: string): Buffer => Buffer.from(s.replaceAll(" ", ""), "hex");
const pairs = (fields: HeaderField[]): string[][] => fields.map((f) => [f.name, f.value]);

/** The header blocks a Node http2 client (nghttp2's encoder: Huffman, dynamic table) sends for `requests` on one session. */
async function nodeHeaderBlocks(requests: readonly OutgoingHttpHeaders[]): Promise<Buffer[]> {
  let received = Buffer.alloc(0);
  let socket: Socket | undefined;
  const server = createServer((s) => {
    socket = s;
    s.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  session.on("error", () => undefined);
  for (const headers of requests) session.request(headers, { endStream: true }).on("error", () => undefined);
  const blocks: Buffer[] = [];
  for (let tries = 0; blocks.length < requests.length && tries < 200; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    blocks.length = 0;
    let at = prefaceBytes;
    let fragments: Uint8Array[] = [];
    while (received.length - at >= 9) {
      const frame = readFrameHeader(received, at);
      const payload = received.subarray(at + 9, at + 9 + frame.length);
      if (payload.length < frame.length) break;
      at += 9 + frame.length;
      if (frame.type === FrameType.HEADERS) fragments = [headersPayload(frame.flags, payload).fragment];
      else if (frame.type === FrameType.CONTINUATION) fragments.push(payload);
      else continue;
      if (frame.flags & Flag.END_HEADERS) blocks.push(Buffer.concat(fragments));
    }
  }
  session.destroy();
  socket?.destroy();
  server.close();
  return blocks;
}

describe("HPACK decoder", () => {
  it("decodes the RFC's request examples with and without Huffman, through the dynamic table (C.3, C.4)", () => {
    for (const blocks of [
      [
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
      ],
      [
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
      ],
    ]) {
      const decoder = new HpackDecoder();
      const base = [":method GET", ":scheme http", ":path /", ":authority www.example.com"];
      const fields = blocks.map((b) => pairs(decoder.decode(hex(b))).map((p) => p.join(" ")));
      assert.deepEqual(fields[0], base);
      assert.deepEqual(fields[1], [...base, "cache-control no-cache"]);
      assert.deepEqual(fields[2], [
        ":method GET",
        ":scheme https",
        ":path /index.html",
        ":authority www.example.com",
        "custom-key custom-value",
      ]);
    }
  });
});

describe("HPACK decoder against nghttp2's encoder", () => {
  it("decodes the header blocks of Node's own http2 client across requests on one connection", async () => {
    const common = {
      ":method": "POST",
      ":scheme": "http",
      ":authority": "http://127.0.0.1:2379",
      "content-type": "application/grpc",
    };
    const requests: OutgoingHttpHeaders[] = [
      { ...common, ":path": "/etcdserverpb.KV/Range", "x-trace": "first" },
      {
        ...common,
        ":path": "/etcdserverpb.KV/Range",
        "x-trace": "second",
        token: "secret",
        [sensitiveHeaders]: ["token"],
      },
      { ...common, ":path": "/etcdserverpb.KV/Put", "x-bytes": "\u00e9\u00ff\t~|^", "x-trace": "second" },
      { ...common, ":path": "/etcdserverpb.KV/Range", "x-trace": "first" },
      // Larger than the whole table: it empties it (RFC 7541 4.4) and needs CONTINUATION frames.
      { ...common, ":path": "/etcdserverpb.Lease/LeaseGrant", "x-big": "b".repeat(20_000) },
    ];
    const blocks = await nodeHeaderBlocks(requests);
    assert.equal(blocks.length, requests.length);
    // Huffman and the dynamic table were used: a repeated request is a few index bytes.
    assert.ok(
      blocks[3]!.length < blocks[0]!.length / 2,
      `${blocks[3]!.length} bytes, ${blocks[0]!.length} the first time`,
    );
    const decoder = new HpackDecoder();
    for (const [i, block] of blocks.entries()) {
      const fields = decoder.decode(block);
      const expected = Object.entries(requests[i]!)
        .map(([name, value]) => `${name}=${Buffer.from(String(value), "latin1").toString("latin1")}`)
        .sort();
      assert.deepEqual(fields.map((f) => `${f.name}=${f.value}`).sort(), expected, `request ${i}`);
      const token = fields.find((f) => f.name === "token");
      if (token !== undefined) assert.equal(token.neverIndexed, true);
    }
  });
});

describe("HPACK decoder's dynamic table and refusals", () => {
  it("follows dynamic table size updates and evicts the oldest entries", () => {
    const decoder = new HpackDecoder();
    // Literal with incremental indexing: "custom-key: custom-value" (55 bytes in the table).
    assert.deepEqual(pairs(decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"))), [
      ["custom-key", "custom-value"],
    ]);
    assert.deepEqual(pairs(decoder.decode(hex("be"))), [["custom-key", "custom-value"]]);
    // Size update to 0 empties the table, then back to 4096 (0x3f e1 1f).
    assert.throws(() => decoder.decode(hex("20 be")), HpackError);
    assert.deepEqual(pairs(decoder.decode(hex("3fe11f 82"))), [[":method", "GET"]]);
  });

  it("refuses malformed blocks", () => {
    const refused = [
      "80", // index 0
      "be", // beyond an empty dynamic table
      "ff", // truncated integer
      "ff ffffffff7f", // integer too large
      "82 20", // size update after a field
      "3fe21f", // size update above 4096
      "40", // literal without its name
      "400a 6375", // name longer than the block
      "0085 ffffffffff", // Huffman name holding EOS
    ];
    for (const block of refused) assert.throws(() => new HpackDecoder().decode(hex(block)), HpackError, block);
  });

  it("refuses a small block that would decode to a huge header list", () => {
    const decoder = new HpackDecoder();
    // "x: aaaa…" (3000 bytes) enters the table, then 100 references to it.
    const first = Buffer.concat([hex("4001 78"), integer7(3000), Buffer.alloc(3000, 0x61)]);
    assert.equal(decoder.decode(first)[0]!.value.length, 3000);
    assert.throws(() => decoder.decode(Buffer.alloc(100, 0xbe)), HpackError);
  });
});

function integer7(value: number): Buffer {
  const out = [0x7f];
  let rest = value - 0x7f;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest >>= 7;
  }
  out.push(rest);
  return Buffer.from(out);
}
