import { parseArgs } from "node:util";
import { isLogLevel, logLevels, type LogLevel } from "../server/log.js";
import { CliFailure, exitCodes } from "./context.js";

/** `raftkv serve` settings after flags, environment (RAFTKV_*) and defaults. */
export interface ServeSettings {
  readonly id: string;
  readonly data: string;
  readonly listenPeer: string;
  readonly listenClient: string;
  /** name → peer address, this member included. */
  readonly initialCluster: Record<string, string>;
  readonly join: boolean;
  readonly electionTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly snapshotEntries: number;
  /** JSON log lines at this level and above go to stdout. */
  readonly logLevel: LogLevel;
}

const flags = {
  id: { type: "string" },
  data: { type: "string" },
  "listen-peer": { type: "string" },
  "listen-client": { type: "string" },
  "initial-cluster": { type: "string" },
  join: { type: "boolean" },
  "election-timeout-ms": { type: "string" },
  "heartbeat-ms": { type: "string" },
  "snapshot-entries": { type: "string" },
  "log-level": { type: "string" },
  help: { type: "boolean" },
} as const;

export const serveUsage = `usage: raftkv serve [--id n1] [--data ./raftkv-data/n1]
                    [--listen-peer 127.0.0.1:7001] [--listen-client 127.0.0.1:8001]
                    [--initial-cluster n1=127.0.0.1:7001,n2=127.0.0.1:7002,...]
                    [--join] [--election-timeout-ms 150] [--heartbeat-ms 50] [--snapshot-entries 10000]
                    [--log-level info]   # ${logLevels.join("|")}; JSON lines on stdout
Every flag also reads an environment variable: RAFTKV_ID, RAFTKV_DATA, RAFTKV_LISTEN_PEER, ...`;

function usage(message: string): CliFailure {
  return new CliFailure(exitCodes.usage, `raftkv serve: ${message}`);
}

function envName(flag: string): string {
  return `RAFTKV_${flag.toUpperCase().replace(/-/g, "_")}`;
}

function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1)
    throw usage(`--${flag} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

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
  const joinEnv = env.RAFTKV_JOIN;
  const join = parsed.values.join === true || joinEnv === "1" || joinEnv === "true";
  const cluster = value("initial-cluster");
  const logLevel = value("log-level") ?? "info";
  if (!isLogLevel(logLevel))
    throw usage(`--log-level must be one of ${logLevels.join(", ")}, got ${JSON.stringify(logLevel)}`);
  return {
    id,
    data: value("data") ?? `./raftkv-data/${id}`,
    listenPeer,
    listenClient: value("listen-client") ?? "127.0.0.1:8001",
    initialCluster: cluster === undefined ? { [id]: listenPeer } : parseInitialCluster(cluster),
    join,
    electionTimeoutMs: positiveInteger("election-timeout-ms", value("election-timeout-ms") ?? "150"),
    heartbeatMs: positiveInteger("heartbeat-ms", value("heartbeat-ms") ?? "50"),
    snapshotEntries: positiveInteger("snapshot-entries", value("snapshot-entries") ?? "10000"),
    logLevel,
  };
}
