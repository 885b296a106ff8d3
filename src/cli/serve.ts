/** `raftkv serve`: one member — the Raft node, the KV state machine, its coordination services and the client API. */
import { randomBytes } from "node:crypto";
import { createWatchService, Lessor, type WatchService } from "../coord/index.js";
import { KvStore } from "../kv/index.js";
import {
  createNode,
  parseAddress,
  realClock,
  type CreateNodeOptions,
  type Node,
  type NodeObserver,
} from "../node/index.js";
import { Activity } from "../server/dashboard_state.js";
import { combineObservers, createLogger, logObserver, watchPeers, type Logger } from "../server/log.js";
import { Metrics } from "../server/metrics.js";
import { startClientServer } from "../server/server.js";
import { WriteTracer } from "../server/write_trace.js";
import { createEtcdRouter } from "../etcd/router.js";
import type { GrpcRouter } from "../grpc/router.js";
import type { ServerContext } from "../server/context.js";
import { Prng } from "../util/prng.js";
import { CliFailure, exitCodes, type CliIo } from "./context.js";
import { parseServeFlags, serveUsage, type ServeSettings } from "./serve_flags.js";
import { serveRegisters, wantsRegisters } from "./serve_registers.js";
import { startServeTls, type ServeTls } from "./serve_tls.js";

export async function serve(args: readonly string[], io: CliIo): Promise<void> {
  // Basic Paxos serves registers, not the KV store: its own small service and flags.
  if (wantsRegisters(args, process.env)) return serveRegisters(args, io);
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
  // Listening from the start: a signal during start-up stops the member once it is up, rather than
  // killing it half-way (Ctrl-C on `raftkv dev` right after it starts).
  const stop = stopRequests(log);
  try {
    await run(settings, log, member, refuse, stop.requested);
  } catch (error) {
    stop.release();
    throw error;
  }
  // The handlers stay until the process exits: `raftkv dev` forwards the terminal's Ctrl-C to a member
  // that got it already, and that second signal may land after the stop, where it would kill the
  // process and turn a clean stop into an exit by signal.
  log.info("stopped");
}

async function run(
  settings: ServeSettings,
  log: Logger,
  member: { node?: Node },
  refuse: (exitCode: number, reason: string) => CliFailure,
  stopRequested: Promise<void>,
): Promise<void> {
  const client = parseAddress(settings.listenClient);
  if (client === undefined)
    throw refuse(exitCodes.usage, `invalid --listen-client ${JSON.stringify(settings.listenClient)}`);
  let tls: ServeTls;
  try {
    tls = await startServeTls(settings, log);
  } catch (error) {
    throw refuse(exitCodes.failed, error instanceof Error ? error.message : String(error));
  }
  try {
    await serveWith(settings, log, member, refuse, stopRequested, tls);
  } finally {
    tls.stop();
  }
}

async function serveWith(
  settings: ServeSettings,
  log: Logger,
  member: { node?: Node },
  refuse: (exitCode: number, reason: string) => CliFailure,
  stopRequested: Promise<void>,
  tls: ServeTls,
): Promise<void> {
  const kv = new KvStore();
  // Listening before the node exists, so what it restores and replays at start is in the history.
  const watch = watchService(settings, kv);
  const metrics = new Metrics();
  const activity = new Activity();
  // Off unless asked for: no tracer, nothing stamped (docs/performance.md).
  const writeTracer = ["1", "true"].includes(process.env.RAFTKV_TRACE_WRITES ?? "") ? new WriteTracer() : undefined;
  let fatal = (): void => undefined;
  const failed = new Promise<void>((resolve) => (fatal = resolve));
  const observer = combineObservers(
    metrics.observer(),
    activity.observer(),
    logObserver(log, () => member.node),
    writeTracer?.observer() ?? {},
    // The log can no longer be written: serving on would risk acknowledging what is not durable.
    { fatal: () => fatal() },
  );
  const created = await createNode({
    ...nodeOptions(settings, kv, observer, log),
    ...(tls.peer === undefined ? {} : { peerTls: tls.peer }),
  });
  if (!created.ok) {
    watch.close();
    throw refuse(exitCodes.failed, created.error);
  }
  const node = created.node;
  member.node = node;
  watch.startCompactor(node.raft);
  const lessor = newLessor(settings, kv, node);
  const services = { kv, watchHub: watch.hub, lessor, metrics, activity, log, writeTracer };
  let server;
  try {
    server = await startClientServer({ node, ...services, ...clientServerSettings(settings, tls), grpc: etcdApi(log) });
  } catch (error) {
    watch.close();
    lessor.close();
    await node.stop();
    throw refuse(exitCodes.failed, error instanceof Error ? error.message : String(error));
  }
  const clientUrl = `${tls.client === undefined ? "http" : "https"}://${server.address.host}:${server.address.port}`;
  const advertised = settings.advertisePeer === settings.listenPeer ? "" : ` (advertised as ${settings.advertisePeer})`;
  log.info(
    { peerAddr: settings.advertisePeer, listenPeer: settings.listenPeer, clientUrl, dataDir: settings.data },
    `peers on ${settings.listenPeer}${advertised}, clients on ${clientUrl} (dashboard at /)`,
  );
  const peerWatch = watchPeers(log, node);
  await Promise.race([stopRequested, failed]);
  peerWatch.stop();
  // Stop accepting, end the watch streams (with "stopping"), let in-flight writes finish and the log
  // sync, then exit.
  watch.close();
  const closing = server.close();
  lessor.close();
  await node.stop();
  await closing;
  if (writeTracer !== undefined) log.info({ writeTrace: writeTracer.records() }, "write trace");
  const failure = node.raft.failure();
  if (failure !== undefined) throw new CliFailure(exitCodes.failed, `raftkv serve: ${failure.message}`);
}

/** Where and how the client API listens: address, TLS, per-address bound, token lifetime. */
function clientServerSettings(settings: ServeSettings, tls: ServeTls) {
  const client = parseAddress(settings.listenClient)!;
  const listener = {
    ...(tls.client === undefined ? {} : { tls: tls.client }),
    connectionsPerAddressMax: settings.connectionsPerAddress,
  };
  return {
    host: client.host,
    port: client.port,
    listener,
    authTokenTtlMs: settings.authTokenTtlMs,
    monitoringNeedsAuth: settings.monitoringNeedsAuth,
  };
}

function watchService(settings: ServeSettings, kv: KvStore): WatchService {
  return createWatchService({
    kv,
    clock: realClock,
    bufferEventsMax: settings.watchBufferEvents,
    progressIntervalMs: settings.watchProgressMs,
    historyRevisionsMax: settings.historyRevisions,
    historyBytesMax: settings.historyMb * 1024 * 1024,
  });
}

function nodeOptions(settings: ServeSettings, kv: KvStore, observer: NodeObserver, log: Logger): CreateNodeOptions {
  return {
    id: settings.id,
    dataDir: settings.data,
    peers: settings.initialCluster,
    join: settings.join,
    listenPeer: settings.listenPeer,
    clientAddress: settings.listenClient,
    stateMachine: kv,
    electionTimeoutMs: settings.electionTimeoutMs,
    heartbeatMs: settings.heartbeatMs,
    snapshotEntries: settings.snapshotEntries,
    engine: settings.engine,
    observer,
    onWarning: (text) => log.warn(text),
  };
}

/** The member's lessor; its lease ids come from a random seed (a clash with another member's is retried). */
function newLessor(settings: ServeSettings, kv: KvStore, node: Node): Lessor {
  const ids = new Prng(randomBytes(4).readUInt32LE(0));
  return new Lessor({
    kv,
    node: node.raft,
    clock: realClock,
    electionTimeoutMs: settings.electionTimeoutMs,
    random: () => ids.next(),
    revokesPerSecond: settings.leaseRevokesPerSecond,
    checkpointIntervalMs: settings.leaseCheckpointMs,
  });
}

interface StopRequests {
  /** Settles on the first SIGTERM or SIGINT. */
  readonly requested: Promise<void>;
  /** Removes the handlers: for a member that never started, so there is nothing to stop. */
  release(): void;
}

/**
 * SIGTERM and SIGINT ask for one clean stop (exit status 0); any further signal is that same
 * stop, already under way, and must not fail it.
 */
function stopRequests(log: Logger): StopRequests {
  let request = (): void => undefined;
  const requested = new Promise<void>((resolve) => (request = resolve));
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.debug({ signal }, `${signal}: already stopping`);
      return;
    }
    stopping = true;
    log.info({ signal }, `${signal}: stopping (finishing in-flight writes)`);
    request();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return {
    requested,
    release: () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    },
  };
}

/** etcd's v3 API on the client port (docs/api.md); its unexpected failures are logged. */
function etcdApi(log: Logger): (ctx: ServerContext) => GrpcRouter {
  return (ctx) =>
    createEtcdRouter(ctx, (path, error) => log.error({ path, err: String(error) }, `unexpected error serving ${path}`));
}
