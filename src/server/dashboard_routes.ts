/*
 * The dashboard's routes: GET / (the page), GET /v1/cluster (every member's status gathered by the
 * member asked) and GET /v1/cluster/member (this member's own detailed view); see dashboard.ts.
 */
import type { Request, ServerContext } from "./context.js";
import { dashboardPage } from "./dashboard_page.js";
import { sendJson } from "./http_util.js";

/** Read-only views may be fetched by a dashboard served from another member (its fallback). */
function allowAnyOrigin(request: Request): void {
  request.res.setHeader("access-control-allow-origin", "*");
}

export function dashboard(ctx: ServerContext, request: Request): void {
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

export function memberRoute(ctx: ServerContext, request: Request): void {
  allowAnyOrigin(request);
  sendJson(request.res, 200, ctx.dashboard.memberView(ctx.node));
}
