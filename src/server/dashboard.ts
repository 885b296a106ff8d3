import type { Request, ServerContext } from "./context.js";

/**
 * The operators' page. The live dashboard is its own issue; until it lands this page shows the
 * member's status and points at the JSON and metrics endpoints.
 */
export async function dashboard(ctx: ServerContext, request: Request): Promise<void> {
  const s = ctx.node.raft.status();
  const rows = [
    ["member", ctx.node.name],
    ["role", s.role],
    ["term", String(s.term)],
    ["leader", s.leader === 0 ? "none" : ctx.node.nameOf(s.leader)],
    ["commit index", String(s.commitIndex)],
    ["applied index", String(s.appliedIndex)],
  ];
  const html = `<!doctype html><meta charset="utf-8"><title>raftkv ${escape(ctx.node.name)}</title>
<h1>raftkv member ${escape(ctx.node.name)}</h1><table>${rows.map(([k, v]) => `<tr><th align="left">${k}</th><td>${escape(v ?? "")}</td></tr>`).join("")}</table>
<p><a href="/v1/status">/v1/status</a> · <a href="/v1/members">/v1/members</a> · <a href="/metrics">/metrics</a></p>`;
  request.res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  request.res.end(html);
}

function escape(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
