// Child processes for benchmarks: spawned with their output in a log file, tracked, and stopped on
// exit, on SIGINT/SIGTERM and on an uncaught error. Only processes started here are ever signalled.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { sleep } from "./load.mjs";

const children = new Set();
const exitHooks = [];

function killAllNow() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  children.clear();
  for (const hook of exitHooks.splice(0)) {
    try {
      hook();
    } catch {
      // best effort on the way out
    }
  }
}

process.on("exit", killAllNow);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the processes this benchmark started`);
    killAllNow();
    process.exit(130);
  });
}

/** Runs `hook` (synchronous) when the process exits, however it exits. */
export function onExit(hook) {
  exitHooks.push(hook);
}

/** Spawns a tracked child whose stdout and stderr go to `logPath`; `env` adds to this process's environment. */
export function startProcess(command, args, logPath, env = undefined) {
  const fd = openSync(logPath, "a");
  const child = spawn(command, args, {
    stdio: ["ignore", fd, fd],
    ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
  });
  closeSync(fd);
  children.add(child);
  child.once("exit", () => children.delete(child));
  child.logPath = logPath;
  return child;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
export async function stopProcess(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** A port free on 127.0.0.1 right now. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Distinct free ports (held open together so none is handed out twice). */
export async function freePorts(n) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const server = createServer();
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
  }
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Polls `probe` until it returns something other than undefined. */
export async function waitFor(what, probe, { timeoutMs = 30_000, child } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`${what}: the process exited (log: ${child.logPath})`);
    }
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // keep polling
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Resident set size and its peak, in MiB, from /proc. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
}

const ticksPerSecond = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields after the command name start at field 3 (state); utime is field 14, stime 15.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return NaN;
  }
}

/** An HTTP call with a timeout; the body parsed as JSON when it is JSON. */
export async function http(url, { method = "GET", body, timeoutMs = 2000 } = {}) {
  const response = await fetch(url, { method, body, signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}

/** CPU seconds used so far by this process and every child it started (including idle ones). */
export function ourCpuSeconds() {
  const self = process.cpuUsage();
  let total = (self.user + self.system) / 1e6;
  for (const child of children) {
    const s = cpuSecondsOf(child.pid);
    if (Number.isFinite(s)) total += s;
  }
  return total;
}

/** Busy CPU seconds of the whole machine so far (all cores; idle and iowait excluded), from /proc/stat. */
export function machineBusySeconds() {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  void idle;
  void iowait;
  return (user + nice + system + irq + softirq + steal) / ticksPerSecond;
}

/** Core-equivalents busy with work that is not ours, averaged over `ms`. */
export async function foreignLoad(ms) {
  const busy0 = machineBusySeconds();
  const ours0 = ourCpuSeconds();
  await sleep(ms);
  return (machineBusySeconds() - busy0 - (ourCpuSeconds() - ours0)) / (ms / 1000);
}
