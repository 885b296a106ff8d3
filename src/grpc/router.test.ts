import { test } from "node:test";
import assert from "node:assert/strict";
import { GrpcClient, type CallOptions, type ClientBidiCall, type GrpcClientOptions } from "./client.js";
import { GrpcRouter } from "./router.js";
import { decodeGrpcMessage, encodeGrpcMessage, GrpcError, Status } from "./status.js";
import { h2, listen, rawCall, rawCodec, rawFrame, statusOf, until } from "./test_support.test.helper.js";

function echoRouter(events: string[] = []): GrpcRouter {
  const router = new GrpcRouter({ messageLimit: 1024 * 1024 });
  router.unary("/t.S/Echo", rawCodec, rawCodec, (request) => request);
  router.unary("/t.S/Fail", rawCodec, rawCodec, () => {
    throw new GrpcError(Status.NOT_FOUND, "nothing here: 100% gone ✓");
  });
  router.unary("/t.S/Hang", rawCodec, rawCodec, (_request, call) => {
    return new Promise((_resolve, reject) =>
      call.signal.addEventListener("abort", () => {
        events.push("aborted");
        reject(call.signal.reason as Error);
      }),
    );
  });
  router.unary("/t.S/Meta", rawCodec, rawCodec, (_request, call) => Buffer.from(String(call.metadata["token"] ?? "")));
  router.bidi("/t.S/Chat", rawCodec, rawCodec, async (requests, out, call) => {
    call.signal.addEventListener("abort", () => events.push("chat aborted"));
    for await (const request of requests) await out.write(request);
  });
  router.serverStream("/t.S/Count", rawCodec, rawCodec, async (request, out) => {
    for (let i = 0; i < request[0]!; i++) await out.write(Uint8Array.of(i));
  });
  return router;
}

test("unary calls echo, carry metadata, and map a GrpcError to its status and percent-encoded message", async () => {
  const server = await listen(echoRouter());
  const client = new GrpcClient(server.url);
  try {
    assert.deepEqual(
      await client.unary("/t.S/Echo", rawCodec, rawCodec, Uint8Array.of(1, 2, 3)),
      Uint8Array.of(1, 2, 3),
    );
    assert.deepEqual(await client.unary("/t.S/Echo", rawCodec, rawCodec, new Uint8Array(0)), new Uint8Array(0));
    const meta = await client.unary("/t.S/Meta", rawCodec, rawCodec, new Uint8Array(0), { metadata: { token: "abc" } });
    assert.equal(Buffer.from(meta).toString(), "abc");
    await assert.rejects(client.unary("/t.S/Fail", rawCodec, rawCodec, new Uint8Array(0)), (error: GrpcError) => {
      assert.equal(error.code, Status.NOT_FOUND);
      assert.equal(error.message, "nothing here: 100% gone ✓");
      return true;
    });
  } finally {
    await client.close();
    await server.close();
  }
});

test("grpc-message escapes % and non-ASCII and decodes back", () => {
  assert.equal(encodeGrpcMessage("a b"), "a b");
  assert.equal(encodeGrpcMessage("100%\n"), "100%25%0A");
  assert.equal(decodeGrpcMessage(encodeGrpcMessage("héllo % ✓")), "héllo % ✓");
});

test("framing edge cases each get their status, and the server keeps serving", async () => {
  const server = await listen(echoRouter());
  const session = h2(server.url);
  try {
    const unknown = await rawCall(session, "/etcdserverpb.Maintenance/Defragment", [rawFrame(new Uint8Array(0))]);
    assert.deepEqual(statusOf(unknown), {
      code: String(Status.UNIMPLEMENTED),
      message: "unknown method /etcdserverpb.Maintenance/Defragment",
    });
    const compressed = await rawCall(session, "/t.S/Echo", [rawFrame(Uint8Array.of(1), 1)]);
    assert.deepEqual(statusOf(compressed), {
      code: String(Status.UNIMPLEMENTED),
      message: "compressed messages are not supported",
    });
    const truncated = await rawCall(session, "/t.S/Echo", [rawFrame(Uint8Array.of(1, 2), 0, 9)]);
    assert.equal(statusOf(truncated).code, String(Status.RESOURCE_EXHAUSTED));
    const oversize = await rawCall(session, "/t.S/Echo", [rawFrame(Uint8Array.of(1), 0, 2 * 1024 * 1024)]);
    assert.equal(statusOf(oversize).code, String(Status.RESOURCE_EXHAUSTED));
    const undecodable = await rawCall(session, "/t.S/Echo", [rawFrame(Uint8Array.of(0xff))]);
    assert.equal(statusOf(undecodable).code, String(Status.INVALID_ARGUMENT));
    assert.match(statusOf(undecodable).message ?? "", /0xff is not a message/);
    const none = await rawCall(session, "/t.S/Echo", []);
    assert.equal(statusOf(none).code, String(Status.INVALID_ARGUMENT));
    const badType = await rawCall(session, "/t.S/Echo", [], { "content-type": "text/plain" });
    assert.equal(badType.headers[":status"], 415);
    // One message split into single-byte DATA frames is reassembled.
    const whole = rawFrame(Uint8Array.of(7, 8, 9, 10));
    const split = await rawCall(
      session,
      "/t.S/Echo",
      [...whole].map((byte) => Uint8Array.of(byte)),
    );
    assert.equal(statusOf(split).code, "0");
    assert.deepEqual([...split.data], [...whole]);
    // Two messages in one DATA frame make a server-streaming call's request invalid; one drives it.
    const two = await rawCall(session, "/t.S/Count", [
      Buffer.concat([rawFrame(Uint8Array.of(3)), rawFrame(Uint8Array.of(3))]),
    ]);
    assert.equal(statusOf(two).code, String(Status.INVALID_ARGUMENT));
    assert.equal(two.data.length, 0);
    const counted = await rawCall(session, "/t.S/Count", [rawFrame(Uint8Array.of(3))]);
    assert.deepEqual(
      [...counted.data],
      [...rawFrame(Uint8Array.of(0)), ...rawFrame(Uint8Array.of(1)), ...rawFrame(Uint8Array.of(2))],
    );
  } finally {
    session.close();
    await server.close();
  }
});

const shortDeadline: CallOptions = { timeoutMs: 50 };

test("grpc-timeout ends a call with DEADLINE_EXCEEDED and aborts the handler's signal; so does a client reset", async () => {
  const events: string[] = [];
  const server = await listen(echoRouter(events));
  const plain: GrpcClientOptions = {};
  const client = new GrpcClient(server.url, plain);
  try {
    await assert.rejects(
      client.unary("/t.S/Hang", rawCodec, rawCodec, new Uint8Array(0), shortDeadline),
      (error: GrpcError) => {
        assert.equal(error.code, Status.DEADLINE_EXCEEDED);
        return true;
      },
    );
    assert.deepEqual(events, ["aborted"]);
    // A deadline too far for a timer is no deadline (not a timer that fires at once).
    const far = { metadata: { "grpc-timeout": "99999999H" } };
    assert.deepEqual(await client.unary("/t.S/Echo", rawCodec, rawCodec, Uint8Array.of(3), far), Uint8Array.of(3));
    const call: ClientBidiCall<Uint8Array, Uint8Array> = client.bidi("/t.S/Chat", rawCodec, rawCodec);
    call.write(Uint8Array.of(1));
    const first = await call[Symbol.asyncIterator]().next();
    assert.deepEqual(first.value, Uint8Array.of(1));
    call.cancel();
    assert.equal((await call.status).code, Status.CANCELLED);
    await until(() => events.includes("chat aborted"));
    assert.deepEqual(await client.unary("/t.S/Echo", rawCodec, rawCodec, Uint8Array.of(5)), Uint8Array.of(5));
  } finally {
    await client.close();
    await server.close();
  }
});

test("a bidi echo of 8 MiB in 16 KiB messages respects backpressure both ways and ends OK", async () => {
  const server = await listen(echoRouter());
  const client = new GrpcClient(server.url);
  try {
    const call = client.bidi("/t.S/Chat", rawCodec, rawCodec);
    const count = 512;
    const reading = (async () => {
      let received = 0;
      let bytes = 0;
      for await (const message of call) {
        assert.equal(message[0], received % 255);
        received++;
        bytes += message.length;
      }
      return { received, bytes };
    })();
    for (let i = 0; i < count; i++) {
      const message = new Uint8Array(16 * 1024).fill(i % 255);
      if (!call.write(message)) await call.drained();
    }
    call.end();
    assert.deepEqual(await reading, { received: count, bytes: count * 16 * 1024 });
    assert.equal((await call.status).code, Status.OK);
  } finally {
    await client.close();
    await server.close();
  }
});
