/**
 * Process-level test helpers: real `raftkv serve` processes on loopback ports, polled with
 * deadlines (never fixed sleeps as assertions).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect as netConnect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { RaftkvClient, type RaftkvClientOptions } from "raftkv/client";

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

// ---------------------------------------------------------------------------------------------
// Helpers for the process-level suites (cluster, single node, bad input).

/** Rejects with a clear message when `promise` has not settled within `timeoutMs`. */
export async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The environment without RAFTKV_* variables, so a child runs on the documented defaults. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("RAFTKV_")) env[name] = value;
  return env;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** One `raftkv …` child process with its output captured. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<Exit>;

  constructor(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.child = spawn(process.execPath, [cliPath, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      cwd: options.cwd ?? process.cwd(),
      env: options.env ?? cleanEnv(),
    });
    this.child.stdout!.on("data", (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.once("close", (code, signal) => resolve({ code, signal, stdout: this.stdout, stderr: this.stderr })),
    );
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` (if still running) and waits for the exit, SIGKILLing after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15_000): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    try {
      return await withDeadline(this.exited, timeoutMs, `the process to exit after ${signal}`);
    } catch (error) {
      this.child.kill("SIGKILL");
      await this.exited;
      throw error;
    }
  }

  /** Waits for the process to exit on its own; SIGKILLs it and fails after `timeoutMs`. */
  async exit(timeoutMs = 15_000): Promise<Exit> {
    try {
      return await withDeadline(this.exited, timeoutMs, `raftkv to exit (output so far: ${JSON.stringify(this.stdout + this.stderr)})`);
    } catch (error) {
      this.child.kill("SIGKILL");
      await this.exited;
      throw error;
    }
  }
}

/** Runs `raftkv …` to completion. */
export function runCli(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Exit> {
  return new CliProcess(args, options).exit(options.timeoutMs);
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

/**
 * One HTTP request with node:http, the path sent exactly as given (fetch would normalise "." and
 * ".." segments and re-encode some bytes). An answer that arrives before the body is fully sent
 * (an early 413) is still returned.
 */
export function rawRequest(
  addr: string,
  method: string,
  path: string,
  body?: string | Uint8Array,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<RawAnswer> {
  const colon = addr.lastIndexOf(":");
  return new Promise((resolve, reject) => {
    const bytes = body === undefined ? undefined : typeof body === "string" ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const req = httpRequest(
      {
        host: addr.slice(0, colon),
        port: Number(addr.slice(colon + 1)),
        method,
        path,
        agent: false,
        headers: { ...(bytes === undefined || "transfer-encoding" in headers ? {} : { "content-length": String(bytes.byteLength) }), ...headers },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const all = Buffer.concat(chunks);
          let json: unknown = undefined;
          try {
            json = JSON.parse(all.toString("utf8"));
          } catch {
            // Not JSON: raw bytes, metrics text or the page.
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, json });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(bytes);
  });
}

/**
 * Opens a TCP connection, writes `chunks`, half-closes and waits (bounded) for the peer to close.
 * Resets and refusals to read the rest are fine: the point is that the server survives.
 */
export async function sendTcp(addr: string, chunks: readonly Uint8Array[], timeoutMs = 5_000): Promise<void> {
  const colon = addr.lastIndexOf(":");
  await new Promise<void>((resolve) => {
    const socket = netConnect({ host: addr.slice(0, colon), port: Number(addr.slice(colon + 1)) });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on("data", () => undefined);
    socket.on("connect", () => {
      for (const chunk of chunks) socket.write(chunk);
      socket.end();
    });
  });
}

/** Fails (rather than skips) when a fixed port this machine needs is taken. */
export async function assertPortFree(port: number, host = "127.0.0.1"): Promise<void> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, resolve);
    });
  } catch (error) {
    throw new Error(
      `port ${host}:${port} is already in use on this machine (${(error as NodeJS.ErrnoException).code ?? String(error)}); ` +
        "this test runs `raftkv serve` on its default ports 7001/8001 — stop whatever holds them (a running `npm start`?) and rerun",
    );
  }
  await new Promise((resolve) => server.close(resolve));
}

/** A typed client over every member of the cluster. */
export function clusterClient(cluster: ProcessCluster, options: Omit<RaftkvClientOptions, "endpoints"> = {}): RaftkvClient {
  return new RaftkvClient({ endpoints: cluster.members.map((m) => m.clientAddr), ...options });
}

/**
 * One HTTP/1.1 request over a bare socket, for a body the server may refuse before reading it all
 * (an early 413): sending stops at the first write error, and the answer is whatever the server
 * said before closing. node:http would report the EPIPE and lose the answer.
 */
export async function rawExchange(
  addr: string,
  method: string,
  path: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<RawAnswer> {
  const colon = addr.lastIndexOf(":");
  const chunked = Object.keys(headers).some((h) => h.toLowerCase() === "transfer-encoding");
  const head =
    `${method} ${path} HTTP/1.1\r\nHost: ${addr}\r\n` +
    (chunked ? "" : `Content-Length: ${body.byteLength}\r\n`) +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join("") +
    "\r\n";
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: addr.slice(0, colon), port: Number(addr.slice(colon + 1)) });
    const timer = setTimeout(() => socket.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const received: Buffer[] = [];
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      const all = Buffer.concat(received);
      const end = all.indexOf("\r\n\r\n");
      if (end === -1) {
        if (error === undefined) return;
        settled = true;
        clearTimeout(timer);
        reject(new Error(`${method} ${path}: no complete answer (${error.message}); got ${JSON.stringify(all.toString("latin1").slice(0, 200))}`));
        return;
      }
      const lines = all.subarray(0, end).toString("latin1").split("\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
      const parsed: IncomingHttpHeaders = {};
      for (const line of lines.slice(1)) {
        const colonAt = line.indexOf(":");
        if (colonAt > 0) parsed[line.slice(0, colonAt).trim().toLowerCase()] = line.slice(colonAt + 1).trim();
      }
      if (status === 100) {
        received.splice(0, received.length, all.subarray(end + 4));
        finish(error);
        return;
      }
      const length = Number(parsed["content-length"] ?? Number.NaN);
      const payload = all.subarray(end + 4);
      if (Number.isNaN(length) ? error === undefined : payload.byteLength < length && error === undefined) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const bytes = Number.isNaN(length) ? payload : payload.subarray(0, length);
      let json: unknown = undefined;
      try {
        json = JSON.parse(bytes.toString("utf8"));
      } catch {
        // Not JSON.
      }
      resolve({ status, headers: parsed, body: bytes, json });
    };
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk);
      finish();
    });
    socket.on("error", (error) => finish(error));
    socket.on("close", () => finish(new Error("connection closed")));
    socket.on("connect", async () => {
      const write = (data: Uint8Array | string): Promise<boolean> =>
        new Promise((done) => {
          if (socket.destroyed) return done(false);
          socket.write(data, (error) => done(error == null));
        });
      if (!(await write(head))) return;
      for (let at = 0; at < body.byteLength && !settled; at += 64 * 1024) {
        const piece = body.subarray(at, Math.min(body.byteLength, at + 64 * 1024));
        if (!(await write(chunked ? `${piece.byteLength.toString(16)}\r\n` : ""))) return;
        if (!(await write(piece))) return;
        if (chunked && !(await write("\r\n"))) return;
      }
      if (chunked && !settled) await write("0\r\n\r\n");
    });
  });
}
