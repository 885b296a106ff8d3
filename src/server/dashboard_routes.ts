/*
 * The dashboard's routes: GET / (the page), GET /v1/cluster (every member's status gathered by the
 * member asked), GET /v1/cluster/member (this member's own detailed view) and POST /v1/cluster/hello
 * (the gossip by which members learn each other's client addresses; see dashboard.ts).
 */
import type { Request, ServerContext } from "./context.js";
import { validDirectory } from "./dashboard.js";
import { dashboardPage } from "./dashboard_page.js";
import { HttpError, readJson, sendJson } from "./http_util.js";

const helloBodyBytesMax = 64 * 1024;

/** Read-only views may be fetched by a dashboard served from another member (its fallback). */
function allowAnyOrigin(request: Request): void {
  request.res.setHeader("access-control-allow-origin", "*");
}

export async function dashboard(ctx: ServerContext, request: Request): Promise<void> {
  const html = dashboardPage(ctx.node.name);
  request.res.writeHead(200, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(html),
    "cache-control": "no-cache",
  });
  request.res.end(html);
}

export async function clusterRoute(ctx: ServerContext, request: Request): Promise<void> {
  allowAnyOrigin(request);
  sendJson(request.res, 200, await ctx.dashboard.clusterView(ctx.node));
}

export async function memberRoute(ctx: ServerContext, request: Request): Promise<void> {
  allowAnyOrigin(request);
  sendJson(request.res, 200, ctx.dashboard.memberView(ctx.node));
}

/** POST /v1/cluster/hello {"from", "directory"}: merges the sender's directory, answers ours. */
export async function helloRoute(ctx: ServerContext, request: Request): Promise<void> {
  const raw = await readJson(request.req, helloBodyBytesMax);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new HttpError(400, "bad_request", 'the body must be {"from", "directory"}');
  const members = new Set(ctx.node.members().map((m) => m.name));
  ctx.dashboard.directory.merge(validDirectory((raw as Record<string, unknown>).directory, members));
  sendJson(request.res, 200, { from: ctx.node.name, directory: ctx.dashboard.directory.toJSON() });
}
