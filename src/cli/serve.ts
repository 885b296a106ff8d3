/** `raftkv serve`: one member — the Raft node, the KV state machine and the client API. */
import { KvStore } from "../kv/index.js";
import { createNode, parseAddress } from "../node/index.js";
import { Metrics } from "../server/metrics.js";
import { startClientServer } from "../server/server.js";
import { CliFailure, exitCodes, type CliIo } from "./context.js";
import { parseServeFlags, serveUsage } from "./serve_flags.js";

export async function serve(args: readonly string[], io: CliIo): Promise<void> {
  const settings = parseServeFlags(args, process.env);
  if (settings === undefined) {
    io.stdout.write(`${serveUsage}\n`);
    return;
  }
  if (settings.electionTimeoutMs <= settings.heartbeatMs) {
    throw new CliFailure(exitCodes.usage, "raftkv serve: --election-timeout-ms must exceed --heartbeat-ms");
  }
  const client = parseAddress(settings.listenClient);
  if (client === undefined) throw new CliFailure(exitCodes.usage, `raftkv serve: invalid --listen-client ${JSON.stringify(settings.listenClient)}`);
  const kv = new KvStore();
  const metrics = new Metrics();
  let stop = (): void => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const created = await createNode({
    id: settings.id,
    dataDir: settings.data,
    peers: settings.initialCluster,
    join: settings.join,
    listenPeer: settings.listenPeer,
    stateMachine: kv,
    electionTimeoutMs: settings.electionTimeoutMs,
    heartbeatMs: settings.heartbeatMs,
    snapshotEntries: settings.snapshotEntries,
    observer: {
      ...metrics.observer(),
      // The log can no longer be written: serving on would risk acknowledging what is not durable.
      fatal: (error) => {
        io.stderr.write(`raftkv ${settings.id}: ${error.message}; stopping\n`);
        stop();
      },
    },
    onWarning: (text) => io.stderr.write(`raftkv ${settings.id}: ${text}\n`),
  });
  if (!created.ok) throw new CliFailure(exitCodes.failed, `raftkv serve: ${created.error}`);
  const node = created.node;
  let server;
  try {
    server = await startClientServer({ node, kv, metrics, host: client.host, port: client.port });
  } catch (error) {
    await node.stop();
    throw new CliFailure(exitCodes.failed, `raftkv serve: ${error instanceof Error ? error.message : String(error)}`);
  }
  io.stdout.write(`raftkv ${node.name}: peers on ${settings.listenPeer}, clients on http://${server.address.host}:${server.address.port} (dashboard at /)\n`);
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  await stopped;
  process.off("SIGTERM", stop);
  process.off("SIGINT", stop);
  // Stop accepting, let in-flight writes finish and the log sync, then exit.
  const closing = server.close();
  await node.stop();
  await closing;
  const failure = node.raft.failure();
  if (failure !== undefined) throw new CliFailure(exitCodes.failed, `raftkv serve: ${failure.message}`);
}
