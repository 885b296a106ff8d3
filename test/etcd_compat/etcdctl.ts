/**
 * Runs Debian's etcdctl (3.4) against a cluster and captures what it prints. The same runner
 * drives a raftkv cluster in test/etcd_compat.test.ts and a real etcd in the comparison
 * (`npm run compare:etcd`), so both are held to one transcript.
 */
import { execFile, spawn } from "node:child_process";

export const etcdctlPath = "/usr/bin/etcdctl";

export interface EtcdctlRun {
  readonly code: number;
  readonly stdout: string;
  /** etcdctl's own error line ("Error: ..."), without the retry warnings grpc-go logs as JSON. */
  readonly error: string;
}

/** Flags every call gets: the endpoints and, for TLS, the client's certificate files. */
export interface EtcdctlTarget {
  readonly endpoints: readonly string[];
  readonly flags?: readonly string[];
}

function commonFlags(target: EtcdctlTarget, endpoints: readonly string[]): string[] {
  return [`--endpoints=${endpoints.join(",")}`, "--dial-timeout=5s", "--command-timeout=10s", ...(target.flags ?? [])];
}

function errorLine(stderr: string): string {
  return stderr
    .split("\n")
    .filter((line) => line.length > 0 && !line.startsWith("{"))
    .join("\n");
}

/**
 * One etcdctl command to completion (`stdin` for txn's interactive syntax); `endpoints` narrows the
 * target. With `stopAfterMs`, a command still running then (a watch the server did not end) is
 * stopped and answers code -1, so that a script shows it instead of failing as a whole.
 */
export function etcdctl(
  target: EtcdctlTarget,
  args: readonly string[],
  options: { stdin?: string; endpoints?: readonly string[]; stopAfterMs?: number } = {},
): Promise<EtcdctlRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      etcdctlPath,
      [...commonFlags(target, options.endpoints ?? target.endpoints), ...args],
      { env: { ...process.env, ETCDCTL_API: "3" }, timeout: options.stopAfterMs ?? 30_000 },
      (error, stdout, stderr) => {
        if (error?.killed === true && options.stopAfterMs !== undefined) {
          resolve({ code: -1, stdout, error: `(still running after ${options.stopAfterMs} ms, stopped)` });
          return;
        }
        if (error !== null && typeof error.code !== "number") {
          reject(new Error(`etcdctl ${args.join(" ")}: ${error.message}`));
          return;
        }
        resolve({ code: error === null ? 0 : (error.code as number), stdout, error: errorLine(stderr) });
      },
    );
    // A command that does not read its input may exit before the write: EPIPE then is no failure.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.stdin ?? "");
  });
}

/** A background `etcdctl watch`, whose output so far can be read while it runs. */
export class EtcdctlWatch {
  output = "";
  readonly #child;
  readonly #exited: Promise<void>;

  constructor(target: EtcdctlTarget, args: readonly string[]) {
    this.#child = spawn(etcdctlPath, [...commonFlags(target, target.endpoints), "watch", ...args], {
      env: { ...process.env, ETCDCTL_API: "3" },
      stdio: ["ignore", "pipe", "ignore"],
    });
    this.#child.stdout.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.#exited = new Promise((resolve) => this.#child.once("close", () => resolve()));
  }

  async stop(): Promise<string> {
    this.#child.kill("SIGTERM");
    await this.#exited;
    return this.output;
  }
}
