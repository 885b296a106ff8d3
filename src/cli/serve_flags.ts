import { parseArgs } from "node:util";
import type { EngineName } from "../engine/engine.js";
import { durationMs } from "./duration.js";
import { lessorDefaults } from "../coord/index.js";
import { listenerDefaults } from "../server/listener.js";
import { isLogLevel, logLevels, type LogLevel } from "../server/log.js";
import { CliFailure, exitCodes } from "./context.js";
import { resolveTlsFlags, tlsFlags, tlsUsage, type ServeTlsSettings } from "./serve_tls_flags.js";

/** `raftkv serve` settings after flags, environment (RAFTKV_*) and defaults. */
export interface ServeSettings extends ServeTlsSettings {
  readonly id: string;
  readonly data: string;
  readonly listenPeer: string;
  /** The peer address the other members reach this one at (its entry in `initialCluster`). */
  readonly advertisePeer: string;
  readonly listenClient: string;
  /** name → peer address, this member included. */
  readonly initialCluster: Record<string, string>;
  readonly join: boolean;
  readonly electionTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly snapshotEntries: number;
  /** Watches with progressNotify hear of progress after this long without a message. */
  readonly watchProgressMs: number;
  /** A watcher more than this many events behind is cancelled as slow. */
  readonly watchBufferEvents: number;
  /** The leader compacts the event history beyond this many revisions... */
  readonly historyRevisions: number;
  /** ...or this many MiB. */
  readonly historyMb: number;
  /** The leader proposes at most this many lease expiries a second. */
  readonly leaseRevokesPerSecond: number;
  /** How often the leader checkpoints what long leases have left. */
  readonly leaseCheckpointMs: number;
  /** JSON log lines at this level and above go to stdout. */
  readonly logLevel: LogLevel;
  /** Client connections one address may hold open; more are closed at once. */
  readonly connectionsPerAddress: number;
  /** How long an auth token lasts (docs/auth.md). */
  readonly authTokenTtlMs: number;
  /** With auth on, /metrics, /healthz and /readyz need a token too (they are open by default). */
  readonly monitoringNeedsAuth: boolean;
  /** The consensus engine (docs/engines.md): raft, or multi-paxos or zab (a fixed membership). */
  readonly engine: EngineName;
}

const flags = {
  id: { type: "string" },
  data: { type: "string" },
  "listen-peer": { type: "string" },
  "advertise-peer": { type: "string" },
  "listen-client": { type: "string" },
  "initial-cluster": { type: "string" },
  join: { type: "boolean" },
  "election-timeout-ms": { type: "string" },
  "heartbeat-ms": { type: "string" },
  "snapshot-entries": { type: "string" },
  "watch-progress-ms": { type: "string" },
  "watch-buffer-events": { type: "string" },
  "history-revisions": { type: "string" },
  "history-mb": { type: "string" },
  "lease-revokes-per-second": { type: "string" },
  "lease-checkpoint-ms": { type: "string" },
  "log-level": { type: "string" },
  "connections-per-address": { type: "string" },
  ...tlsFlags,
  "auth-token-ttl": { type: "string" },
  "monitoring-needs-auth": { type: "boolean" },
  engine: { type: "string" },
  help: { type: "boolean" },
} as const;

export const serveUsage = `usage: raftkv serve [--id n1] [--data ./raftkv-data/n1]
                    [--listen-peer 127.0.0.1:7001] [--advertise-peer HOST:PORT] [--listen-client 127.0.0.1:8001]
                    [--initial-cluster n1=127.0.0.1:7001,n2=127.0.0.1:7002,...]
                    [--join] [--election-timeout-ms 150] [--heartbeat-ms 50] [--snapshot-entries 10000]
                    [--watch-progress-ms 10000] [--watch-buffer-events 10000]
                    [--history-revisions 100000] [--history-mb 64]
                    [--lease-revokes-per-second ${lessorDefaults.revokesPerSecond}] [--lease-checkpoint-ms ${lessorDefaults.checkpointIntervalMs}]
                    [--log-level info]   # ${logLevels.join("|")}; JSON lines on stdout
                    [--cert F --key F [--ca F]] [--peer-cert F --peer-key F --peer-ca F]
                    [--connections-per-address ${listenerDefaults.connectionsPerAddressMax}]
                    [--auth-token-ttl 5m]   # how long a token from POST /v1/auth/authenticate lasts
                    [--monitoring-needs-auth]   # with auth on, /metrics, /healthz and /readyz need a token
                    [--engine raft]   # or multi-paxos, zab: a fixed membership (docs/engines.md); the data dir keeps it
  --advertise-peer   the address other members reach this one at (default: --listen-peer); give it when
                     --listen-peer is 0.0.0.0 or behind NAT
  --initial-cluster  every member of a new cluster, this one included (default: this one alone, at its
                     advertised address); ignored once the data dir exists
  --join             start empty and wait to be added (raftkv member add ID PEER_ADDR); --initial-cluster
                     may then list the running members (members also learn each other as they connect),
                     and this one is at its advertised address unless listed there
  --watch-progress-ms      how often a watch with progressNotify hears of progress while quiet
  --watch-buffer-events    a watcher this many events behind is cancelled as slow (it resumes from
                           the revision it is told)
  --history-revisions, --history-mb
                           the leader compacts the watch history, keeping the newest half, when it
                           holds more revisions or MiB than these
${tlsUsage}
  --connections-per-address
                     client connections one address may hold open; more are closed at once
Every flag also reads an environment variable: RAFTKV_ID, RAFTKV_DATA, RAFTKV_LISTEN_PEER, ...`;

function usage(message: string): CliFailure {
  return new CliFailure(exitCodes.usage, `raftkv serve: ${message}`);
}

/** The environment variable that stands in for `--flag`. */
export function envName(flag: string): string {
  return `RAFTKV_${flag.toUpperCase().replace(/-/g, "_")}`;
}

export function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw usage(`--${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

/** NAME=HOST:PORT,... into name → address text, each name once. */
export function parseInitialCluster(text: string): Record<string, string> {
  const members: Record<string, string> = {};
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0 || eq === part.length - 1)
      throw usage(`--initial-cluster entries are NAME=HOST:PORT, got ${JSON.stringify(part)}`);
    const name = part.slice(0, eq);
    if (members[name] !== undefined) throw usage(`--initial-cluster names ${name} twice`);
    members[name] = part.slice(eq + 1);
  }
  return members;
}

/** Parses `serve`'s arguments; returns undefined after printing help. */
export function parseServeFlags(args: readonly string[], env: NodeJS.ProcessEnv): ServeSettings | undefined {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: flags, strict: true, allowPositionals: false });
  } catch (error) {
    throw usage(error instanceof Error ? error.message : String(error));
  }
  if (parsed.values.help === true) return undefined;
  const value = (flag: keyof typeof flags): string | undefined => {
    const given = parsed.values[flag];
    return typeof given === "string" ? given : env[envName(flag)];
  };
  const id = value("id") ?? "n1";
  const listenPeer = value("listen-peer") ?? "127.0.0.1:7001";
  const flag = (name: "join" | "monitoring-needs-auth"): boolean => {
    const fromEnv = env[envName(name)];
    return parsed.values[name] === true || fromEnv === "1" || fromEnv === "true";
  };
  const join = flag("join");
  const initialCluster = resolveInitialCluster({
    id,
    listenPeer,
    advertisePeer: value("advertise-peer"),
    cluster: value("initial-cluster"),
    join,
  });
  const logLevel = value("log-level") ?? "info";
  if (!isLogLevel(logLevel))
    throw usage(`--log-level must be one of ${logLevels.join(", ")}, got ${JSON.stringify(logLevel)}`);
  return {
    id,
    data: value("data") ?? `./raftkv-data/${id}`,
    listenPeer,
    advertisePeer: initialCluster[id]!,
    listenClient: value("listen-client") ?? "127.0.0.1:8001",
    initialCluster,
    join,
    electionTimeoutMs: positiveInteger("election-timeout-ms", value("election-timeout-ms") ?? "150"),
    heartbeatMs: positiveInteger("heartbeat-ms", value("heartbeat-ms") ?? "50"),
    snapshotEntries: positiveInteger("snapshot-entries", value("snapshot-entries") ?? "10000"),
    watchProgressMs: positiveInteger("watch-progress-ms", value("watch-progress-ms") ?? "10000"),
    watchBufferEvents: positiveInteger("watch-buffer-events", value("watch-buffer-events") ?? "10000"),
    historyRevisions: positiveInteger("history-revisions", value("history-revisions") ?? "100000"),
    historyMb: positiveInteger("history-mb", value("history-mb") ?? "64"),
    leaseRevokesPerSecond: positiveInteger(
      "lease-revokes-per-second",
      value("lease-revokes-per-second") ?? String(lessorDefaults.revokesPerSecond),
    ),
    leaseCheckpointMs: positiveInteger(
      "lease-checkpoint-ms",
      value("lease-checkpoint-ms") ?? String(lessorDefaults.checkpointIntervalMs),
    ),
    logLevel,
    connectionsPerAddress: positiveInteger(
      "connections-per-address",
      value("connections-per-address") ?? String(listenerDefaults.connectionsPerAddressMax),
    ),
    ...resolveTlsFlags(value),
    authTokenTtlMs: authTokenTtl(value("auth-token-ttl") ?? "5m"),
    monitoringNeedsAuth: flag("monitoring-needs-auth"),
    engine: engineOf(value("engine") ?? "raft"),
  };
}

function engineOf(text: string): EngineName {
  if (text === "raft" || text === "multi-paxos" || text === "zab") return text;
  throw usage(`--engine must be raft, multi-paxos or zab, got ${JSON.stringify(text)}`);
}

function authTokenTtl(text: string): number {
  const ms = durationMs(text);
  if (ms === undefined)
    throw usage(`--auth-token-ttl is a duration such as 30s, 5m or 1h, got ${JSON.stringify(text)}`);
  return ms;
}

/** Hosts that mean "every interface": fine to listen on, useless for another member to dial. */
const wildcardHosts = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * The configuration to bootstrap (or, with --join, the members to answer) with this member in it:
 * listed, it is where the list says; unlisted, a joining member is at its advertised address, which
 * defaults to --listen-peer. A new cluster's list must name it: each member bootstraps from its own
 * copy, and copies that differ would make different clusters.
 */
export function resolveInitialCluster(flags: {
  readonly id: string;
  readonly listenPeer: string;
  readonly advertisePeer: string | undefined;
  readonly cluster: string | undefined;
  readonly join: boolean;
}): Record<string, string> {
  const { id, advertisePeer } = flags;
  const members = flags.cluster === undefined ? {} : parseInitialCluster(flags.cluster);
  const listed = members[id];
  if (listed !== undefined) {
    if (advertisePeer !== undefined && advertisePeer !== listed)
      throw usage(`--advertise-peer ${advertisePeer} differs from ${id}=${listed} in --initial-cluster`);
    return members;
  }
  if (flags.cluster !== undefined && !flags.join)
    throw usage(
      `--initial-cluster does not name this member (${id}): add ${id}=HOST:PORT, or pass --join to join a running cluster`,
    );
  const advertised = advertisePeer ?? flags.listenPeer;
  const host = /^(.*):\d+$/.exec(advertised)?.[1];
  if (flags.join && advertisePeer === undefined && host !== undefined && wildcardHosts.has(host))
    throw usage(`--listen-peer ${advertised} is no address other members can dial: pass --advertise-peer HOST:PORT`);
  return { ...members, [id]: advertised };
}
