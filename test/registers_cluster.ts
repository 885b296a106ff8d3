import { join } from "node:path";
import { CliProcess, freePort, tempDir, until } from "./harness.js";

/*
 * A register service of real `raftkv serve --engine basic-paxos` processes on loopback ports, for
 * the process test and the fault run: start, SIGKILL, restart members, and talk to them over HTTP.
 */

export interface RegisterAnswer {
  readonly status: number;
  readonly body: { version?: number; value?: string | null; error?: string; message?: string };
}

export class RegisterCluster {
  readonly names: readonly string[];
  readonly #clientPorts = new Map<string, number>();
  readonly #processes = new Map<string, CliProcess>();
  readonly #flags: readonly string[];
  readonly #dir: { path: string; remove: () => Promise<void> };
  readonly #requestTimeoutMs: number;

  private constructor(
    names: string[],
    dir: { path: string; remove: () => Promise<void> },
    flags: string[],
    requestTimeoutMs: number,
  ) {
    this.names = names;
    this.#dir = dir;
    this.#flags = flags;
    this.#requestTimeoutMs = requestTimeoutMs;
  }

  /** Starts `size` members n1..n{size} and waits until each answers /healthz. */
  static async start(size: number, requestTimeoutMs = 3000): Promise<RegisterCluster> {
    const names = Array.from({ length: size }, (_, i) => `n${i + 1}`);
    const peers = await Promise.all(names.map(async (name) => `${name}=127.0.0.1:${await freePort()}`));
    const dir = await tempDir("raftkv-registers-");
    const cluster = new RegisterCluster(names, dir, ["--initial-cluster", peers.join(",")], requestTimeoutMs);
    for (const name of names) cluster.#clientPorts.set(name, await freePort());
    await Promise.all(names.map((name) => cluster.startMember(name)));
    return cluster;
  }

  get dataDir(): string {
    return this.#dir.path;
  }

  process(name: string): CliProcess | undefined {
    return this.#processes.get(name);
  }

  isUp(name: string): boolean {
    return this.#processes.get(name)?.running ?? false;
  }

  async startMember(name: string): Promise<void> {
    const cluster = this.#flags[1]!.split(",");
    const peer = cluster.find((p) => p.startsWith(`${name}=`))!.slice(name.length + 1);
    const member = new CliProcess([
      "serve",
      "--engine",
      "basic-paxos",
      "--id",
      name,
      "--data",
      join(this.#dir.path, name),
      "--listen-peer",
      peer,
      "--listen-client",
      `127.0.0.1:${this.#clientPorts.get(name)!}`,
      "--request-timeout-ms",
      String(this.#requestTimeoutMs),
      ...this.#flags,
    ]);
    this.#processes.set(name, member);
    await until(`${name} to serve`, async () => {
      if (!member.running) throw new Error(`${name} exited: ${member.stdout}${member.stderr}`);
      return (await this.status(name)) === 200 ? true : undefined;
    });
  }

  /** SIGKILL: no clean stop, whatever was not fdatasynced is lost. */
  async kill(name: string): Promise<void> {
    await this.#processes.get(name)?.stop("SIGKILL");
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#processes.values()].map((p) => p.stop()));
    await this.#dir.remove();
  }

  async read(name: string, register: string): Promise<RegisterAnswer> {
    return this.#call(name, "GET", register, undefined);
  }

  /** Compare-and-set from `expected` (0: write-once). */
  async cas(name: string, register: string, expected: number, value: string): Promise<RegisterAnswer> {
    return this.#call(name, "PUT", `${register}?expected=${expected}`, value);
  }

  /** A raw request to the member's client port. */
  async fetch(name: string, path: string, init?: RequestInit): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.#clientPorts.get(name)!}${path}`, {
      ...init,
      signal: AbortSignal.timeout(this.#requestTimeoutMs + 5000),
    });
  }

  async #call(name: string, method: string, path: string, body: string | undefined): Promise<RegisterAnswer> {
    const response = await this.fetch(
      name,
      `/v1/registers/${path}`,
      body === undefined ? { method } : { method, body },
    );
    return { status: response.status, body: (await response.json()) as RegisterAnswer["body"] };
  }

  async status(name: string): Promise<number> {
    return (await this.fetch(name, "/healthz")).status;
  }
}
