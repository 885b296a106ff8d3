// Server CPU per unary gRPC call on the client port, by the way the connection reaches node:http2:
// "raw" (a host:port :authority, the socket handed over as it is) and "rewrite" (grpc-go's
// URL-form :authority, every header block rewritten on the way in). One `raftkv serve` member;
// serializable Range calls from src/grpc/client.ts, 16 at a time; the member's CPU (utime+stime
// from /proc) divided by the calls made.
//
// Usage: npm run build && node bench/h2c_authority.mjs [--cli dist/cli/main.js] [--calls 20000] [--rounds 3]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { cpuSecondsOf, freePorts, startProcess, stopProcess, waitFor } from "./lib/procs.mjs";

const { values: opts } = parseArgs({
  options: {
    cli: { type: "string", default: "dist/cli/main.js" },
    calls: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
  },
});
const repo = new URL("..", import.meta.url).pathname;
const { GrpcClient } = await import(pathToFileURL(join(repo, "dist/grpc/client.js")).href);
const { codecOf } = await import(pathToFileURL(join(repo, "dist/etcd/codecs.js")).href);
const rangeRequest = codecOf("RangeRequest");
const rangeResponse = codecOf("RangeResponse");

const [peerPort, clientPort] = await freePorts(2);
const dir = mkdtempSync(join(tmpdir(), "raftkv-h2c-bench-"));
const clientAddr = `127.0.0.1:${clientPort}`;
const member = startProcess(process.execPath, [
  resolve(opts.cli), "serve", "--id", "a", "--data", join(dir, "a"),
  "--listen-peer", `127.0.0.1:${peerPort}`, "--listen-client", clientAddr,
  "--initial-cluster", `a=127.0.0.1:${peerPort}`,
], join(dir, "member.log")); // prettier-ignore
try {
  await waitFor(
    "the member ready",
    async () => ((await fetch(`http://${clientAddr}/readyz`)).status === 200 ? true : undefined),
    {
      child: member,
    },
  );
  for (let round = 0; round < Number(opts.rounds); round++) {
    for (const authority of [clientAddr, `http://${clientAddr}`]) {
      const client = new GrpcClient(`http://${clientAddr}`);
      const metadata = { ":authority": authority };
      const call = () =>
        client.unary(
          "/etcdserverpb.KV/Range",
          rangeRequest,
          rangeResponse,
          { key: Buffer.from("k"), serializable: true },
          { metadata },
        );
      const refusal = await call().then(
        () => undefined,
        (error) => error.message,
      );
      if (refusal !== undefined) {
        console.log(`${authority}: ${refusal}`);
        await client.close();
        continue;
      }
      for (let i = 0; i < 2000; i++) await call();
      const calls = Number(opts.calls);
      const before = cpuSecondsOf(member.pid);
      let left = calls;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (left-- > 0) await call();
        }),
      );
      const perCall = ((cpuSecondsOf(member.pid) - before) / calls) * 1e6;
      console.log(
        `${authority.includes("//") ? "rewrite" : "raw    "} ${perCall.toFixed(1)} µs of server CPU per call`,
      );
      await client.close();
    }
  }
} finally {
  await stopProcess(member);
  rmSync(dir, { recursive: true, force: true });
}
