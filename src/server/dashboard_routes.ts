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

/**
 * The browser's preflight before a page from another member fetches a view with its token in an
 * Authorization header (the page's fallback when its own member is down, with auth on).
 */
export function preflight(_ctx: ServerContext, request: Request): void {
  request.res.writeHead(204, {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "GET",
    "access-control-allow-headers": "authorization",
    "access-control-max-age": "600",
  });
  request.res.end();
}

export async function clusterRoute(ctx: ServerContext, request: Request): Promise<void> {
  allowAnyOrigin(request);
  // The caller's token (a minted one for a certificate's user) opens the other members' views too.
  const authorization = request.req.headers.authorization;
  sendJson(request.res, 200, await ctx.dashboard.clusterView(ctx.node, authorization));
}

export function memberRoute(ctx: ServerContext, request: Request): void {
  allowAnyOrigin(request);
  sendJson(request.res, 200, ctx.dashboard.memberView(ctx.node));
}
