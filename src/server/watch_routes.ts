import { watchRangeSpan, type WatchRequest } from "../coord/index.js";
import { requireRead } from "./auth_gate.js";
import type { Request, ServerContext } from "./context.js";
import { HttpError, readJson, sendJson } from "./http_util.js";
import { booleanParam, watchFields, watchRequestFromJson, watchRequestFromQuery } from "./watch_request.js";
import { encodingOf } from "./wire.js";

/** TCP keepalive probes on a watch stream, so a reader that vanished without a FIN is noticed. */
const watchKeepAliveMs = 30_000;
/** A watch's body is three keys and a few flags. */
const watchBodyBytesMax = 64 * 1024;

/** A stream or watch id from the path: a positive integer. */
function idParam(request: Request, what: string): number {
  const text = request.params[0] ?? "";
  if (!/^[1-9]\d{0,14}$/.test(text)) throw new HttpError(400, "bad_request", `the ${what} must be a positive integer`);
  return Number(text);
}

/** The watch a GET /v1/watch opens with, or undefined for `stream=true` (an empty stream). */
function firstWatch(url: URL): WatchRequest | undefined {
  if (!booleanParam(url.searchParams, "stream")) return watchRequestFromQuery(url);
  const given = watchFields.filter((name) => url.searchParams.has(name));
  if (given.length > 0)
    throw new HttpError(
      400,
      "bad_request",
      `stream=true opens an empty stream, so ${given.join(", ")} has no place here: add watches with POST /v1/watch/streams/{stream}/watches`,
    );
  return undefined;
}

/**
 * GET /v1/watch: a stream of watch messages. With a range it opens with that watch and ends with
 * its last watch; with `stream=true` it opens empty, says its id, and lasts until the reader or the
 * member goes. Either way, more watches can join it (addWatch).
 */
export function watch(ctx: ServerContext, request: Request): void {
  const { req, res, url } = request;
  const encoding = encodingOf(url.searchParams);
  const first = firstWatch(url);
  // Checked when the watch is made, against this member's applied state (docs/auth.md).
  if (first !== undefined) requireRead(ctx, request.principal, watchRangeSpan(first.range));
  const sse = (req.headers.accept ?? "").includes("text/event-stream");
  const stream = ctx.watchStreams.open(res, { sse, encoding, endsWhenEmpty: first !== undefined });
  res.writeHead(200, {
    "content-type": sse ? "text/event-stream" : "application/x-ndjson",
    "cache-control": "no-cache",
  });
  res.flushHeaders();
  // The stream may stay quiet for long: no inactivity timeout may end it (node:http's requestTimeout
  // and headersTimeout only bound receiving the request, which is complete by now).
  req.socket.setTimeout(0);
  req.socket.setKeepAlive(true, watchKeepAliveMs);
  if (first === undefined) stream.announce(ctx.kv.revision());
  else stream.add(first);
}

/**
 * POST /v1/watch/streams/{S}/watches: a watch on stream S, whose messages go out on that stream.
 * The body's keys are in this request's encoding; the messages follow the stream's.
 */
export async function addWatch(ctx: ServerContext, request: Request): Promise<void> {
  const streamId = idParam(request, "stream id");
  const encoding = encodingOf(request.url.searchParams);
  const watchRequest = watchRequestFromJson(await readJson(request.req, watchBodyBytesMax), encoding);
  requireRead(ctx, request.principal, watchRangeSpan(watchRequest.range));
  const watchId = ctx.watchStreams.get(streamId).add(watchRequest);
  sendJson(request.res, 200, { watchId });
}

function unknownWatch(watchId: number): HttpError {
  return new HttpError(404, "unknown_watch", `no watch ${watchId} on this member`);
}

/** DELETE /v1/watch/{watchId}: ends that watch (`canceled` with reason `client`); its stream goes on. */
export function cancelWatch(ctx: ServerContext, request: Request): void {
  const watchId = idParam(request, "watch id");
  if (!ctx.watchHub.cancel(watchId)) throw unknownWatch(watchId);
  sendJson(request.res, 200, {});
}

/** POST /v1/watch/{watchId}/progress: one progress notification on that watch, served by this member. */
export function watchProgress(ctx: ServerContext, request: Request): void {
  const watchId = idParam(request, "watch id");
  if (!ctx.watchHub.requestProgress(watchId)) throw unknownWatch(watchId);
  sendJson(request.res, 200, {});
}
