/**
 * `raftkv dev` (what `npm start` runs): a local cluster of `raftkv serve` child processes on
 * loopback, with their output prefixed by member name. Ctrl-C stops them all cleanly: dev and every
 * member exit 0. A member that cannot start ends the cluster; one that dies once it serves (a
 * `kill -9` to watch a failover) does not, and dev prints the command that restarts it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CliFailure, exitCodes, type CliIo } from "./context.js";
import { makeDevTls, type DevTls } from "./dev_tls.js";

const usage = `usage: raftkv dev [--nodes 3] [--data ./raftkv-data] [--base-port 7001] [--tls]
  --tls   TLS on the client and peer ports, with throwaway certificates made in DATA/tls`;

interface DevSettings {
  readonly count: number;
  readonly basePort: number;
  readonly dataRoot: string;
  readonly tls: boolean;
}

export async function dev(args: readonly string[], io: CliIo): Promise<void> {
  const settings = parseDevFlags(args);
  if (settings === undefined) {
    io.stdout.write(`${usage}\n`);
    return;
  }
  const { count, basePort, dataRoot } = settings;
  const names = Array.from({ length: count }, (_, k) => `n${k + 1}`);
  const peerAddr = (k: number): string => `127.0.0.1:${basePort + k}`;
  const clientAddr = (k: number): string => `127.0.0.1:${basePort + 1000 + k}`;
  const cluster = names.map((name, k) => `${name}=${peerAddr(k)}`).join(",");
  // Absolute, so that the restart command dev prints for a member works from any directory.
  const dataDir = resolve(dataRoot);
  const tls = settings.tls ? await makeDevTls(dataDir, names) : undefined;
  const members = names.map((name, k) =>
    spawnMember(name, io, [
      "--id",
      name,
      "--data",
      join(dataDir, name),
      "--listen-peer",
      peerAddr(k),
      "--listen-client",
      clientAddr(k),
      "--initial-cluster",
      cluster,
      ...(tls?.serveArgs.get(name) ?? []),
    ]),
  );
  const endpoints = names.map((_, k) => clientAddr(k)).join(",");
  const scheme = tls === undefined ? "http" : "https";
  io.stdout.write(
    `raftkv dev: ${count} members, data in ${dataRoot}${tls === undefined ? "" : `, TLS certificates in ${tls.dir}`}\n` +
      members
        .map(
          ({ name, child }, k) => `  ${name}: ${scheme}://${clientAddr(k)}  (peer ${peerAddr(k)}, pid ${child.pid})\n`,
        )
        .join("") +
      `  dashboard: ${scheme}://${clientAddr(0)}/\n` +
      tryLines(tls, clientAddr(0), clientAddr(1), endpoints) +
      `  Ctrl-C stops the cluster.\n`,
  );
  const failures = await supervise(members, io);
  if (failures.length > 0) throw new CliFailure(exitCodes.failed, `raftkv dev: ${failures.join(", ")}`);
}

/** How to try the cluster: with TLS, the exact flags that reach it. */
function tryLines(tls: DevTls | undefined, first: string, second: string, endpoints: string): string {
  if (tls === undefined)
    return (
      `  try: curl -X PUT http://${first}/v1/kv/hello -d world && curl http://${second}/v1/kv/hello\n` +
      `       npx raftkv get hello --endpoints ${endpoints}\n`
    );
  const ca = shellCommand([tls.caPath]);
  return (
    `  try: curl --cacert ${ca} -X PUT https://${first}/v1/kv/hello -d world && curl --cacert ${ca} https://${second}/v1/kv/hello\n` +
    `       npx raftkv get hello --endpoints ${endpoints} ${shellCommand(tls.clientArgs)}\n`
  );
}

/** The settings, or undefined for --help. */
function parseDevFlags(args: readonly string[]): DevSettings | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        nodes: { type: "string" },
        data: { type: "string" },
        "base-port": { type: "string" },
        tls: { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (error) {
    throw new CliFailure(exitCodes.usage, `raftkv dev: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (values.help === true) return undefined;
  const count = Number(values.nodes ?? process.env.RAFTKV_NODES ?? "3");
  if (!Number.isSafeInteger(count) || count < 1 || count > 9)
    throw new CliFailure(exitCodes.usage, "raftkv dev: --nodes must be between 1 and 9");
  const basePort = Number(values["base-port"] ?? process.env.RAFTKV_BASE_PORT ?? "7001");
  if (!Number.isSafeInteger(basePort) || basePort < 1024 || basePort > 65535 - 1000 - count)
    throw new CliFailure(exitCodes.usage, "raftkv dev: bad --base-port");
  const tls = values.tls === true || ["1", "true"].includes(process.env.RAFTKV_DEV_TLS ?? "");
  return { count, basePort, dataRoot: values.data ?? process.env.RAFTKV_DATA ?? "./raftkv-data", tls };
}

interface MemberProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The command line that runs this member: what the user runs to bring it back after it died. */
  readonly command: readonly string[];
  /** It has logged that it serves clients, so it started: an exit now is a member going down. */
  serving: boolean;
}

/** `raftkv serve` as a child, its output lines prefixed with its name. */
function spawnMember(name: string, io: CliIo, serveArgs: readonly string[]): MemberProcess {
  const command = [process.execPath, process.argv[1]!, "serve", ...serveArgs];
  const child = spawn(command[0]!, command.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  const member: MemberProcess = { name, child, command, serving: false };
  const prefix = (stream: NodeJS.ReadableStream, out: CliIo["stdout"]): void => {
    let partial = "";
    stream.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (!member.serving && isServingLine(line)) member.serving = true;
        out.write(`[${name}] ${readableLogLine(line)}\n`);
      }
    });
  };
  prefix(child.stdout, io.stdout);
  prefix(child.stderr, io.stderr);
  return member;
}

/**
 * Waits for every member to exit; resolves with what went wrong ("n1 exited with 1"), empty after a
 * clean stop. SIGINT or SIGTERM stops them all. A member that exits before it serves (a port in
 * use, a damaged data dir) stops the rest too: half a cluster that cannot start is no dev cluster.
 * One that dies once it serves (a `kill -9` to watch a failover) leaves the others running: dev
 * prints how to restart it and supervises the rest, until the last one is gone.
 */
async function supervise(members: readonly MemberProcess[], io: CliIo): Promise<string[]> {
  let stopping = false;
  const running = (): MemberProcess[] =>
    members.filter(({ child }) => child.exitCode === null && child.signalCode === null);
  const stop = (): void => {
    // Only once: a terminal's Ctrl-C reaches dev and its members at once, and npm may forward it again.
    if (stopping) return;
    stopping = true;
    for (const { child } of running()) child.kill("SIGTERM");
  };
  const exits = members.map(
    (member) =>
      new Promise<string | undefined>((resolve) =>
        // "close", not "exit": the member's last lines, and the one saying it serves, are read by then.
        member.child.on("close", (code, signal) => {
          const how =
            code === null
              ? `${member.name} was killed by ${signal ?? "a signal"}`
              : `${member.name} exited with ${code}`;
          if (stopping) resolve(code === 0 ? undefined : how);
          else if (!member.serving || running().length === 0) {
            stop();
            resolve(how);
          } else {
            io.stderr.write(
              `raftkv dev: ${how}; the others keep running; restart it with: ${shellCommand(member.command)}\n`,
            );
            resolve(undefined);
          }
        }),
      ),
  );
  // Never removed: a signal that lands after the members have stopped, while dev is exiting, would
  // otherwise kill dev and turn a clean stop into an exit by signal.
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const outcomes = await Promise.all(exits);
  return outcomes.filter((outcome): outcome is string => outcome !== undefined);
}

/** `words` as one POSIX shell command line, quoting only the words that need it (a path with a space). */
function shellCommand(words: readonly string[]): string {
  return words.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(" ");
}

const logFieldsShown = new Set(["level", "time", "node", "term", "msg", "pid", "hostname"]);

/**
 * serve's "peers on …, clients on …" line, the one log line with a clientUrl: the member is up and
 * serving. (Logged at info: under RAFTKV_LOG_LEVEL=warn dev never sees it and treats every exit as
 * a failure to start.)
 */
function isServingLine(line: string): boolean {
  return line.includes('"clientUrl"') && typeof parseLogLine(line)?.clientUrl === "string";
}

interface LogEntry {
  readonly msg: string;
  readonly level: string;
  readonly [field: string]: unknown;
}

/** A member's JSON log line as its fields, or undefined for anything else (a stack trace, a refusal). */
function parseLogLine(line: string): LogEntry | undefined {
  if (!line.startsWith("{")) return undefined;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  return typeof entry.msg === "string" && typeof entry.level === "string" ? (entry as LogEntry) : undefined;
}

/**
 * A member's JSON log line as one readable line ("12:00:01.234 INFO  term 3  became leader …
 * key=value"); anything that is not a JSON log line passes through unchanged.
 */
export function readableLogLine(line: string): string {
  const entry = parseLogLine(line);
  if (entry === undefined) return line;
  const time = typeof entry.time === "string" ? entry.time.slice(11, 23) : "";
  const term = typeof entry.term === "number" ? `term ${entry.term}  ` : "";
  const extra = Object.entries(entry)
    .filter(([key]) => !logFieldsShown.has(key))
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return `${time} ${entry.level.toUpperCase().padEnd(5)} ${term}${entry.msg}${extra === "" ? "" : `  ${extra}`}`;
}
