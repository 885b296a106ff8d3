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
import { RaftkvClient, RaftkvError, type RaftkvClientOptions } from "raftkv/client";
import { reachThrough, request, type ClientAccess } from "./member_http.js";

export { request, type ClientAccess };

export const cliPath = fileURLToPath(new URL("../cli/main.js", import.meta.url));

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? "" : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface Member {
  readonly name: string;
  /** The address the cluster knows this member by (--initial-cluster). */
  readonly peerAddr: string;
  /** Where the member listens for peers (--listen-peer): peerAddr, unless something sits in between. */
  readonly listenPeerAddr: string;
  readonly clientAddr: string;
  readonly dataDir: string;
  process: ChildProcess | undefined;
  output: string;
  /** Started with --join (a spare added at runtime) rather than bootstrapped with the cluster. */
  join: boolean;
}

export interface ProcessClusterOptions {
  /** Extra `raftkv serve` flags for every member (e.g. ["--snapshot-entries", "200"]). */
  readonly serveArgs?: readonly string[];
  /**
   * Give each member a private peer listen port besides the address the others know it by, so that
   * the caller can put something (a fault proxy) at that address and forward to the private port.
   */
  readonly privatePeerPorts?: boolean;
  /** Also hands every chunk of a member's output here (its in-memory output restarts with the process). */
  readonly onOutput?: (name: string, chunk: string) => void;
  /**
   * The members serve https and may need a token: request() (and so every helper here) reaches their
   * client addresses with this CA and, once set, this token.
   */
  readonly access?: ClientAccess;
}

/** A member as GET /v1/members and /v1/status list it. */
export interface MemberJson {
  readonly id: string;
  readonly peerAddr: string;
  readonly learner: boolean;
}

/** GET /v1/status. */
export interface StatusJson {
  readonly id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly members: MemberJson[];
}

/** A cluster of `raftkv serve` child processes sharing one temporary directory. */
export class ProcessCluster {
  readonly members: Member[];
  readonly dir: string;
  readonly #options: ProcessClusterOptions;
  readonly #ports = new Set<number>();

  private constructor(dir: string, members: Member[], options: ProcessClusterOptions) {
    this.dir = dir;
    this.members = members;
    this.#options = options;
  }

  static async start(size: number, options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const cluster = await ProcessCluster.create(size, options);
    try {
      for (const m of cluster.members) cluster.startMember(m.name);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Allocates the members' ports and directories without starting any process. */
  static async create(size: number, options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const dir = await mkdtemp(join(tmpdir(), "raftkv-proc-"));
    const cluster = new ProcessCluster(dir, [], options);
    try {
      for (let k = 1; k <= size; k++) await cluster.#newMember(`n${k}`, false);
    } catch (error) {
      // Nothing may outlive a failed start: neither processes nor the directory.
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** A free port not handed out to this cluster before: the kernel may offer a just-closed one again. */
  async #port(): Promise<number> {
    for (;;) {
      const port = await freePort();
      if (this.#ports.has(port)) continue;
      this.#ports.add(port);
      return port;
    }
  }

  async #newMember(name: string, joins: boolean): Promise<Member> {
    if (this.members.some((m) => m.name === name)) throw new Error(`${name} exists already`);
    const peerAddr = `127.0.0.1:${await this.#port()}`;
    const m: Member = {
      name,
      peerAddr,
      listenPeerAddr: this.#options.privatePeerPorts === true ? `127.0.0.1:${await this.#port()}` : peerAddr,
      clientAddr: `127.0.0.1:${await this.#port()}`,
      dataDir: join(this.dir, name),
      process: undefined,
      output: "",
      join: joins,
    };
    this.members.push(m);
    if (this.#options.access !== undefined) reachThrough(m.clientAddr, this.#options.access);
    return m;
  }

  /**
   * Starts a spare: `raftkv serve --join` on fresh ports and a fresh data dir, told of `existing`
   * (the configuration it will join) and itself. It waits to be added; the caller adds it.
   */
  async startSpare(name: string, existing: readonly Member[]): Promise<Member> {
    const m = await this.#newMember(name, true);
    this.startMember(name, existing);
    return m;
  }

  /** Allocates a spare's ports and data dir without starting it (a member that never answers). */
  async reserveSpare(name: string): Promise<Member> {
    return this.#newMember(name, true);
  }

  member(name: string): Member {
    const m = this.members.find((x) => x.name === name);
    if (m === undefined) throw new Error(`no member ${name}`);
    return m;
  }

  /** Starts (or restarts) a member; a spare is told of `existing` and itself in --initial-cluster. */
  startMember(name: string, existing?: readonly Member[]): void {
    const m = this.member(name);
    const named = m.join
      ? [...(existing ?? this.members.filter((x) => !x.join)).filter((x) => x !== m), m]
      : this.members.filter((x) => !x.join);
    const cluster = named.map((x) => `${x.name}=${x.peerAddr}`).join(",");
    const child = spawn(
      process.execPath,
      [
        cliPath,
        "serve",
        "--id",
        m.name,
        "--data",
        m.dataDir,
        "--listen-peer",
        m.listenPeerAddr,
        "--listen-client",
        m.clientAddr,
        "--initial-cluster",
        cluster,
        ...(m.join ? ["--join"] : []),
        ...(this.#options.serveArgs ?? []),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    m.output = "";
    const onOutput = this.#options.onOutput;
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString();
      m.output += text;
      onOutput?.(m.name, text);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
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

  /** The member every running member of `among` (default: every running member) agrees leads. */
  async leader(timeoutMs = 15_000, among?: readonly Member[]): Promise<Member> {
    return until(
      "an agreed leader",
      async () => {
        const running = (among ?? this.members).filter((m) => m.process !== undefined);
        const statuses = await Promise.all(running.map((m) => getJson(m.clientAddr, "/v1/status")));
        const leaders = new Set(statuses.map((s) => (s.body as { leader: string | null }).leader));
        const [leader] = [...leaders];
        return leaders.size === 1 && typeof leader === "string" ? this.member(leader) : undefined;
      },
      timeoutMs,
    );
  }
}

/** One node's GET /v1/status (fails on anything but 200). */
export async function statusOf(m: Member): Promise<StatusJson> {
  const r = await getJson(m.clientAddr, "/v1/status");
  if (r.status !== 200) throw new Error(`GET /v1/status on ${m.name}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as unknown as StatusJson;
}

/** One node's GET /v1/members, sorted by id (fails on anything but 200). */
export async function membersOf(m: Member): Promise<MemberJson[]> {
  const r = await getJson(m.clientAddr, "/v1/members");
  if (r.status !== 200) throw new Error(`GET /v1/members on ${m.name}: ${r.status} ${JSON.stringify(r.body)}`);
  return sortMembers(r.body.members as MemberJson[]);
}

export function sortMembers(members: readonly MemberJson[]): MemberJson[] {
  return members
    .map((x) => ({ id: x.id, peerAddr: x.peerAddr, learner: x.learner }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The member list a configuration of `voters` and `learners` shows. */
export function expectedMembers(voters: readonly Member[], learners: readonly Member[] = []): MemberJson[] {
  return sortMembers([
    ...voters.map((m) => ({ id: m.name, peerAddr: m.peerAddr, learner: false })),
    ...learners.map((m) => ({ id: m.name, peerAddr: m.peerAddr, learner: true })),
  ]);
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

/**
 * The environment without RAFTKV_* variables, so a child runs on the documented defaults; except
 * RAFTKV_ENGINE, which runs a whole test run on another consensus engine (docs/engines.md).
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith("RAFTKV_") || name === "RAFTKV_ENGINE") env[name] = value;
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
      return await withDeadline(
        this.exited,
        timeoutMs,
        `raftkv to exit (output so far: ${JSON.stringify(this.stdout + this.stderr)})`,
      );
    } catch (error) {
      this.child.kill("SIGKILL");
      await this.exited;
      throw error;
    }
  }
}

/** Runs `raftkv …` to completion. */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Exit> {
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
    const bytes =
      body === undefined
        ? undefined
        : typeof body === "string"
          ? Buffer.from(body)
          : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const req = httpRequest(
      {
        host: addr.slice(0, colon),
        port: Number(addr.slice(colon + 1)),
        method,
        path,
        agent: false,
        headers: {
          ...(bytes === undefined || "transfer-encoding" in headers
            ? {}
            : { "content-length": String(bytes.byteLength) }),
          ...headers,
        },
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
export function clusterClient(
  cluster: ProcessCluster,
  options: Omit<RaftkvClientOptions, "endpoints"> = {},
): RaftkvClient {
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
    const timer = setTimeout(
      () => socket.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
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
        reject(
          new Error(
            `${method} ${path}: no complete answer (${error.message}); got ${JSON.stringify(all.toString("latin1").slice(0, 200))}`,
          ),
        );
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
    const send = async (): Promise<void> => {
      const write = (data: Uint8Array | string): Promise<boolean> =>
        new Promise((done) => {
          if (socket.destroyed) {
            done(false);
            return;
          }
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
    };
    socket.on("connect", () => void send());
  });
}

export interface Attempt {
  readonly key: string;
  readonly value: string;
  /** ok = acknowledged (2xx); unknown = may or may not have been applied; failed = definitely not applied. */
  outcome: "ok" | "unknown" | "failed";
  readonly startedAt: number;
  endedAt: number;
}

/** A sequential writer: one put at a time, the i-th to `keyOf(i)`, each attempt recorded with its outcome. */
export class Writer {
  readonly attempts: Attempt[] = [];
  #stopping = false;
  readonly #done: Promise<void>;

  constructor(client: RaftkvClient, keyOf: (i: number) => string) {
    this.#done = (async () => {
      for (let i = 0; !this.#stopping; i++) {
        const attempt: Attempt = {
          key: keyOf(i),
          value: `v${i}`,
          outcome: "failed",
          startedAt: performance.now(),
          endedAt: 0,
        };
        this.attempts.push(attempt);
        try {
          await client.put(attempt.key, attempt.value);
          attempt.outcome = "ok";
        } catch (error) {
          if (!(error instanceof RaftkvError)) throw error;
          attempt.outcome = error.code === "unknown_outcome" ? "unknown" : "failed";
        }
        attempt.endedAt = performance.now();
      }
    })();
  }

  acknowledged(): Attempt[] {
    return this.attempts.filter((a) => a.outcome === "ok");
  }

  /** Resolves once at least `n` more writes than now have been acknowledged. */
  async progress(n: number, timeoutMs = 20_000): Promise<void> {
    const target = this.acknowledged().length + n;
    await until(
      `${n} more acknowledged writes`,
      () => (this.acknowledged().length >= target ? true : undefined),
      timeoutMs,
    );
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await withDeadline(this.#done, 30_000, "the writer loop to stop");
  }
}
