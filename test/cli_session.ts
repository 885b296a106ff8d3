/**
 * `raftkv` client commands as child processes against one cluster: one-shot commands, and
 * long-running ones (watch, keepalive, elect) read while they run and stopped by a signal.
 */
import { CliProcess, runCli, until, type Exit, type ProcessCluster } from "./harness.js";

export class CliSession {
  /** --endpoints and --timeout for the cluster; they go right after the command's name. */
  readonly flags: readonly string[];
  readonly #running = new Set<CliProcess>();

  constructor(cluster: ProcessCluster) {
    this.flags = ["--endpoints", cluster.members.map((m) => m.clientAddr).join(","), "--timeout", "30s"];
  }

  /** Runs `raftkv NAME FLAGS ARGS...` (or, for a subcommand, `raftkv NAME SUB FLAGS ARGS...`) to its end. */
  run(words: readonly string[], args: readonly string[] = []): Promise<Exit> {
    return runCli([...words, ...this.flags, ...args], { timeoutMs: 60_000 });
  }

  /** Starts `raftkv NAME FLAGS ARGS...` and leaves it running. */
  start(words: readonly string[], args: readonly string[] = []): CliProcess {
    const p = new CliProcess([...words, ...this.flags, ...args]);
    this.#running.add(p);
    return p;
  }

  /** Waits until the process has printed something matching `pattern`; fails if it exits first. */
  async output(p: CliProcess, pattern: RegExp, what: string): Promise<void> {
    await until(what, () => (pattern.test(p.stdout) || !p.running ? true : undefined), 30_000);
    if (!pattern.test(p.stdout))
      throw new Error(`${what}: raftkv exited first: ${JSON.stringify(p.stdout + p.stderr)}`);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#running].map((p) => p.stop("SIGKILL")));
  }
}
