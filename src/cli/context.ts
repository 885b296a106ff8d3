/**
 * What every client subcommand shares: its I/O (injected, so tests run the CLI in-process), the
 * connection flags, exit statuses and the way results are printed.
 */
import { Option, type Command } from "commander";
import { RaftkvClient, type AuthOptions, type ClientTls } from "../client/index.js";
import { addClientTlsOptions, clientTlsFiles, readClientTls, type ClientTlsFiles } from "./client_tls.js";
import { credentialsOf } from "./credentials.js";
import { parseDuration, parseEndpointList, parseEnvFlag } from "./options.js";

export interface Output {
  write(chunk: string | Uint8Array): unknown;
  readonly isTTY?: boolean;
}

export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
}

/**
 * Exit statuses: 0 done; 1 the operation failed (not found, compare failed, a server error, no node
 * reachable); 2 bad usage (unknown command or flag, bad value); 3 a write's outcome is unknown (it may
 * or may not have been applied — docs/api.md).
 */
export const exitCodes = { ok: 0, failed: 1, usage: 2, unknownOutcome: 3 } as const;

/** Ends a command with an exit status; the message (if any) becomes the one stderr line. */
export class CliFailure extends Error {
  override name = "CliFailure";
  readonly exitCode: number;
  constructor(exitCode: number, message = "") {
    super(message);
    this.exitCode = exitCode;
  }
}

const defaultEndpoints = ["127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"];

export interface ClientFlags {
  readonly endpoints: readonly string[];
  readonly json: boolean;
  /** Milliseconds. */
  readonly timeout: number;
  /** --cacert, --cert, --key: https to the endpoints. */
  readonly tls?: ClientTlsFiles;
  /** The caller's credentials (credentials.ts), when given. */
  readonly auth?: AuthOptions;
}

/** A flag that also reads an environment variable (docs/api.md, "Command line": every flag does). */
export function envOption(flags: string, description: string, env: string): Option {
  return new Option(flags, description).env(env);
}

/** --endpoints, --json and --timeout, on each client subcommand (so they may come before or after the arguments). */
export function addClientOptions(command: Command): Command {
  return addClientTlsOptions(command)
    .addOption(
      envOption("--endpoints <list>", "client addresses of the nodes, host:port,...", "RAFTKV_ENDPOINTS")
        .argParser(parseEndpointList)
        .default(defaultEndpoints, defaultEndpoints.join(",")),
    )
    .addOption(envOption("--json", "print machine-readable JSON", "RAFTKV_JSON"))
    .addOption(
      envOption("--timeout <duration>", "give up on a request after this long", "RAFTKV_TIMEOUT")
        .argParser(parseDuration)
        .default(5000, "5s"),
    )
    .addOption(envOption("--user <name>", "authenticate as this user (with --password)", "RAFTKV_USER"))
    .addOption(envOption("--password <password>", "the --user's password", "RAFTKV_PASSWORD"))
    .addOption(envOption("--token <token>", "authenticate with this token instead", "RAFTKV_TOKEN"));
}

/**
 * Commander sets a boolean flag whenever its variable exists, so RAFTKV_JSON=0 would mean "on";
 * re-read such values here as real booleans (a bad one is a usage error).
 */
export function fixBooleanEnv(command: Command): void {
  for (const option of command.options) {
    const name = option.attributeName();
    if (option.isBoolean() && option.envVar !== undefined && command.getOptionValueSource(name) === "env") {
      try {
        command.setOptionValueWithSource(name, parseEnvFlag(option.envVar, process.env[option.envVar] ?? ""), "env");
      } catch (error) {
        command.error(`error: ${error instanceof Error ? error.message : String(error)}`, {
          exitCode: exitCodes.usage,
          code: "raftkv.env",
        });
      }
    }
  }
}

export function clientFlags(command: Command): ClientFlags {
  const opts = command.opts<{ endpoints: string[]; json?: boolean; timeout: number }>();
  const tls = asUsage(() => clientTlsFiles(command.opts()));
  const credentials = credentialsOf(command.opts());
  if ("problem" in credentials) {
    command.error(`error: ${credentials.problem}`, { exitCode: exitCodes.usage, code: "raftkv.credentials" });
  }
  return {
    endpoints: opts.endpoints,
    json: opts.json === true,
    timeout: opts.timeout,
    ...(tls === undefined ? {} : { tls }),
    ...credentials,
  };
}

/** The PEM files --cacert, --cert and --key name, read; a file that cannot be read is a usage failure. */
export async function clientTls(flags: ClientFlags): Promise<ClientTls | undefined> {
  return flags.tls === undefined ? undefined : readClientTls(flags.tls).catch(usageFailure);
}

/** Runs `use` with a client for the flags, and closes its connections afterwards. */
export async function withClient<T>(flags: ClientFlags, use: (client: RaftkvClient) => Promise<T>): Promise<T> {
  const tls = await clientTls(flags);
  const client = new RaftkvClient({
    endpoints: flags.endpoints,
    timeoutMs: Math.ceil(flags.timeout),
    ...(tls === undefined ? {} : { tls }),
    ...(flags.auth && { auth: flags.auth }),
  });
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** A problem with the flags' files (client_tls.ts) as a usage failure with its message. */
function usageFailure(error: unknown): never {
  throw new CliFailure(exitCodes.usage, error instanceof Error ? error.message : String(error));
}

function asUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (error) {
    return usageFailure(error);
  }
}

/** Prints `human` as text, or `json` as one JSON document with --json. */
export function print(io: CliIo, flags: Pick<ClientFlags, "json">, human: string, json: unknown): void {
  io.stdout.write(flags.json ? `${JSON.stringify(json)}\n` : `${human}\n`);
}
