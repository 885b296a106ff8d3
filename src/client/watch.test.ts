/**
 * The watch iterator against scripted servers: each stream request is answered by the next script,
 * so reconnections, cancellations and the resume revision each can be seen on the wire.
 */
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { deadEndpoint } from "./fake_server.test.helper.js";
import {
  fetchTransport,
  nodeHttpTransport,
  RaftkvClient,
  RaftkvError,
  WatchCompactedError,
  type HttpTransport,
  type WatchMessage,
} from "./index.js";

/** What one stream request gets: these lines, then the connection ends, drops, or stays open. */
interface Script {
  readonly status?: number;
  readonly lines: readonly unknown[];
  readonly then: "end" | "drop" | "hold";
}

interface ScriptedServer {
  readonly label: string;
  readonly scripts: Script[];
  /** Every request: method and URL. */
  readonly requests: string[];
  /** Resolves each time a held stream's request is closed by the client. */
  closed: number;
  close(): Promise<void>;
}

async function scriptedServer(): Promise<ScriptedServer> {
  const state = { scripts: [] as Script[], requests: [] as string[], closed: 0 };
  const server = http.createServer((req, res) => {
    state.requests.push(`${req.method} ${req.url}`);
    if (req.method === "POST") {
      const known = /^\/v1\/watch\/7\/progress$/.test(req.url ?? "");
      res.writeHead(known ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify(known ? {} : { error: "unknown_watch", message: "no such watch" }));
      return;
    }
    const script = state.scripts.shift() ?? { lines: [], then: "hold" };
    res.writeHead(script.status ?? 200, { "content-type": "application/x-ndjson" });
    // Written in two pieces cut mid-line, as a network may deliver them.
    const text = script.lines.map((line) => `${JSON.stringify(line)}\n`).join("");
    res.write(text.slice(0, Math.floor(text.length / 2)));
    res.write(text.slice(Math.floor(text.length / 2)));
    if (script.then === "end") res.end();
    // Ends the connection once the lines are out, leaving the chunked answer unfinished.
    if (script.then === "drop") res.socket?.end();
    res.on("close", () => state.closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(state, {
    label: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

const b64 = (text: string): string => Buffer.from(text).toString("base64");
const created = (revision: number) => ({ created: true, watchId: 7, revision });
const events = (...revisions: number[]) => ({
  watchId: 7,
  revision: Math.max(...revisions),
  events: revisions.map((r) => ({
    type: "put",
    kv: { key: b64("k"), value: b64(`v${r}`), createRevision: 1, modRevision: r, version: r },
  })),
});
const cancel = (reason: string, fields: Record<string, number> = {}) => ({
  watchId: 7,
  canceled: true,
  reason,
  message: reason,
  ...fields,
});

const fromRevisionOf = (request: string): string | undefined => /fromRevision=(\d+)/.exec(request)?.[1];

/** Reads messages until `count` have come (or the watch ends). */
async function take(watch: AsyncIterable<WatchMessage>, count: number): Promise<WatchMessage[]> {
  const out: WatchMessage[] = [];
  if (count === 0) return out;
  for await (const message of watch) {
    out.push(message);
    if (out.length === count) break;
  }
  return out;
}

const revisions = (messages: readonly WatchMessage[]): number[] =>
  messages.flatMap((m) => (m.type === "events" ? m.events.map((e) => e.kv.modRevision) : []));

const transports: [string, () => HttpTransport][] = [
  ["node:http", () => nodeHttpTransport()],
  ["fetch", () => fetchTransport()],
];

/** Scripted servers and clients over one transport, all closed after the suite. */
function fixture(makeTransport: () => HttpTransport): {
  server: () => Promise<ScriptedServer>;
  client: (endpoints: string[], timeoutMs?: number) => RaftkvClient;
} {
  const transport = makeTransport();
  const servers: ScriptedServer[] = [];
  after(async () => {
    transport.close();
    await Promise.all(servers.map((s) => s.close()));
  });
  return {
    server: async () => {
      const s = await scriptedServer();
      servers.push(s);
      return s;
    },
    client: (endpoints, timeoutMs = 3000) =>
      new RaftkvClient({ endpoints, transport, timeoutMs, attemptTimeoutMs: 1000 }),
  };
}

for (const [name, makeTransport] of transports) {
  describe(`watch over ${name}: resuming`, () => {
    const { server, client } = fixture(makeTransport);

    test("resumes after a drop and a stopping member at the revision after the last delivered, each once", async () => {
      const a = await server();
      const b = await server();
      a.scripts.push({ lines: [created(10), events(11), events(12)], then: "drop" });
      b.scripts.push({ lines: [created(12), events(12, 13), cancel("stopping", { resumeRevision: 14 })], then: "end" });
      a.scripts.push({ lines: [created(13), events(14)], then: "hold" });
      const watch = client([a.label, b.label]).watch({ prefix: "k" });
      assert.equal(await watch.ready, 10);
      assert.deepEqual(revisions(await take(watch, 4)), [11, 12, 13, 14]);
      assert.deepEqual([...a.requests, ...b.requests].filter((r) => r.startsWith("GET")).map(fromRevisionOf), [
        undefined,
        "14",
        "13",
      ]);
      assert.match(a.requests[0] ?? "", /^GET \/v1\/watch\?encoding=base64&prefix=k$/);
    });

    test("slow reconnects to the same member at resumeRevision; progress is delivered as such", async () => {
      const a = await server();
      const b = await server();
      a.scripts.push({ lines: [created(5), events(6), cancel("slow", { resumeRevision: 9 })], then: "end" });
      a.scripts.push({ lines: [created(9), { watchId: 7, revision: 12, progress: true }], then: "hold" });
      const watch = client([a.label, b.label]).watch({ key: "k" }, { fromRevision: 6, prevKv: true });
      const messages = await take(watch, 2);
      assert.deepEqual(messages.at(-1), { type: "progress", revision: 12 });
      assert.deepEqual(a.requests.map(fromRevisionOf), ["6", "9"]);
      assert.match(a.requests[0] ?? "", /key=k&fromRevision=6&prevKv=true$/);
      assert.equal(b.requests.length, 0);
    });

    test("compacted surfaces as WatchCompactedError with the compaction revision", async () => {
      const a = await server();
      a.scripts.push({ lines: [created(60), cancel("compacted", { compactRevision: 50 })], then: "end" });
      const watch = client([a.label]).watch({ from: "a", to: "b" }, { fromRevision: 3 });
      await assert.rejects(take(watch, 1), (e: unknown) => {
        assert.ok(e instanceof WatchCompactedError);
        assert.deepEqual([e.reason, e.compactRevision, e.code], ["compacted", 50, "compacted"]);
        return true;
      });
      assert.match(a.requests[0] ?? "", /from=a&to=b&fromRevision=3$/);
    });

    test("unavailable on every member in turn surfaces as WatchCompactedError with the lowest compactRevision", async () => {
      const a = await server();
      const b = await server();
      a.scripts.push({ lines: [created(60), cancel("unavailable", { compactRevision: 40 })], then: "end" });
      b.scripts.push({ lines: [created(60), cancel("unavailable", { compactRevision: 30 })], then: "end" });
      const watch = client([a.label, b.label]).watch({ key: "k" }, { fromRevision: 3 });
      await assert.rejects(take(watch, 1), (e: unknown) => {
        assert.ok(e instanceof WatchCompactedError);
        assert.deepEqual([e.reason, e.compactRevision], ["unavailable", 30]);
        assert.match(e.message, /no member holds history that far back/);
        return true;
      });
    });
  });

  describe(`watch over ${name}: ending`, () => {
    const { server, client } = fixture(makeTransport);

    test("break closes the stream's request; requestProgress goes to the member serving it", async () => {
      const a = await server();
      a.scripts.push({ lines: [created(1), events(2)], then: "hold" });
      const watch = client([a.label]).watch({ key: "k" });
      await watch.ready;
      await watch.requestProgress();
      assert.equal(a.requests.at(-1), "POST /v1/watch/7/progress");
      await take(watch, 1);
      await until(() => a.closed === 1);
      await assert.rejects(watch.requestProgress(), { code: "unavailable" });
    });

    test("close() and an aborted signal end a watch that is waiting for messages", async () => {
      const a = await server();
      a.scripts.push({ lines: [created(1)], then: "hold" }, { lines: [created(1)], then: "hold" });
      const watch = client([a.label]).watch({ key: "k" });
      const pending = watch.next();
      await watch.ready;
      watch.close();
      assert.deepEqual(await pending, { done: true, value: undefined });
      const abort = new AbortController();
      const aborted = client([a.label]).watch({ key: "k" }, { signal: abort.signal });
      await aborted.ready;
      abort.abort();
      assert.deepEqual(await take(aborted, 1), []);
      await until(() => a.closed === 2);
      const shared = new AbortController();
      a.scripts.push({ lines: [created(1)], then: "hold" });
      const ended = client([a.label]).watch({ key: "k" }, { signal: shared.signal });
      await ended.ready;
      ended.close();
      await take(ended, 1);
      assert.equal(getEventListeners(shared.signal, "abort").length, 0, "an ended watch lets go of the signal");
    });

    test("a 4xx is thrown; no member reachable within the timeout is unavailable", async () => {
      const a = await server();
      a.scripts.push({ status: 400, lines: [{ error: "bad_request", message: "no key" }], then: "end" });
      await assert.rejects(take(client([a.label]).watch({ key: "k" }), 1), { code: "bad_request", status: 400 });
      const nobody = client([await deadEndpoint(), await deadEndpoint()], 500).watch({ key: "k" });
      await assert.rejects(nobody.ready, (e: unknown) => e instanceof RaftkvError && e.code === "unavailable");
      await assert.rejects(take(nobody, 1), { code: "unavailable" });
    });
  });
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for a condition");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
