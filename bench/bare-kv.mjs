// The ceiling of HTTP on this machine: an in-memory KV on node:http with raftkv's route shapes
// (PUT /v1/kv/{key} with the value as body, GET /v1/kv/{key} answering JSON), no Raft, no disk.
// Usage: node bench/bare-kv.mjs PORT     (prints "ready" once listening)
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? 8100);
const store = new Map();
let revision = 1;

function send(res, status, body) {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const prefix = "/v1/kv/";
  if (!req.url.startsWith(prefix)) return send(res, 404, '{"error":"not_found"}');
  const key = decodeURIComponent(req.url.slice(prefix.length).split("?")[0]);
  if (req.method === "PUT") {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const value = Buffer.concat(chunks);
      revision++;
      const old = store.get(key);
      store.set(key, {
        value,
        createRevision: old?.createRevision ?? revision,
        modRevision: revision,
        version: (old?.version ?? 0) + 1,
      });
      send(res, 200, JSON.stringify({ revision }));
    });
    return;
  }
  if (req.method === "GET") {
    const kv = store.get(key);
    if (kv === undefined) return send(res, 404, JSON.stringify({ error: "not_found", revision }));
    return send(
      res,
      200,
      JSON.stringify({
        key,
        value: kv.value.toString("utf8"),
        createRevision: kv.createRevision,
        modRevision: kv.modRevision,
        version: kv.version,
      }),
    );
  }
  send(res, 405, '{"error":"method_not_allowed"}');
});
server.keepAliveTimeout = 30_000;
server.listen(port, "127.0.0.1", () => console.log("ready"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
