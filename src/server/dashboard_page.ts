/**
 * The dashboard page: one static HTML document with its CSS, script and SVG chart inline, so it
 * needs no build step, no other file and no internet. It polls GET /v1/cluster once a second;
 * when the member that served it stops answering it asks the other members it has seen (those
 * routes allow any origin) and says so. With auth enabled it asks the viewer to sign in (user and
 * password, or a pasted token) and sends the token with every data request.
 */

const style = `
:root { --fg:#1d2330; --muted:#6b7385; --line:#e2e5ec; --bg:#f6f7f9; --card:#fff; --lead:#0b7a3e; --bad:#b3261e; --warn:#a15c00; --w:#2f6fdb; --r:#17a589; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; flex-wrap:wrap; gap:8px 24px; align-items:baseline; padding:14px 24px; background:var(--card); border-bottom:1px solid var(--line); }
header h1 { font-size:18px; margin:0; }
main { padding:16px 24px; display:grid; grid-template-columns: minmax(0,1fr) minmax(0,1fr); gap:16px; max-width:1280px; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 16px; }
section.wide { grid-column: 1 / -1; }
h2 { font-size:13px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); margin:0 0 8px; }
table { border-collapse:collapse; width:100%; font-variant-numeric: tabular-nums; }
th, td { text-align:left; padding:5px 10px 5px 0; border-bottom:1px solid var(--line); white-space:nowrap; }
th { font-weight:600; color:var(--muted); font-size:12px; }
td.num, th.num { text-align:right; }
tr.leader td { background:#eef8f1; }
.role-leader { color:var(--lead); font-weight:600; }
.role-candidate, .role-preCandidate { color:var(--warn); }
.down { color:var(--bad); font-weight:600; }
.ok { color:var(--lead); }
.muted { color:var(--muted); }
#leader { font-size:16px; font-weight:600; }
#leader.none { color:var(--bad); }
#banner { display:none; padding:8px 24px; background:#fff4e0; color:var(--warn); border-bottom:1px solid #f1d9a6; }
#banner.show { display:block; }
ol { margin:0; padding-left:0; list-style:none; max-height:220px; overflow:auto; }
ol li { padding:3px 0; border-bottom:1px dashed var(--line); }
ol li time { color:var(--muted); margin-right:8px; font-variant-numeric: tabular-nums; }
.legend span { margin-right:16px; }
.sw { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; vertical-align:middle; }
svg text { font-size:11px; fill:var(--muted); }
button { font:inherit; padding:4px 12px; border-radius:6px; border:1px solid #9aa3b5; background:#fff; cursor:pointer; }
button:disabled { opacity:.5; cursor:default; }
select { font:inherit; padding:3px 6px; }
footer { padding:8px 24px 24px; color:var(--muted); }
#signin { margin:16px 24px 0; max-width:1232px; }
#signin form { display:flex; flex-wrap:wrap; gap:8px 16px; align-items:center; }
#signin input { font:inherit; padding:3px 6px; }
a { color:var(--w); }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
`;

const script = `
"use strict";
const self = document.body.dataset.self;
const $ = (id) => document.getElementById(id);
let sources = [""];           // "" = the member that served this page; others are "http://host:port"
let sourceIndex = 0;
let last = null;              // the last view received
let lastAt = 0;               // browser clock when it arrived
let offset = 0;               // browser clock minus the answering member's clock

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function fmtTime(ms) { return new Date(ms + offset).toLocaleTimeString([], { hour12: false }); }
function fmtAgo(ms) {
  let s = Math.max(0, Math.round((Date.now() - (ms + offset)) / 1000));
  if (s < 60) return s + " s ago";
  const m = Math.floor(s / 60); s %= 60;
  if (m < 60) return m + " min " + s + " s ago";
  return Math.floor(m / 60) + " h " + (m % 60) + " min ago";
}
function num(v) { return v === null || v === undefined ? "–" : String(v); }

// Authentication (docs/api.md): with auth enabled every data route needs "Authorization: Bearer T".
// The token lives in sessionStorage (this tab only, gone when it closes); a 401 asks for it again.
const tokenKey = "raftkv-token";
let token = sessionStorage.getItem(tokenKey) || "";
class Unauthorized extends Error {}

function askSignIn(reason) {
  $("signin-reason").textContent = reason;
  if ($("signin").hidden) { $("signin").hidden = false; $("signin-user").focus(); }
}
function setToken(t) {
  token = t;
  if (t) sessionStorage.setItem(tokenKey, t); else sessionStorage.removeItem(tokenKey);
  $("signin").hidden = true;
  $("signin-password").value = ""; $("signin-token").value = ""; $("signin-error").textContent = "";
  $("signed-in").hidden = !t;
  poll();
}
async function authFetch(url, options) {
  const headers = Object.assign({}, (options && options.headers) || {});
  if (token) headers.authorization = "Bearer " + token;
  const r = await fetch(url, Object.assign({}, options, { headers }));
  if (r.status === 401) {
    askSignIn(token ? "The cluster no longer accepts this sign-in: sign in again." : "This cluster requires signing in.");
    throw new Unauthorized("HTTP 401");
  }
  return r;
}
async function signIn(event) {
  event.preventDefault();
  const error = $("signin-error");
  const pasted = $("signin-token").value.trim();
  if (pasted) { setToken(pasted); return; }
  error.textContent = "signing in…";
  try {
    const r = await fetch("/v1/auth/authenticate", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: $("signin-user").value, password: $("signin-password").value }), signal: AbortSignal.timeout(10000) });
    const body = await r.json().catch(() => ({}));
    if (r.ok && typeof body.token === "string") setToken(body.token);
    else if (r.status === 409 && body.error === "auth_not_enabled") setToken("");
    else error.textContent = r.status === 401 ? "Wrong user name or password." : (body.message || body.error || ("HTTP " + r.status));
  } catch (e) {
    error.textContent = "failed: " + e.message;
  }
}
async function checkAuth() {
  try {
    const r = await fetch("/v1/auth/status", { cache: "no-store", signal: AbortSignal.timeout(2500) });
    const status = r.ok ? await r.json() : null;
    if (status && status.enabled === true && !token) askSignIn("This cluster requires signing in.");
  } catch (e) { /* no auth routes, or no answer: the polls will tell */ }
}

async function fetchView(base) {
  const r = await authFetch(base + "/v1/cluster", { cache: "no-store", signal: AbortSignal.timeout(2500) });
  if (!r.ok) throw new Error("HTTP " + r.status);
  return r.json();
}

let polls = 0;
async function poll() {
  // Try the current source, then each other one once, before giving up for this round; every
  // tenth round starts again from the member that served the page, in case it is back.
  const start = polls++ % 10 === 0 ? 0 : sourceIndex;
  for (let k = 0; k < sources.length; k++) {
    const i = (start + k) % sources.length;
    try {
      const view = await fetchView(sources[i]);
      sourceIndex = i;
      render(view, sources[i]);
      return;
    } catch (e) {
      if (e instanceof Unauthorized) return; // the sign-in form says why; another member would say the same
    }
  }
  const banner = $("banner");
  banner.textContent = "No member answers (last view " + (last ? fmtAgo(lastAt - offset) : "never") + "); retrying…";
  banner.className = "show";
}

function render(view, source) {
  last = view; lastAt = Date.now(); offset = lastAt - view.now;
  const others = view.members.filter((m) => m.clientAddr && m.id !== self).map((m) => "http://" + m.clientAddr);
  const current = sources[sourceIndex];
  sources = ["", ...new Set(others)];
  sourceIndex = Math.max(0, sources.indexOf(current));
  const banner = $("banner");
  if (source === "") { banner.className = ""; banner.textContent = ""; }
  else {
    banner.textContent = "The member that served this page (" + self + ") does not answer: showing " + view.id + "'s view from " + source + ".";
    banner.className = "show";
  }
  $("source").textContent = view.id;
  const leader = $("leader");
  if (view.leader) {
    leader.textContent = view.leader.id;
    leader.dataset.leader = view.leader.id;
    leader.className = "";
    $("leader-detail").textContent = "term " + view.leader.term + (view.leader.since ? " · since " + fmtTime(view.leader.since) + " (" + fmtAgo(view.leader.since) + ")" : "");
  } else {
    leader.textContent = "none (election in progress)";
    leader.dataset.leader = "";
    leader.className = "none";
    $("leader-detail").textContent = "";
  }
  renderMembers(view);
  renderTransfer(view, source);
  renderList($("leader-changes"), view.leaderChanges.slice().reverse(), (c) => "term " + c.term + ": " + c.leader + " leads");
  renderList($("member-changes"), view.memberChanges.slice().reverse(), (c) => "#" + c.index + " " + c.text);
  renderChart(view.rates);
}

function renderMembers(view) {
  const body = $("members").tBodies[0];
  body.replaceChildren();
  for (const m of view.members) {
    const tr = el("tr", { "data-member": m.id, "data-role": m.role || "unknown" });
    const isLeader = view.leader && view.leader.id === m.id;
    if (isLeader) tr.className = "leader";
    const name = el("td", { class: "id" }, m.id + (m.id === view.id ? " (answering)" : ""));
    const role = m.reachable ? (m.learner ? "learner" : m.role) : "unreachable";
    const roleCell = el("td", { class: "role role-" + (m.reachable ? m.role : "down") + (m.reachable ? "" : " down") }, role);
    const reach = el("td", { class: m.reachable ? "ok" : "down" }, m.reachable ? "yes" : "no: " + (m.error || "unreachable"));
    const link = el("td", { class: m.peerLink === "connected" || m.peerLink === "self" ? "muted" : "down" }, m.peerLink);
    tr.append(name, roleCell, el("td", { class: "num" }, num(m.term)), el("td", { class: "num" }, num(m.lastIndex)),
      el("td", { class: "num" }, num(m.commitIndex)), el("td", { class: "num" }, num(m.appliedIndex)),
      el("td", { class: "num lag" }, num(m.lag)), reach, link, el("td", { class: "muted" }, m.clientAddr || "?"));
    body.append(tr);
  }
}

function renderTransfer(view, source) {
  const select = $("transfer-to");
  const chosen = select.value;
  const voters = view.members.filter((m) => !m.learner && m.reachable && (!view.leader || m.id !== view.leader.id));
  select.replaceChildren(...voters.map((m) => el("option", { value: m.id }, m.id)));
  if (voters.some((m) => m.id === chosen)) select.value = chosen;
  const button = $("transfer");
  button.disabled = voters.length === 0 || !view.leader || source !== "" || button.dataset.busy === "1";
  button.title = source !== "" ? "open the page on a live member to transfer leadership" : "";
}

async function transfer() {
  const to = $("transfer-to").value;
  const out = $("transfer-result");
  if (!to) return;
  const button = $("transfer");
  button.dataset.busy = "1"; button.disabled = true;
  out.textContent = "asking " + to + " to take over…";
  try {
    const r = await authFetch("/v1/leader/transfer", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ to }), signal: AbortSignal.timeout(20000) });
    const body = await r.json().catch(() => ({}));
    out.textContent = r.ok ? to + " leads now" : "refused: " + (body.message || body.error || ("HTTP " + r.status));
  } catch (e) {
    out.textContent = "failed: " + e.message;
  } finally {
    button.dataset.busy = "0";
    const said = out.textContent;
    setTimeout(() => { if (out.textContent === said) out.textContent = ""; }, 15000);
    poll();
  }
}

function renderList(ol, items, text) {
  ol.replaceChildren();
  if (items.length === 0) { ol.append(el("li", { class: "muted" }, "none seen yet")); return; }
  for (const c of items) {
    const li = el("li");
    li.append(el("time", { title: fmtAgo(c.at) }, fmtTime(c.at)), document.createTextNode(text(c)));
    ol.append(li);
  }
}

function renderChart(all) {
  // From the first second with a request (at least the last minute) to now.
  const first = all.findIndex((r) => r.reads > 0 || r.writes > 0);
  const rates = all.slice(Math.max(0, Math.min(first < 0 ? all.length : first, all.length - 60)));
  const svg = $("chart");
  const W = Math.max(320, Math.round(svg.clientWidth || 640)), H = 150, L = 44, B = 18, T = 8;
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  const n = rates.length;
  const max = Math.max(1, ...rates.map((r) => Math.max(r.reads, r.writes)));
  const x = (i) => L + (n <= 1 ? 0 : (i * (W - L - 4)) / (n - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const line = (key) => rates.map((r, i) => x(i).toFixed(1) + "," + y(r[key]).toFixed(1)).join(" ");
  const ns = "http://www.w3.org/2000/svg";
  const mk = (tag, attrs, text) => { const e = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; return e; };
  svg.replaceChildren(
    mk("line", { x1: L, y1: y(0), x2: W - 4, y2: y(0), stroke: "#c9ced8" }),
    mk("line", { x1: L, y1: y(max), x2: W - 4, y2: y(max), stroke: "#eceef2" }),
    mk("text", { x: L - 6, y: y(max) + 4, "text-anchor": "end" }, String(max)),
    mk("text", { x: L - 6, y: y(0) + 4, "text-anchor": "end" }, "0"),
    mk("text", { x: L, y: H - 4 }, n < 2 ? "" : n < 120 ? "−" + n + " s" : "−" + Math.round(n / 60) + " min"),
    mk("text", { x: W - 4, y: H - 4, "text-anchor": "end" }, "now"),
    mk("polyline", { points: line("reads"), fill: "none", stroke: "var(--r)", "stroke-width": "2" }),
    mk("polyline", { points: line("writes"), fill: "none", stroke: "var(--w)", "stroke-width": "1.5", "stroke-dasharray": "5 3" }),
  );
  const recent = rates.slice(-10);
  const avg = (key) => recent.length === 0 ? 0 : Math.round(recent.reduce((s, r) => s + r[key], 0) / recent.length);
  const now = rates[rates.length - 1] || { reads: 0, writes: 0 };
  $("writes-now").textContent = now.writes + "/s (10 s avg " + avg("writes") + ")";
  $("reads-now").textContent = now.reads + "/s (10 s avg " + avg("reads") + ")";
}

$("transfer").addEventListener("click", transfer);
$("signin-form").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", (e) => { e.preventDefault(); setToken(""); });
$("signed-in").hidden = !token;
setInterval(() => { if (last) $("updated").textContent = "updated " + fmtAgo(lastAt - offset); }, 500);
(async function loop() { await poll(); setTimeout(loop, 1000); })();
checkAuth();
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page as served by member `self`. */
export function dashboardPage(self: string): string {
  const name = escapeHtml(self);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>raftkv · ${name}</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body data-self="${name}">
<header>
  <h1>raftkv cluster</h1>
  <div>leader: <span id="leader" data-leader="">…</span> <span id="leader-detail" class="muted"></span></div>
  <div class="muted">served by ${name} · view from <span id="source">…</span> · <span id="updated">connecting…</span></div>
  <div id="signed-in" class="muted" hidden>signed in · <a href="#" id="sign-out">sign out</a></div>
</header>
<div id="banner" role="status"></div>
<section id="signin" hidden>
  <h2>Sign in</h2>
  <p id="signin-reason" class="muted"></p>
  <form id="signin-form">
    <label>user <input id="signin-user" autocomplete="username"></label>
    <label>password <input id="signin-password" type="password" autocomplete="current-password"></label>
    <label>or a token <input id="signin-token" autocomplete="off"></label>
    <button id="signin-submit" type="submit">Sign in</button>
    <span id="signin-error" class="down" role="alert"></span>
  </form>
</section>
<main>
  <section class="wide">
    <h2>Members</h2>
    <table id="members">
      <thead><tr><th>member</th><th>role</th><th class="num">term</th><th class="num">last index</th><th class="num">commit</th><th class="num">applied</th><th class="num" title="entries behind the leader's log">lag</th><th>reachable</th><th title="this member's peer connection to it">peer link</th><th>client address</th></tr></thead>
      <tbody></tbody>
    </table>
    <p>
      <label>Transfer leadership to <select id="transfer-to"></select></label>
      <button id="transfer" type="button">Transfer</button>
      <span id="transfer-result" class="muted"></span>
    </p>
  </section>
  <section class="wide">
    <h2>Throughput (client requests, all members)</h2>
    <div class="legend"><span><i class="sw" style="background:var(--w)"></i>writes <b id="writes-now">–</b></span><span><i class="sw" style="background:var(--r)"></i>reads <b id="reads-now">–</b></span></div>
    <svg id="chart" viewBox="0 0 640 150" width="100%" height="150" role="img" aria-label="writes and reads per second"></svg>
  </section>
  <section>
    <h2>Leader changes</h2>
    <ol id="leader-changes"></ol>
  </section>
  <section>
    <h2>Membership changes</h2>
    <ol id="member-changes"></ol>
  </section>
</main>
<footer>JSON: <a href="/v1/cluster">/v1/cluster</a> · <a href="/v1/status">/v1/status</a> · <a href="/v1/members">/v1/members</a> · metrics: <a href="/metrics">/metrics</a></footer>
<script>${script}</script>
</body>
</html>
`;
}
