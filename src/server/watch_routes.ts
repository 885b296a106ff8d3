import type { ServerResponse } from "node:http";
import type { WatchHandle, WatchMessage, WatchRange, WatchRequest, WatchSink } from "../coord/index.js";
import { checkKey, encodeCommand, type KvEvent, type KvResult } from "../kv/index.js";
import type { Request, ServerContext } from "./context.js";
import { HttpError, readJson, sendJson } from "./http_util.js";
import { nodeErrorToHttp } from "./kv_routes.js";
import { decodeKeyText, encodingOf, rawQuery, storedKvJson, type Encoding } from "./wire.js";

const compactBodyBytesMax = 64 * 1024;
/** TCP keepalive probes on a watch stream, so a reader that vanished without a FIN is noticed. */
const watchKeepAliveMs = 30_000;

/** A query parameter's bytes as the binary string the hub matches keys with. */
function keyParam(raw: Map<string, string>, name: string): string | undefined {
  const text = raw.get(name);
  if (text === undefined) return undefined;
  const bytes = decodeKeyText(text, name);
  if (bytes.length > 0 || name === "key") {
    const problem = checkKey(bytes);
    if (problem !== undefined) throw new HttpError(400, "bad_request", `${name}: ${problem}`);
  }
  return Buffer.from(bytes).toString("latin1");
}

function rangeOf(raw: Map<string, string>): WatchRange {
  const key = keyParam(raw, "key");
  const prefix = keyParam(raw, "prefix");
  const from = keyParam(raw, "from");
  const to = keyParam(raw, "to");
  const given = [key, prefix, from].filter((p) => p !== undefined).length;
  if (given !== 1)
    throw new HttpError(400, "bad_request", "give exactly one of key=K, prefix=P and from=A (with to=B)");
  if (to !== undefined && from === undefined) throw new HttpError(400, "bad_request", "to=B needs from=A");
  if (key !== undefined) return { key };
  if (prefix !== undefined) return { prefix };
  return to === undefined ? { from: from! } : { from: from!, to };
}

/** true, false, or present without a value (true). */
function booleanParam(query: URLSearchParams, name: string): boolean {
  const text = query.get(name);
  if (text === null || text === "false") return false;
  if (text === "" || text === "true") return true;
  throw new HttpError(400, "bad_request", `${name} must be true or false, not ${JSON.stringify(text)}`);
}

function parseWatch(url: URL): { readonly request: WatchRequest; readonly encoding: Encoding } {
  const query = url.searchParams;
  const encoding = encodingOf(query);
  const range = rangeOf(rawQuery(url.search));
  const fromText = query.get("fromRevision");
  if (fromText !== null && (!/^\d{1,15}$/.test(fromText) || Number(fromText) < 1))
    throw new HttpError(400, "bad_request", `fromRevision must be a positive integer, not ${JSON.stringify(fromText)}`);
  const request: WatchRequest = {
    range,
    prevKv: booleanParam(query, "prevKv"),
    progressNotify: booleanParam(query, "progressNotify"),
    ...(fromText === null ? {} : { fromRevision: Number(fromText) }),
  };
  return { request, encoding };
}

function eventJson(event: KvEvent, encoding: Encoding, prevKv: boolean): Record<string, unknown> {
  const json: Record<string, unknown> = { type: event.type, kv: storedKvJson(event.key, event.kv, encoding) };
  if (prevKv && event.prev !== undefined) json["prevKv"] = storedKvJson(event.key, event.prev, encoding);
  return json;
}

/** docs/coordination.md's message shapes. */
function messageJson(message: WatchMessage, encoding: Encoding, prevKv: boolean): Record<string, unknown> {
  const { watchId } = message;
  switch (message.type) {
    case "created":
      return { created: true, watchId, revision: message.revision };
    case "events":
      return {
        watchId,
        revision: message.revision,
        events: message.events.map((event) => eventJson(event, encoding, prevKv)),
      };
    case "progress":
      return { watchId, revision: message.revision, progress: true };
    case "canceled": {
      const { reason, compactRevision, resumeRevision } = message;
      return {
        watchId,
        canceled: true,
        reason,
        ...(compactRevision === undefined ? {} : { compactRevision }),
        ...(resumeRevision === undefined ? {} : { resumeRevision }),
        message: message.message,
      };
    }
  }
}

/** A watch's messages on an HTTP response: one JSON object per line, or one Server-Sent Event each. */
function responseSink(res: ServerResponse, sse: boolean, encoding: Encoding, prevKv: boolean): WatchSink {
  return {
    send: (message) => {
      // A reader that is gone: its "close" removes the watch.
      if (res.writableEnded || res.destroyed) return true;
      const json = JSON.stringify(messageJson(message, encoding, prevKv));
      return res.write(sse ? `data: ${json}\n\n` : `${json}\n`);
    },
    close: () => {
      if (!res.writableEnded) res.end();
    },
  };
}

/** GET /v1/watch: a stream of the watch's messages until the hub cancels it or the reader leaves. */
export function watch(ctx: ServerContext, request: Request): void {
  const { request: watchRequest, encoding } = parseWatch(request.url);
  const { req, res } = request;
  const sse = (req.headers.accept ?? "").includes("text/event-stream");
  res.writeHead(200, {
    "content-type": sse ? "text/event-stream" : "application/x-ndjson",
    "cache-control": "no-cache",
  });
  res.flushHeaders();
  // The stream may stay quiet for long: no inactivity timeout may end it (node:http's requestTimeout
  // and headersTimeout only bound receiving the request, which is complete by now).
  req.socket.setTimeout(0);
  req.socket.setKeepAlive(true, watchKeepAliveMs);
  const handle: WatchHandle = ctx.watchHub.watch(
    watchRequest,
    responseSink(res, sse, encoding, watchRequest.prevKv === true),
  );
  res.on("drain", () => handle.resume());
  res.on("close", () => handle.remove());
}

/** POST /v1/watch/{watchId}/progress: one progress notification on that stream, served by this member. */
export function watchProgress(ctx: ServerContext, request: Request): void {
  const text = request.params[0] ?? "";
  if (!/^\d{1,15}$/.test(text)) throw new HttpError(400, "bad_request", "the watch id must be a positive integer");
  if (!ctx.watchHub.requestProgress(Number(text)))
    throw new HttpError(404, "unknown_watch", `no watch ${text} on this member`);
  sendJson(request.res, 200, {});
}

/** POST /v1/compact {"revision":R}: forgets history before R, cluster-wide (a log entry). */
export async function compact(ctx: ServerContext, request: Request): Promise<void> {
  const body = await readJson(request.req, compactBodyBytesMax);
  const revision = typeof body === "object" && body !== null ? (body as Record<string, unknown>).revision : undefined;
  if (typeof revision !== "number" || !Number.isSafeInteger(revision) || revision < 1)
    throw new HttpError(400, "bad_request", 'the body must be {"revision": R} with R a positive integer');
  let result: KvResult;
  try {
    result = (await ctx.node.raft.propose(encodeCommand({ type: "compact", revision }))) as KvResult;
  } catch (error) {
    throw nodeErrorToHttp(error);
  }
  if (result.type === "compacted") {
    sendJson(request.res, 200, { compactRevision: result.compactRevision, revision: result.revision });
    return;
  }
  if (result.type !== "compactRefused") throw new Error(`compact answered ${result.type}`);
  const revisions = { compactRevision: result.compactRevision, revision: result.revision };
  if (result.reason === "compacted")
    throw new HttpError(
      400,
      "compacted",
      `revision ${revision} is not above the compaction revision ${result.compactRevision}`,
      revisions,
    );
  throw new HttpError(
    400,
    "future_revision",
    `revision ${revision} is above the store's revision ${result.revision}`,
    revisions,
  );
}
