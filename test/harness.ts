/**
 * Process-level test helpers: real `raftkv serve` processes on loopback ports, polled with
 * deadlines (never fixed sleeps as assertions).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const cliPath = fileURLToPath(new URL("../cli/main.js", import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? "" : ` (last error: ${String(lastError)})`}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface Member {
  readonly name: string;
  readonly peerAddr: string;
  readonly clientAddr: string;
  readonly dataDir: string;
  process: ChildProcess | undefined;
  output: string;
}

/** A cluster of `raftkv serve` child processes sharing one temporary directory. */
export class ProcessCluster {
  readonly members: Member[];
  readonly dir: string;

  private constructor(dir: string, members: Member[]) {
    this.dir = dir;
    this.members = members;
  }

  static async start(size: number): Promise<ProcessCluster> {
    const dir = await mkdtemp(join(tmpdir(), "raftkv-proc-"));
    const members: Member[] = [];
    for (let k = 1; k <= size; k++) {
      members.push({
        name: `n${k}`,
        peerAddr: `127.0.0.1:${await freePort()}`,
        clientAddr: `127.0.0.1:${await freePort()}`,
        dataDir: join(dir, `n${k}`),
        process: undefined,
        output: "",
      });
    }
    const cluster = new ProcessCluster(dir, members);
    for (const m of members) cluster.startMember(m.name);
    return cluster;
  }

  member(name: string): Member {
    const m = this.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  startMember(name: string): void {
    const m = this.member(name);
    const cluster = this.members.map((x) => `${x.name}=${x.peerAddr}`).join(",");
    const child = spawn(
      process.execPath,
      [cliPath, "serve", "--id", m.name, "--data", m.dataDir, "--listen-peer", m.peerAddr, "--listen-client", m.clientAddr, "--initial-cluster", cluster],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    m.output = "";
    child.stdout.on("data", (chunk: Buffer) => (m.output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (m.output += chunk.toString()));
    m.process = child;
  }

  /** Kills a member; `signal` SIGKILL simulates a crash, SIGTERM a clean stop. Resolves with its exit code. */
  async stopMember(name: string, signal: NodeJS.Signals): Promise<number | null> {
    const m = this.member(name);
    const child = m.process;
    if (child === undefined) return null;
    m.process = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill(signal);
    return exited;
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.stopMember(m.name, "SIGKILL")));
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The member every running member agrees leads. */
  async leader(timeoutMs = 15_000): Promise<Member> {
    return until(
      "an agreed leader",
      async () => {
        const running = this.members.filter((m) => m.process !== undefined);
        const statuses = await Promise.all(running.map((m) => getJson(m.clientAddr, "/v1/status")));
        const leaders = new Set(statuses.map((s) => (s.body as { leader: string | null }).leader));
        const [leader] = [...leaders];
        return leaders.size === 1 && typeof leader === "string" ? this.member(leader) : undefined;
      },
      timeoutMs,
    );
  }
}

export async function request(addr: string, method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown; text: string }> {
  const response = await fetch(`http://${addr}${path}`, { method, headers, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (raw values, metrics, the page): the text is there.
  }
  return { status: response.status, body: parsed, text };
}

export async function getJson(addr: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await request(addr, "GET", path);
  return { status: r.status, body: r.body as Record<string, unknown> };
}
