/** `raftkv serve`: one member — the Raft node, the KV state machine and the client API. */
import { KvStore } from "../kv/index.js";
import { createNode, parseAddress, type Node } from "../node/index.js";
import { Activity } from "../server/dashboard_state.js";
import { combineObservers, createLogger, logObserver, watchPeers } from "../server/log.js";
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
  // Set once created: log lines carry its term, the observer names members through it.
  const member: { node?: Node } = {};
  // JSON lines on stdout, each with the member's name and its term; stderr keeps the one-line refusal.
  const log = createLogger({
    node: settings.id,
    level: settings.logLevel,
    destination: io.stdout,
    term: () => member.node?.raft.status().term,
  });
  const refuse = (exitCode: number, reason: string): CliFailure => {
    log.fatal({ reason }, `refusing to start: ${reason}`);
    return new CliFailure(exitCode, `raftkv serve: ${reason}`);
  };
  if (settings.electionTimeoutMs <= settings.heartbeatMs)
    throw refuse(exitCodes.usage, "--election-timeout-ms must exceed --heartbeat-ms");
  const client = parseAddress(settings.listenClient);
  if (client === undefined)
    throw refuse(exitCodes.usage, `invalid --listen-client ${JSON.stringify(settings.listenClient)}`);
  const kv = new KvStore();
  const metrics = new Metrics();
  const activity = new Activity();
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
    observer: combineObservers(
      metrics.observer(),
      activity.observer(),
      logObserver(log, () => member.node),
      {
        // The log can no longer be written: serving on would risk acknowledging what is not durable.
        fatal: () => stop(),
      },
    ),
    onWarning: (text) => log.warn(text),
  });
  if (!created.ok) throw refuse(exitCodes.failed, created.error);
  const node = created.node;
  member.node = node;
  let server;
  try {
    server = await startClientServer({ node, kv, metrics, activity, log, host: client.host, port: client.port });
  } catch (error) {
    await node.stop();
    throw refuse(exitCodes.failed, error instanceof Error ? error.message : String(error));
  }
  const clientUrl = `http://${server.address.host}:${server.address.port}`;
  log.info(
    { peerAddr: settings.listenPeer, clientUrl, dataDir: settings.data },
    `peers on ${settings.listenPeer}, clients on ${clientUrl} (dashboard at /)`,
  );
  const peerWatch = watchPeers(log, node);
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info({ signal }, `${signal}: stopping (finishing in-flight writes)`);
    stop();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  await stopped;
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  peerWatch.stop();
  // Stop accepting, let in-flight writes finish and the log sync, then exit.
  const closing = server.close();
  await node.stop();
  await closing;
  const failure = node.raft.failure();
  if (failure !== undefined) throw new CliFailure(exitCodes.failed, `raftkv serve: ${failure.message}`);
  log.info("stopped");
}
