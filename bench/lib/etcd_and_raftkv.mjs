// The three systems bench/etcd.mjs compares, started on loopback and stopped by bench/lib/procs.mjs:
// a 3-member etcd (Debian's etcd-server, installed if missing; durable, otherwise on its defaults), a
// 3-member raftkv (fsync on), and a bare in-memory node:http KV (bench/bare-kv.mjs: no Raft, no
// disk) as the ceiling of HTTP on this machine. Each is { name, members, url, leader(), check(key) }
// and, for the two databases, the leader's fsync counters from its /metrics.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePorts, http, startProcess, waitFor } from "./procs.mjs";

const cliPath = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const barePath = fileURLToPath(new URL("../bare-kv.mjs", import.meta.url));
const b64 = (s) => Buffer.from(s).toString("base64");

function ensureEtcd(etcdBin) {
  if (etcdBin !== undefined) return etcdBin;
  const found = spawnSync("sh", ["-c", "command -v etcd"], { encoding: "utf8" });
  if (found.status === 0) return found.stdout.trim();
  console.log("etcd is missing: apt-get install -y etcd-server");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  let r = spawnSync("apt-get", ["install", "-y", "etcd-server"], { stdio: "inherit", env });
  if (r.status !== 0) {
    spawnSync("apt-get", ["update"], { stdio: "inherit", env });
    r = spawnSync("apt-get", ["install", "-y", "etcd-server"], { stdio: "inherit", env });
  }
  if (r.status !== 0 || !existsSync("/usr/bin/etcd"))
    throw new Error("could not install etcd-server (run as root, or pass --etcd-bin)");
  return "/usr/bin/etcd";
}

function etcdArgs(dir, m, cluster) {
  const clientUrl = `http://127.0.0.1:${m.client.port}`;
  const peerUrl = `http://127.0.0.1:${m.peerPort}`;
  return [
    ["--name", m.name],
    ["--data-dir", join(dir, m.name)],
    ["--listen-client-urls", clientUrl],
    ["--advertise-client-urls", clientUrl],
    ["--listen-peer-urls", peerUrl],
    ["--initial-advertise-peer-urls", peerUrl],
    ["--initial-cluster", cluster],
    ["--initial-cluster-state", "new"],
    ["--initial-cluster-token", "raftkv-bench"],
  ].flat();
}

/** `etcdBin`: the etcd binary to run (found on PATH, or installed, when undefined). */
export async function startEtcd(dir, etcdBin) {
  const bin = ensureEtcd(etcdBin);
  const version = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];
  const ports = await freePorts(6);
  const members = [0, 1, 2].map((k) => ({
    name: `e${k + 1}`,
    peerPort: ports[2 * k],
    client: { host: "127.0.0.1", port: ports[2 * k + 1] },
  }));
  const cluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peerPort}`).join(",");
  for (const m of members) m.child = startProcess(bin, etcdArgs(dir, m, cluster), join(dir, `${m.name}.log`));
  const url = (m, path) => `http://127.0.0.1:${m.client.port}${path}`;
  await waitFor(
    "etcd to accept a write",
    async () =>
      (
        await http(url(members[0], "/v3/kv/put"), {
          method: "POST",
          body: JSON.stringify({ key: b64("ready"), value: b64("1") }),
        })
      ).status === 200
        ? true
        : undefined,
    { child: members[0].child },
  );
  return {
    name: "etcd",
    version,
    members,
    url,
    async leader() {
      for (const m of members) {
        const s = (await http(url(m, "/v3/maintenance/status"), { method: "POST", body: "{}" })).json;
        if (s?.leader !== undefined && s.leader === s.header?.member_id) return m;
      }
      throw new Error("etcd has no leader");
    },
    metricsPath: "/metrics",
    fsyncCounters: (text) => ({
      fsyncs: metric(text, "etcd_disk_wal_fsync_duration_seconds_count"),
      fsyncSeconds: metric(text, "etcd_disk_wal_fsync_duration_seconds_sum"),
      entries: metric(text, "etcd_server_proposals_committed_total"),
    }),
    async check(key) {
      const r = await http(url(members[0], "/v3/kv/range"), {
        method: "POST",
        body: JSON.stringify({ key: b64(key) }),
      });
      return r.status === 200 && r.json?.kvs?.length === 1;
    },
  };
}

/** `env`: added to the members' environment (e.g. RAFTKV_TRACE_WRITES); `cli`: another build's entry point. */
export async function startRaftkv(dir, env = undefined, cli = cliPath) {
  const ports = await freePorts(6);
  const members = [0, 1, 2].map((k) => ({
    name: `n${k + 1}`,
    peerPort: ports[2 * k],
    client: { host: "127.0.0.1", port: ports[2 * k + 1] },
  }));
  const cluster = members.map((m) => `${m.name}=127.0.0.1:${m.peerPort}`).join(",");
  for (const m of members) {
    m.child = startProcess(
      process.execPath,
      [
        cli,
        "serve",
        "--id",
        m.name,
        "--data",
        join(dir, m.name),
        "--listen-peer",
        `127.0.0.1:${m.peerPort}`,
        "--listen-client",
        `127.0.0.1:${m.client.port}`,
        "--initial-cluster",
        cluster,
      ],
      join(dir, `${m.name}.log`),
      env,
    );
  }
  const url = (m, path) => `http://127.0.0.1:${m.client.port}${path}`;
  const leader = async () => {
    for (const m of members) {
      const s = (await http(url(m, "/v1/status"))).json;
      if (s?.role === "leader") return members.find((x) => x.name === s.id);
    }
    throw new Error("raftkv has no leader");
  };
  await waitFor("raftkv to elect a leader", leader, { child: members[0].child });
  await waitFor("raftkv to accept a write", async () =>
    (await http(url(members[0], "/v1/kv/ready"), { method: "PUT", body: "1" })).status === 200 ? true : undefined,
  );
  return {
    name: "raftkv",
    members,
    url,
    leader,
    metricsPath: "/metrics",
    fsyncCounters: (text) => ({
      fsyncs: metric(text, "raftkv_disk_wal_fsync_duration_seconds_count"),
      fsyncSeconds: metric(text, "raftkv_disk_wal_fsync_duration_seconds_sum"),
      entries: metric(text, "raftkv_disk_wal_entries_per_fsync_sum"),
    }),
    async check(key) {
      const r = await http(url(members[0], `/v1/kv/${key}`));
      return r.status === 200 && r.json?.key === key;
    },
  };
}

export async function startBare(dir) {
  const [port] = await freePorts(1);
  const member = { name: "bare", client: { host: "127.0.0.1", port } };
  member.child = startProcess(process.execPath, [barePath, String(port)], join(dir, "bare.log"));
  const url = (m, path) => `http://127.0.0.1:${m.client.port}${path}`;
  await waitFor(
    "the bare KV to listen",
    async () =>
      (await http(url(member, "/v1/kv/ready"), { method: "PUT", body: "1" })).status === 200 ? true : undefined,
    { child: member.child },
  );
  return {
    name: "bare",
    members: [member],
    url,
    leader: async () => member,
    async check(key) {
      return (await http(url(member, `/v1/kv/${key}`))).status === 200;
    },
  };
}

function metric(text, name) {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, "m").exec(text);
  return m === null ? NaN : Number(m[1]);
}
