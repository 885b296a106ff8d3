// Three real `raftkv serve --engine <name>` members on loopback, on the CLI's defaults (fsync on,
// snapshots every 10,000 entries), with a byte-counting relay in front of each peer port. Basic
// Paxos serves registers and has no leader: its "leader" here is the first running member (n1 while
// it runs), where the clients send their writes, and a write is a write-once register (docs/engines-compared.md).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePorts, http, startProcess, stopProcess, waitFor } from "../lib/procs.mjs";
import { byteProxy } from "./byte_proxy.mjs";
import { servesKv } from "./engines.mjs";

const cli = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const refusedEngine = /--engine must be/;

/**
 * Starts the cluster and waits for a leader that accepts a write. Resolves with undefined when
 * `raftkv serve` refuses the engine's name (not in this build).
 */
export async function startCluster(engine, dir) {
  const ports = await freePorts(9);
  const members = [0, 1, 2].map((i) => ({
    name: `n${i + 1}`,
    advertised: ports[3 * i],
    peerPort: ports[3 * i + 1],
    clientPort: ports[3 * i + 2],
    url: `http://127.0.0.1:${ports[3 * i + 2]}`,
    child: undefined,
    proxy: undefined,
    dataDir: join(dir, `${engine}-n${i + 1}`),
  }));
  const initial = members.map((m) => `${m.name}=127.0.0.1:${m.advertised}`).join(",");
  const cluster = { engine, kv: servesKv(engine), members, initial, dir };
  for (const m of members) m.proxy = await byteProxy(m.advertised, m.peerPort);
  for (const m of members) startMember(cluster, m);
  try {
    // A member that exits before any leads may have refused the engine's name; on a loaded machine
    // a process takes seconds even to print that.
    const outcome = await waitFor(
      `a ${engine} leader, or a member's exit`,
      async () => {
        if (members.some((m) => m.child.exitCode !== null)) return "exited";
        // Basic Paxos has no leader to wait for: every member answering will do.
        const ready = cluster.kv
          ? (await leaderOf(cluster)) !== undefined
          : (await Promise.all(members.map((m) => statusOf(m).catch(() => undefined)))).every(Boolean);
        return ready ? "leader" : undefined;
      },
      { timeoutMs: 60_000 },
    );
    if (outcome === "exited") {
      const refused = members.some((m) => refusedEngine.test(readFileSync(m.child.logPath, "utf8")));
      await stopCluster(cluster);
      if (refused) return undefined;
      throw new Error(`a ${engine} member exited at start (logs: ${members.map((m) => m.child.logPath).join(", ")})`);
    }
    await writableLeader(cluster);
    return cluster;
  } catch (error) {
    await stopCluster(cluster);
    throw error;
  }
}

export function startMember(cluster, m) {
  const args = [cli, "serve", "--engine", cluster.engine, "--id", m.name, "--data", m.dataDir];
  args.push("--listen-peer", `127.0.0.1:${m.peerPort}`, "--listen-client", `127.0.0.1:${m.clientPort}`);
  args.push("--initial-cluster", cluster.initial);
  m.child = startProcess(process.execPath, args, join(cluster.dir, `${cluster.engine}-${m.name}.log`));
}

export async function stopCluster(cluster) {
  await Promise.all(cluster.members.map((m) => (m.child === undefined ? undefined : stopProcess(m.child))));
  await Promise.all(cluster.members.map((m) => m.proxy?.close()));
}

/**
 * Per member, the leader changes it has seen (raftkv_server_leader_changes_seen_total), NaN where
 * it did not answer: a loaded machine starves members into elections, and this shows how often.
 */
export async function leaderChangesSeen(cluster) {
  if (!cluster.kv) return cluster.members.map(() => NaN);
  return Promise.all(
    cluster.members.map(async (m) => {
      const metrics = await http(`${m.url}/metrics`, { timeoutMs: 5000 }).catch(() => undefined);
      return Number(/^raftkv_server_leader_changes_seen_total (\d+)/m.exec(metrics?.text ?? "")?.[1] ?? NaN);
    }),
  );
}

export async function statusOf(m) {
  return (await http(`${m.url}/v1/status`, { timeoutMs: 1000 })).json;
}

const running = (m) => m.child !== undefined && m.child.exitCode === null && m.child.signalCode === null;

/** The member that says it leads, among the running ones, if any (Basic Paxos: none says so). */
export async function leaderOf(cluster) {
  for (const m of cluster.members.filter(running)) {
    const s = await statusOf(m).catch(() => undefined);
    if (s?.role === "leader") return m;
  }
  return undefined;
}

let writesNamed = 0;

/** A name no write of this process used before: a register is written once (again, it is a 409 conflict). */
export function freshName(prefix) {
  return `${prefix}-${process.pid}-${writesNamed++}`;
}

/** The path a write of `name` takes: a KV put, or a write-once register. */
export function writePath(cluster, name) {
  return cluster.kv ? `/v1/kv/${name}` : `/v1/registers/${name}`;
}

/** Whether `m` acknowledges a write now (KV: the same key each time; registers: a fresh one). */
async function writes(cluster, m) {
  const path = cluster.kv ? "/v1/kv/ready" : writePath(cluster, freshName("ready"));
  const put = await http(`${m.url}${path}`, { method: "PUT", body: "1" }).catch(() => undefined);
  return put?.status === 200;
}

/**
 * Waits for a leader that acknowledges a write; resolves with it. Basic Paxos has none: its
 * "leader" is the first running member, in name order, that acknowledges one.
 */
export function writableLeader(cluster, timeoutMs = 30_000) {
  return waitFor(
    `a ${cluster.engine} leader that accepts writes`,
    async () => {
      const candidates = cluster.kv ? [await leaderOf(cluster)] : cluster.members.filter(running);
      for (const m of candidates) if (m !== undefined && (await writes(cluster, m))) return m;
      return undefined;
    },
    { timeoutMs },
  );
}
