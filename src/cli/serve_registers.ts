/** `raftkv serve --engine basic-paxos`: one member of the Basic Paxos register service (docs/engines.md). */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { parsePeerAddress } from "../transport/peer_address.js";
import type { PeerAddress } from "../transport/index.js";
import { startRegisterService, type RegisterServiceConfig } from "../registers/service.js";
import { Prng } from "../util/prng.js";
import { CliFailure, exitCodes, type CliIo } from "./context.js";
import { envName, parseInitialCluster, positiveInteger } from "./serve_flags.js";

const flags = {
  engine: { type: "string" },
  id: { type: "string" },
  data: { type: "string" },
  "listen-peer": { type: "string" },
  "listen-client": { type: "string" },
  "initial-cluster": { type: "string" },
  "tick-ms": { type: "string" },
  "phase-ticks": { type: "string" },
  "backoff-ticks": { type: "string" },
  "request-timeout-ms": { type: "string" },
  help: { type: "boolean" },
} as const;

const usageText = `usage: raftkv serve --engine basic-paxos [--id n1] [--data ./raftkv-data/n1]
                    [--listen-peer 127.0.0.1:7001] [--listen-client 127.0.0.1:8001]
                    [--initial-cluster n1=127.0.0.1:7001,n2=127.0.0.1:7002,...]
                    [--tick-ms 10] [--phase-ticks 20] [--backoff-ticks 5] [--request-timeout-ms 5000]
Serves write-once and compare-and-set registers over HTTP (/v1/registers/{name}, docs/api.md), each
version of each register one Basic Paxos instance. A fixed membership: every member is given the same
--initial-cluster, and member ids follow the names' order. Every flag also reads RAFTKV_<FLAG>.`;

/** True when the arguments (or RAFTKV_ENGINE) ask for the register service. */
export function wantsRegisters(args: readonly string[], env: NodeJS.ProcessEnv): boolean {
  const at = args.findIndex((a) => a === "--engine" || a.startsWith("--engine="));
  if (at < 0) return env.RAFTKV_ENGINE === "basic-paxos";
  const flag = args[at]!;
  return (flag.includes("=") ? flag.slice("--engine=".length) : args[at + 1]) === "basic-paxos";
}

/** What the flags give; the rest of the service's configuration is made here. */
type RegisterFlags = Omit<RegisterServiceConfig, "random" | "log" | "onFatal">;

function usage(message: string): CliFailure {
  return new CliFailure(exitCodes.usage, `raftkv serve: ${message}`);
}

/** The flags (or RAFTKV_* variables); undefined for --help. */
function parseRegisterFlags(args: readonly string[], env: NodeJS.ProcessEnv): RegisterFlags | undefined {
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
  const count = (flag: keyof typeof flags, fallback: number): number =>
    positiveInteger(flag, value(flag) ?? String(fallback));
  const name = value("id") ?? "n1";
  const listenPeer = value("listen-peer") ?? "127.0.0.1:7001";
  const members = parseMembers(value("initial-cluster") ?? `${name}=${listenPeer}`);
  if (members[name] === undefined) throw usage(`--initial-cluster does not name this member (${name})`);
  return {
    name,
    members,
    data: value("data") ?? `./raftkv-data/${name}`,
    listenPeer: address("listen-peer", listenPeer),
    listenClient: address("listen-client", value("listen-client") ?? "127.0.0.1:8001"),
    tickMs: count("tick-ms", 10),
    phaseTicks: count("phase-ticks", 20),
    backoffTicksMin: count("backoff-ticks", 5),
    requestTimeoutMs: count("request-timeout-ms", 5000),
  };
}

function address(flag: string, text: string): PeerAddress {
  const parsed = parsePeerAddress(text);
  if (parsed === undefined) throw usage(`--${flag} must be HOST:PORT, got ${JSON.stringify(text)}`);
  return parsed;
}

function parseMembers(text: string): Record<string, PeerAddress> {
  return Object.fromEntries(
    Object.entries(parseInitialCluster(text)).map(([member, peer]) => [member, address("initial-cluster", peer)]),
  );
}

export async function serveRegisters(args: readonly string[], io: CliIo): Promise<void> {
  const settings = parseRegisterFlags(args, process.env);
  if (settings === undefined) {
    io.stdout.write(`${usageText}\n`);
    return;
  }
  const log = (level: string, message: string, fields: Record<string, unknown> = {}): void => {
    const line = { level, time: Date.now(), node: settings.name, engine: "basic-paxos", msg: message, ...fields };
    io.stdout.write(`${JSON.stringify(line)}\n`);
  };
  let fatal: (error: unknown) => void = () => undefined;
  const failed = new Promise<unknown>((resolve) => (fatal = resolve));
  let service;
  try {
    service = await startRegisterService({
      ...settings,
      random: new Prng(randomBytes(4).readUInt32LE(0)),
      log,
      onFatal: fatal,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log("fatal", `refusing to start: ${reason}`);
    throw new CliFailure(exitCodes.failed, `raftkv serve: ${reason}`);
  }
  log("info", "serving registers", { client: service.clientAddress, members: settings.members });
  const signalled = new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  const stop = await Promise.race([signalled.then((signal) => ({ signal })), failed.then((error) => ({ error }))]);
  await service.stop();
  if ("error" in stop) {
    const reason = stop.error instanceof Error ? stop.error.message : String(stop.error);
    log("fatal", `stopped: ${reason}`);
    throw new CliFailure(exitCodes.failed, `raftkv serve: ${reason}`);
  }
  log("info", `${stop.signal}: stopped`);
}
