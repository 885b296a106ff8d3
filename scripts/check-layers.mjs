#!/usr/bin/env node
// Enforces the layering of docs/architecture.md, no import cycles (type-only imports included), and the purity of the cores.
// Usage: node scripts/check-layers.mjs [rootDir=src]   (exit 1 and `file:line: reason` per offence)
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import ts from "typescript";

// Layer table: each folder under src/ may import only from itself and from the folders listed.
const LAYERS = {
  util: [],
  raft: ["util"],
  kv: ["util"],
  paxos: ["util"],
  zab: ["util"],
  check: ["util"],
  storage: ["util"],
  // Certificates and reloadable TLS material: node:crypto and node:tls only, under the transport and the server.
  tls: ["util"],
  // gRPC over node:http2 and protobuf's wire format: generic, it knows nothing of raftkv.
  grpc: ["util"],
  // The engine seam and one adapter per consensus core (docs/engines.md): pure, so the node, the
  // simulator and the product drive any core alike, and only here do the cores' vocabularies meet.
  engine: ["util", "raft", "paxos", "zab"],
  transport: ["util", "raft", "tls"],
  node: ["util", "raft", "kv", "storage", "transport", "tls", "engine"],
  coord: ["util", "raft", "kv", "node", "engine"],
  // grpc: etcd's API shares the client port (the router comes from cli, which knows etcd).
  server: ["util", "raft", "kv", "node", "coord", "transport", "tls", "engine", "grpc"],
  client: ["util"],
  // The Basic Paxos register service (raftkv serve --engine basic-paxos): its core, a journal on the
  // WAL, the peer transport's framing, and the server's HTTP helpers; it has no KV store or node.
  registers: ["util", "paxos", "storage", "transport", "server"],
  // etcd's v3 API on a member: its messages (over grpc) and services (on the server's context and the node).
  // coord: the Watch and Lease services stand on the watch hub and the lessor (their types and LeaseError).
  etcd: ["util", "kv", "node", "coord", "server", "grpc"],
  cli: [
    "util",
    "raft",
    "kv",
    "node",
    "coord",
    "server",
    "client",
    "storage",
    "transport",
    "tls",
    "engine",
    "grpc",
    "etcd",
    "registers",
  ],
  // paxos and zab for their engines' own safety checks.
  sim: ["util", "raft", "kv", "storage", "node", "coord", "check", "transport", "engine", "paxos", "zab"],
};
const PURE = new Set(["raft", "kv", "paxos", "zab", "engine"]);
// Ambient effects the pure core must receive as inputs instead (time as tick(), randomness as a PRNG).
// `crypto` is added because Node 20 exposes crypto.getRandomValues/randomUUID as a global.
const IMPURE_GLOBALS = new Set([
  "Date",
  "setTimeout",
  "setInterval",
  "setImmediate",
  "queueMicrotask",
  "process",
  "console",
  "performance",
  "require",
  "globalThis",
  "crypto",
]);
const FS_SPECIFIERS = new Set(["fs", "fs/promises", "node:fs", "node:fs/promises"]);
const FS_OWNER = "storage/fs_disk.ts";
// The node reads time and schedules work only through its Clock, so the simulator can run it on
// virtual time: one file implements the real clock.
const CLOCKED = new Set(["node", "coord"]);
const CLOCK_OWNER = "node/real_clock.ts";
const TIME_GLOBALS = new Set([
  "Date",
  "setTimeout",
  "setInterval",
  "setImmediate",
  "clearTimeout",
  "clearInterval",
  "clearImmediate",
  "performance",
]);
const TIME_SPECIFIERS = new Set([
  "perf_hooks",
  "node:perf_hooks",
  "timers",
  "node:timers",
  "timers/promises",
  "node:timers/promises",
]);
const PACKAGE_NAME = "raftkv";

const rootArg = process.argv[2] ?? "src";
const root = path.resolve(rootArg);
if (!existsSync(root) || !statSync(root).isDirectory()) {
  console.error(`check-layers: ${rootArg} is not a directory`);
  process.exit(2);
}

/** Relative paths (posix separators) of every TypeScript file under root, sorted for stable output. */
function listFiles(dir, prefix = "") {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix + entry.name;
    if (entry.isDirectory()) out.push(...listFiles(path.join(dir, entry.name), rel + "/"));
    else if (/\.[mc]?ts$/.test(entry.name)) out.push(rel);
  }
  return out.sort();
}

const files = listFiles(root);
const fileSet = new Set(files);
const offences = [];
const report = (file, line, reason) => offences.push({ file, line, reason });
const folderOf = (rel) => (rel.includes("/") ? rel.slice(0, rel.indexOf("/")) : ".");
const isBuiltin = (spec) => spec.startsWith("node:") || builtinModules.includes(spec.split("/")[0]);

/** Maps a relative specifier to a file under root, following NodeNext's `.js` → `.ts` convention. */
function resolveRelative(fromRel, spec) {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), spec));
  const candidates = [base, base.replace(/\.([mc]?)js$/, ".$1ts"), base + ".ts", base + "/index.ts"];
  return { base, target: candidates.find((c) => fileSet.has(c)) };
}

/**
 * Every module specifier in a file: imports, export-from, import("x"), import x = require("x"), import("x") types.
 */
function collectImports(sf) {
  const found = [];
  const add = (node, spec) => found.push({ spec, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node, node.moduleSpecifier.text);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expr = node.moduleReference.expression;
      if (ts.isStringLiteral(expr)) add(node, expr.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      // A computed specifier would slip past every rule here, so it is an offence in itself.
      add(node, arg && ts.isStringLiteralLike(arg) ? arg.text : null);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      add(node, node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

/** True when `id` names a property or member (`a.process`, `{ console: x }`) rather than the global. */
function isMemberName(id) {
  const p = id.parent;
  if (ts.isQualifiedName(p)) return p.right === id;
  if (ts.isBindingElement(p)) return p.propertyName === id;
  const named =
    ts.isPropertyAccessExpression(p) ||
    ts.isPropertyAssignment(p) ||
    ts.isPropertyDeclaration(p) ||
    ts.isPropertySignature(p) ||
    ts.isMethodDeclaration(p) ||
    ts.isMethodSignature(p) ||
    ts.isGetAccessorDeclaration(p) ||
    ts.isSetAccessorDeclaration(p) ||
    ts.isEnumMember(p);
  return named && p.name === id;
}

/** Reports uses of the clock's globals outside the clock module. */
function checkClock(rel, sf) {
  const visit = (node) => {
    if (ts.isIdentifier(node) && TIME_GLOBALS.has(node.text) && !isMemberName(node)) {
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      report(rel, line, `clock: ${node.text} outside ${CLOCK_OWNER} (use the node's Clock)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

/** Reports ambient effects found in the AST, so comments and strings never match. */
function checkPurity(rel, sf) {
  const at = (node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const visit = (node) => {
    if (ts.isIdentifier(node) && IMPURE_GLOBALS.has(node.text) && !isMemberName(node)) {
      report(rel, at(node), `impure: ${node.text} in the pure core (inject it through the driver)`);
    } else if (
      (ts.isPropertyAccessExpression(node) && node.name.text === "random") ||
      (ts.isElementAccessExpression(node) &&
        ts.isStringLiteralLike(node.argumentExpression) &&
        node.argumentExpression.text === "random")
    ) {
      if (ts.isIdentifier(node.expression) && node.expression.text === "Math") {
        report(rel, at(node), "impure: Math.random in the pure core (use the injected seeded PRNG)");
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

// file -> [{ target, line }], type-only imports included: an erased import cannot cause a load-order
// failure, but a cycle of types is still two modules that cannot be read, or changed, one at a time.
const edges = new Map();
let importCount = 0;

for (const rel of files) {
  const text = readFileSync(path.join(root, rel), "utf8");
  const sf = ts.createSourceFile(rel, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const folder = folderOf(rel);
  const allowed = LAYERS[folder];
  const pure = PURE.has(folder) && !/\.test(\.helper)?\.ts$/.test(rel);
  const clocked = CLOCKED.has(folder) && rel !== CLOCK_OWNER && !/\.test(\.helper)?\.ts$/.test(rel);
  if (!allowed) report(rel, 1, `folder "${folder}" is not in the layer table of scripts/check-layers.mjs`);
  if (pure) checkPurity(rel, sf);
  if (clocked) checkClock(rel, sf);
  const out = [];
  edges.set(rel, out);

  for (const { spec, line } of collectImports(sf)) {
    importCount++;
    if (spec === null) {
      report(rel, line, "dynamic import() with a computed specifier cannot be checked; use a string literal");
    } else if (spec.startsWith(".")) {
      const { base, target } = resolveRelative(rel, spec);
      if (base.startsWith("../")) report(rel, line, `imports "${spec}" from outside ${rootArg}`);
      else if (!target) report(rel, line, `cannot resolve "${spec}"`);
      else {
        out.push({ target, line });
        const to = folderOf(target);
        if (allowed && to !== folder && !allowed.includes(to)) {
          report(rel, line, `layer: ${folder} may not import ${to} (allowed: ${allowed.join(", ") || "nothing"})`);
        }
      }
    } else if (isBuiltin(spec)) {
      if (pure) report(rel, line, `impure: imports Node builtin "${spec}" in the pure core`);
      else if (clocked && TIME_SPECIFIERS.has(spec))
        report(rel, line, `clock: imports "${spec}" outside ${CLOCK_OWNER} (use the node's Clock)`);
      else if (FS_SPECIFIERS.has(spec) && rel !== FS_OWNER) {
        report(rel, line, `only ${path.join(rootArg, FS_OWNER)} may import "${spec}" (go through the Disk interface)`);
      }
    } else if (spec === PACKAGE_NAME || spec.startsWith(PACKAGE_NAME + "/")) {
      report(rel, line, `self-import "${spec}" bypasses the layer check; use a relative path`);
    } else if (pure) {
      report(rel, line, `impure: imports package "${spec}" in the pure core`);
    }
  }
}

// Cycles: depth-first search; every edge back into the current path closes one cycle.
const state = new Map(); // file -> "active" | "done"
const stack = [];
function dfs(file) {
  state.set(file, "active");
  stack.push(file);
  for (const { target, line } of edges.get(file)) {
    if (state.get(target) === "active") {
      const cycle = [...stack.slice(stack.indexOf(target)), target].join(" → ");
      report(file, line, `import cycle: ${cycle}`);
    } else if (!state.has(target)) dfs(target);
  }
  stack.pop();
  state.set(file, "done");
}
for (const file of files) if (!state.has(file)) dfs(file);

const summary = `layers: ${files.length} files, ${importCount} imports, ${offences.length} violations`;
if (offences.length > 0) {
  offences.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
  for (const o of offences) console.error(`${path.join(rootArg, o.file)}:${o.line}: ${o.reason}`);
  console.error(summary);
  process.exit(1);
}
console.log(summary);
